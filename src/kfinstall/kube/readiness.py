"""Is an object ready, and if a pod is not, why? Pure functions over the JSON that `kubectl get -o json` returns.

`up` uses them to wait for what it applied and `status` to explain what is broken. Evaluating readiness here,
rather than with `kubectl wait`, works the same against every cluster version (`kubectl wait --for=jsonpath`
needs kubectl 1.23+), needs one list call for a whole component, and tells us *which* object is not ready.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

#: Kinds whose readiness `up` waits for.
WAITED_KINDS = ("CustomResourceDefinition", "Deployment", "StatefulSet", "DaemonSet")


def _condition(obj: Obj, kind: str) -> Obj | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def _condition_true(obj: Obj, kind: str) -> bool:
    condition = _condition(obj, kind)
    return condition is not None and condition.get("status") == "True"


def _observed(obj: Obj) -> bool:
    """The controller has seen the latest spec (otherwise its status describes an older version)."""
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    return generation is None or (observed is not None and observed >= generation)


@dataclass(frozen=True)
class Readiness:
    """`ready` plus `ready_count`/`wanted` for progress (e.g. replicas 1/2), and a short `detail` when not ready."""

    ready: bool
    ready_count: int = 0
    wanted: int = 1
    detail: str = ""


def readiness(obj: Obj) -> Readiness:
    """How ready one CRD or workload is; other kinds count as ready once they exist."""
    kind = obj.get("kind")
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    if kind == "CustomResourceDefinition":
        established = _condition_true(obj, "Established")
        return Readiness(established, int(established), 1, "" if established else "not established")
    if kind == "Deployment":
        wanted = spec.get("replicas", 1)
        ready_count = min(status.get("availableReplicas", 0) or 0, status.get("updatedReplicas", 0) or 0)
        available = _condition_true(obj, "Available")
        ok = _observed(obj) and ready_count >= wanted and (available or wanted == 0)
        return Readiness(ok, ready_count, wanted, "" if ok else f"{ready_count}/{wanted} replicas available")
    if kind == "StatefulSet":
        wanted = spec.get("replicas", 1)
        ready_count = status.get("readyReplicas", 0) or 0
        ok = _observed(obj) and ready_count >= wanted
        return Readiness(ok, ready_count, wanted, "" if ok else f"{ready_count}/{wanted} replicas ready")
    if kind == "DaemonSet":
        wanted = status.get("desiredNumberScheduled", 0) or 0
        ready_count = status.get("numberReady", 0) or 0
        ok = _observed(obj) and ready_count >= wanted and "desiredNumberScheduled" in status
        return Readiness(ok, ready_count, wanted, "" if ok else f"{ready_count}/{wanted} pods ready")
    return Readiness(True)


def endpoints_ready(endpoints: Obj) -> bool:
    """A Service's Endpoints object has at least one ready address (what a webhook call needs)."""
    return any(subset.get("addresses") for subset in endpoints.get("subsets") or [])


def pod_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Succeeded" or _condition_true(pod, "Ready")


#: A Go `time.Duration` as `String()` prints it: `300ms`, `10s`, `2m40s`, `1h2m5s`.
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
#: The kubelet's CrashLoopBackOff message: kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go
#: `doBackOff`, `back-off %s restarting failed container=%s pod=%s` with the current back-off `backOff.Get(key)`.
_BACK_OFF = re.compile(r"back-off (\S+) restarting failed container")


def go_seconds(text: str) -> float | None:
    """Seconds of a Go duration string (None: not one)."""
    parts = _GO_DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _GO_UNITS[unit] for number, unit in parts)


