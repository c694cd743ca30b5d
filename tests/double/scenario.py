"""Scenario knobs of the double: cluster shape, simulated delays, failure patterns (see tests/README.md)."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Delay = float | tuple[float, float] | list[float]


@dataclass
class Scenario:
    """Everything configurable about one simulated cluster. Delays are seconds; ranges are drawn seeded."""

    k8s_version: str = "v1.34.0"
    node_name: str = "minikube"
    cpus: int = 8
    memory_mb: int = 16384
    gpus: int = 0
    #: With gpus: simulate minikube's nvidia-device-plugin DaemonSet in kube-system; the node offers nvidia.com/gpu
    #: only while its pod is ready (delay it with ready_delays, break it with image_pull_backoff). False: the GPUs
    #: are on the node from the start.
    gpu_device_plugin: bool = True
    seed: int = 0
    #: How long an applied CRD takes to become Established (and its kinds to appear in discovery).
    crd_establish_delay: float = 0.2
    #: Time from a workload's (re)creation to its pods being Ready, as a value or a [low, high] range.
    ready_delay: Delay = (0.1, 0.4)
    #: Per-workload delays by fnmatch pattern over "namespace/name" (or "name"); the first match wins.
    ready_delays: dict[str, Delay] = field(default_factory=dict)
    #: Images (fnmatch patterns) whose pull fails: pods stay Pending with ErrImagePull / ImagePullBackOff, with Docker
    #: Hub's answer for a repository that does not exist (the message of a `deleted_images` entry without one).
    image_pull_backoff: list[str] = field(default_factory=list)
    #: Images the registries deleted: fnmatch pattern over the reference -> what the registry answers, as the docker
    #: daemon reports it after "Error response from daemon: " (`{ref}`, `{repo}` and `{tag}` are filled in), or a
    #: mapping with that `error` and its `source` (tests/data/deleted-images.yaml is such a scenario file). Pulls fail
    #: like `image_pull_backoff`, with these words (tests/double/images.py `pull_error`).
    deleted_images: dict[str, Any] = field(default_factory=dict)
    #: The node's container runtime, which words the kubelet's pull errors: minikube's default `docker` (cri-dockerd)
    #: or `containerd`.
    container_runtime: str = "docker"
    #: The kubelet's image pull back-off: the wait after the n-th failed pull is `pull_backoff × 2^(n-1)`, capped
    #: (kubelet.go: `flowcontrol.NewBackOff(backOffPeriod, MaxContainerBackOff)`, 10 s and 300 s).
    pull_backoff: float = 10.0
    pull_backoff_max: float = 300.0
    #: How long a container shows `ErrImagePull` after each failed pull before the kubelet's next sync shows
    #: `ImagePullBackOff` (on a real node: until the pod's next sync, seconds).
    pull_error_window: float = 0.2
    #: Image pull model: fnmatch pattern over the image reference -> pull duration (first match wins; drawn seeded once
    #: per image; no match: 0 s). A pod starts only once all its images are on the node; the kubelet pulls missing
    #: ones (one at a time with serialize_image_pulls). Empty: no pull model (pods start after their ready delay).
    image_pull_delays: dict[str, Delay] = field(default_factory=dict)
    #: The kubelet's `serializeImagePulls` (true by default, as minikube leaves it): one kubelet pull at a time.
    serialize_image_pulls: bool = True
    #: The node's one download link, bytes per second, shared by every image download on the node (0: off, pulls
    #: take their `image_pull_delays`). On, a pull is: its `image_pull_delays` entry as a fixed latency (manifest and
    #: token round-trips, not on the link), then its `image_sizes` bytes over the link, then extraction. The link is
    #: divided equally among the layer downloads in flight (TCP's per-connection fairness), each capped at
    #: `image_stream_bandwidth` if set (tests/double/images.py `SharedLink`).
    image_link_bandwidth: float = 0.0
    #: Compressed size in bytes of an image, by fnmatch pattern over the reference (first match; no match: 0).
    image_sizes: dict[str, float] = field(default_factory=dict)
    #: Layers of an image, by fnmatch pattern (first match; no match: 1). A pull downloads up to that many at once.
    image_layers: dict[str, int] = field(default_factory=dict)
    #: Layer downloads the container runtime runs at once, over all pulls: dockerd's `max-concurrent-downloads`,
    #: default 3 (moby daemon/config `DefaultMaxConcurrentDownloads`; one LayerDownloadManager per daemon).
    max_concurrent_downloads: int = 3
    #: Per-connection cap in bytes per second (0: one connection can fill the link).
    image_stream_bandwidth: float = 0.0
    #: Extraction speed, compressed bytes per second, after an image's download (0: instant). Extractions of
    #: different images run side by side; the kubelet's serial puller waits for its image's extraction too.
    image_extract_rate: float = 0.0
    #: Images (fnmatch patterns) whose containers crash: Running, not ready, CrashLoopBackOff, restarts growing.
    crash_loop: list[str] = field(default_factory=list)
    #: Runtime dependencies: fnmatch pattern over a workload's "namespace/name" (or "name"; the first match wins) ->
    #: "namespace/name" patterns of the Deployments/StatefulSets/DaemonSets its pods need ready. A pod started while a
    #: need is missing or not ready crash-loops (kubelet back-off below) and is ready from the first attempt that
    #: finds them all ready. A pattern matching the workload itself is ignored.
    needs: dict[str, list[str]] = field(default_factory=dict)
    #: The kubelet's CrashLoopBackOff for `needs`: the wait after the second crash (the first restart is at
    #: once), doubled per restart, capped at the max (`backoff`).
    crash_backoff: float = 10.0
    crash_backoff_max: float = 300.0
    #: A workload controller's wait before it tries again to create a pod admission refused: `create_retry_base`
    #: doubled per consecutive refusal, capped (`create_retry`; controllers/pods.py has the source).
    create_retry_base: float = 0.005
    create_retry_max: float = 1000.0
    #: Namespaces take this long to terminate once deleted.
    namespace_terminate_delay: float = 0.2
    #: Objects with finalizers are released this long after deletion (stands in for their controllers).
    finalizer_delay: float = 0.2
    #: What `kubectl logs` returns for a started container, by fnmatch pattern over its image (first match wins;
    #: no match: an empty log). The double runs no commands, so a test says what the container "printed".
    pod_logs: dict[str, str] = field(default_factory=dict)
    #: Exit codes by fnmatch pattern over the image: a `restartPolicy: Never` pod whose container matches ends
    #: `Failed` with that code where it would have `Succeeded` (no match: exit code 0).
    pod_exit_codes: dict[str, int] = field(default_factory=dict)
    #: What the fake `mysqld` of a MySQL container holds for `kubectl exec ... mysqldump` (tests/double/podexec.py):
    #: fnmatch pattern over "NAMESPACE/CLAIM" of the volume at /var/lib/mysql -> {database: {table: [row, ...]}},
    #: each row a mapping of column to value (first match wins; no match: Pipelines' three databases, empty).
    mysql_databases: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = field(default_factory=dict)
    #: Jobs complete this long after their pod starts.
    job_complete_delay: float = 0.3
    #: PersistentVolumeClaims bind this long after creation.
    pvc_bind_delay: float = 0.05
    #: Kubeflow's profile controller makes a Profile's namespace and ServiceAccounts this long after it first sees
    #: the Profile (its reconcile; upstream sleeps 30 s for it: community-distribution
    #: tests/kubeflow_profile_install.sh).
    profile_reconcile_delay: float = 0.0
    #: The service-account issuer (minikube: --extra-config=apiserver.service-account-issuer=...).
    service_account_issuer: str = "https://kubernetes.default.svc.cluster.local"
    #: Serve /.well-known/openid-configuration (None: as the version does, i.e. from v1.20 on).
    openid_discovery: bool | None = None
    #: Seconds after which an unfinished rollout is ProgressDeadlineExceeded (None: the Deployment's own, 600).
    progress_deadline: float | None = None
    #: Webhook configurations annotated for cert-manager's CA injection fail with x509 errors until injected.
    ca_injection: bool = True
    #: Reject webhook-guarded objects while the webhook's service has no ready endpoints.
    webhooks: bool = True
    #: Serve aggregated discovery (None: as the configured version does, i.e. from v1.26 on).
    aggregated_discovery: bool | None = None
    #: Create kube-system's own workloads (coredns, etcd, kube-proxy...) like minikube does.
    system_pods: bool = True
    # Faults (also changeable at runtime).
    #: Fraction of API requests answered with `error_code` while active.
    error_rate: float = 0.0
    error_code: int = 503
    #: Regex over the request path restricting which requests may fail (None: all API requests).
    error_paths: str | None = None
    #: Seconds added to every API request.
    latency: float = 0.0

    @property
    def minor(self) -> int:
        m = re.match(r"v?(\d+)\.(\d+)", self.k8s_version)
        if not m:
            raise ValueError(f"bad Kubernetes version {self.k8s_version!r}")
        return int(m.group(2))

    def delay_for(self, namespace: str, name: str, rng: random.Random) -> float:
        """The ready delay of one workload: first matching pattern, else the default."""
        for pattern, value in self.ready_delays.items():
            if fnmatch.fnmatchcase(f"{namespace}/{name}", pattern) or fnmatch.fnmatchcase(name, pattern):
                return draw(value, rng)
        return draw(self.ready_delay, rng)

    def needs_for(self, namespace: str, name: str) -> list[str]:
        """The workload patterns a workload's pods need (first matching key), without those matching itself."""
        own = f"{namespace}/{name}"
        for pattern, needed in self.needs.items():
            if fnmatch.fnmatchcase(own, pattern) or fnmatch.fnmatchcase(name, pattern):
                return [p for p in needed if not fnmatch.fnmatchcase(own, p)]
        return []

    def backoff(self, restarts: int) -> float:
        """The kubelet's wait before the next start after `restarts` crashes: none after the first, then doubling
        from crash_backoff, capped.

        kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go `doBackOff`: a container that exited
        is held back while `backOff.IsInBackOffSince(key, finishedAt)`, i.e. while less than the entry's back-off
        has passed since it finished; otherwise it is started and `backOff.Next(key, finishedAt)` moves the entry
        on. After the first crash there is no entry yet (client-go util/flowcontrol/backoff.go: `Next` creates it
        with the initial duration), so the first restart is immediate and the initial 10 s (pkg/kubelet/kubelet.go
        `backOffPeriod`) is the wait after the second crash, doubling up to `MaxContainerBackOff` (300 s). The key
        (`GetStableKey`) holds the pod's UID: a new pod starts with no back-off.
        """
        if restarts <= 1:
            return 0.0
        return min(self.crash_backoff * 2.0 ** min(restarts - 2, 64), self.crash_backoff_max)

    def create_retry(self, failures: int) -> float:
        """The wait after the `failures`-th consecutive refused pod create: client-go util/workqueue
        default_rate_limiters.go `ItemExponentialFailureRateLimiter.When`, `baseDelay * 2^(failures-1)`, capped."""
        return min(self.create_retry_base * 2.0 ** min(failures - 1, 64), self.create_retry_max)

    @property
    def pull_model(self) -> bool:
        """Whether pods wait for their images to be pulled (by time, or by bytes over the shared link)."""
        return bool(self.image_pull_delays) or self.image_link_bandwidth > 0

    def image_fails(self, image: str) -> bool:
        return self.deleted_image_error(image) is not None or any(
            fnmatch.fnmatchcase(image, p) for p in self.image_pull_backoff
        )

    def deleted_image_error(self, image: str) -> str | None:
        """The registry's answer for a deleted image (the `deleted_images` entry's words), None if not deleted."""
        for pattern, value in self.deleted_images.items():
            if fnmatch.fnmatchcase(image, pattern):
                return str(value.get("error") or "") if isinstance(value, dict) else str(value or "")
        return None

    def pull_backoff_after(self, failures: int) -> float:
        """The kubelet's image back-off after `failures` failed pulls: doubling from pull_backoff, capped."""
        return min(self.pull_backoff * 2.0 ** min(max(failures - 1, 0), 64), self.pull_backoff_max)

    def image_crashes(self, image: str) -> bool:
        return any(fnmatch.fnmatchcase(image, p) for p in self.crash_loop)

    def exit_code_for(self, image: str) -> int:
        return next(
            (int(code) for pattern, code in self.pod_exit_codes.items() if fnmatch.fnmatchcase(image, pattern)), 0
        )

    def log_for(self, image: str) -> str:
        return next((text for pattern, text in self.pod_logs.items() if fnmatch.fnmatchcase(image, pattern)), "")

    def update(self, **knobs: Any) -> None:
        names = {f.name for f in dataclasses.fields(self)}
        for key, value in knobs.items():
            if key not in names:
                raise KeyError(f"unknown scenario knob {key!r} (known: {', '.join(sorted(names))})")
            if key == "k8s_version" and not str(value).startswith("v"):
                value = f"v{value}"  # minikube accepts 1.19.3 and v1.19.3; the apiserver reports v1.19.3
            setattr(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def draw(value: Delay, rng: random.Random) -> float:
    if isinstance(value, (list, tuple)):
        low, high = float(value[0]), float(value[1])
        return rng.uniform(low, high)
    return float(value)


def load_scenario(path: Path) -> dict[str, Any]:
    """Knobs from a YAML or JSON file (a mapping of knob names to values)."""
    text = path.read_text()
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario is a mapping of knobs")
    return data