def rfc3339_seconds(text: str | None) -> float | None:
    """A Kubernetes timestamp (`2026-12-02T05:11:16Z`) as seconds since the epoch (None: missing or malformed)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp() if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CrashBackOff:
    """A pod's containers held back by the kubelet's CrashLoopBackOff: when the last of them crashed (epoch
    seconds, as the API server's whole-second timestamps say it), and when the kubelet starts them again."""

    crashed_at: float
    restart_at: float


def crash_back_off(pod: Obj) -> CrashBackOff | None:
    """The pod's CrashLoopBackOff, or None when no container of it waits in one (or its status says too little).

    The kubelet holds a container back while less than its current back-off has passed since the container
    finished (`doBackOff`: `IsInBackOffSince(key, finishedAt)`), and says the back-off in the waiting message;
    the finish time is the container's `lastState.terminated.finishedAt`.
    """
    crashed, restart = [], []
    for container in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") != "CrashLoopBackOff":
            continue
        match = _BACK_OFF.search(waiting.get("message") or "")
        backoff = go_seconds(match.group(1)) if match else None
        finished = rfc3339_seconds(((container.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if backoff is None or finished is None:
            return None
        crashed.append(finished)
        restart.append(finished + backoff)
    return CrashBackOff(max(crashed), max(restart)) if crashed else None


@dataclass(frozen=True)
class PodProblem:
    """Why one pod is not ready, in the words a human needs, with a one-line hint."""

    namespace: str
    pod: str
    reason: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.pod}: {self.reason}: {self.message}" if self.message else self.reason


_WAITING_HINTS = {
    "ImagePullBackOff": "the image cannot be pulled: check the network, or Docker Hub's rate limit "
    "(`kfinstall images pull` pulls them again)",
    "ErrImagePull": "the image cannot be pulled: check the network, or Docker Hub's rate limit",
    "CrashLoopBackOff": "the container keeps crashing: read its log with "
    "`kubectl logs -n {namespace} {pod} --previous`",
    "CreateContainerConfigError": "a ConfigMap or Secret it needs is missing: a component it depends on "
    "may not be installed",
}


def pod_problem(pod: Obj, events: list[Obj] | None = None) -> PodProblem | None:
    """Why `pod` is not ready, or None when it is.

    Container waiting reasons (ImagePullBackOff with the image, CrashLoopBackOff with the restart count) come
    first; a pod that was never scheduled reports the scheduler's own message (e.g. `0/1 nodes are available:
    1 Insufficient memory.`), from its PodScheduled condition or, failing that, its FailedScheduling event.
    """
    if pod_ready(pod):
        return None
    metadata = pod.get("metadata") or {}
    namespace, name = metadata.get("namespace", ""), metadata.get("name", "")
    status = pod.get("status") or {}
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        if not reason or reason in ("ContainerCreating", "PodInitializing"):
            continue
        message = waiting.get("message") or ""
        hint = _WAITING_HINTS.get(reason, "see `kubectl describe pod -n {namespace} {pod}`")
        if reason in ("ImagePullBackOff", "ErrImagePull"):
            image = container.get("image", "?")
            error = pull_error(message, image, events or [], name)
            message = f"image {image}" + (f": {error}" if error else f" ({message})" if message else "")
            hint = _pull_hint(error) or hint
        elif reason == "CrashLoopBackOff":
            message = f"{container.get('name')} restarted {container.get('restartCount', 0)} times"
        return PodProblem(namespace, name, reason, message, hint.format(namespace=namespace, pod=name))
    scheduled = _condition(pod, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        message = scheduled.get("message") or _last_event_message(events or [], name, "FailedScheduling")
        return PodProblem(namespace, name, "Pending", message, _scheduling_hint(message))
    phase = status.get("phase", "Unknown")
    # not `see kfinstall status`: status itself shows this hint, and would send the user in a circle
    hint = f"still starting: wait; `kubectl describe pod -n {namespace} {name}` says what it waits for"
    return PodProblem(namespace, name, phase, "containers not ready yet", hint)


def pull_error(message: str, image: str, events: list[Obj], pod: str) -> str:
    """What the runtime said when pulling `image` failed, without the gRPC wrapping: the registry's own words.

    The kubelet (pkg/kubelet/images/image_manager.go) puts the runtime's error in an `ErrImagePull` message, and from
    Kubernetes 1.32 also in the `ImagePullBackOff` one (`Back-off pulling image "X": ErrImagePull: <error>`,
    kubernetes/kubernetes#127918); before, only its `Failed` event says `Failed to pull image "X": <error>`.
    """
    text = message
    head = f'Back-off pulling image "{image}"'
    if text.startswith(head):
        text = text[len(head) :].removeprefix(": ").removeprefix("ErrImagePull: ")
    if not text:
        prefix = f'Failed to pull image "{image}": '
        found = [e.get("message", "") for e in events if (e.get("involvedObject") or {}).get("name") == pod]
        text = next((m[len(prefix) :] for m in reversed(found) if m.startswith(prefix)), "")
    return re.sub(r"^rpc error: code = \w+ desc = ", "", text)


#: Words of a registry that answers but will not hand out the image: it was deleted, or made private.
_GONE = ("manifest unknown", "not found", "denied", "unauthorized", "requires billing", "does not exist")


def _pull_hint(error: str) -> str | None:
    """The hint for a failed pull, by what the registry said (None: the generic one)."""
    words = error.lower()
    if "toomanyrequests" in words or "rate limit" in words:
        return "Docker Hub's anonymous pull limit was reached: wait, or pull with credentials (a `regcred` secret)"
    if any(word in words for word in _GONE):
        return (
            "the registry no longer serves this image (deleted or made private): a Kubeflow image needs a "
            "substitution in the release's pins (`image_substitutions` in manifests_pins.yaml; `kfinstall plan` "
            "lists them)"
        )
    return None


def _last_event_message(events: list[Obj], pod: str, reason: str) -> str:
    matching = [
        event
        for event in events
        if (event.get("involvedObject") or {}).get("name") == pod and event.get("reason") == reason
    ]
    return matching[-1].get("message", "") if matching else ""


def _scheduling_hint(message: str) -> str:
    if "Insufficient memory" in message:
        return (  # no fixed size: `plan` knows what the pods request and which profile or --without fits
            "the cluster has too little memory for what the pods request: a new one with more `--memory`, or see "
            "`kfinstall plan` for the requests and the profile or --without that fits"
        )
    if "Insufficient cpu" in message:
        return (
            "the cluster has too few CPUs for what the pods request: a new one with more `--cpus`, or see "
            "`kfinstall plan` for the requests and the profile or --without that fits"
        )
    if "nvidia.com/gpu" in message:
        return "no free GPU: start the cluster with `--gpus all`, or wait for the pod holding it to finish"
    if "unbound" in message and "PersistentVolumeClaim" in message:
        return "a volume cannot be provisioned: the cluster needs a default StorageClass"
    return "the scheduler cannot place the pod: see `kubectl describe pod`"
