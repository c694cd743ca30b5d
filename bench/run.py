"""`make bench`: a first install of Kubeflow on a laptop, kfinstall against the README's loop and the tutorial.

Not a test: it measures, on the cluster double started by the fake minikube, with the physical limits of a first
install modelled (bench/README.md says what each part models and its source):

- one shared download link (100 Mbit/s and 1 Gbit/s) that every image download shares: the double's
  `image_link_bandwidth`; each image's compressed size and layers from bench/images-<release>.yaml (ESTIMATES, no
  registry access), extraction after the download, the kubelet's serialized pulls (`serializeImagePulls: true`),
  dockerd's 3 layer downloads at a time over all pulls;
- minikube start: the kicbase and preload bytes over the link, then minikube's own measured boot time (the fake
  minikube's start gate holds `minikube start` that long);
- builds: each build is measured once at full speed, then counted scaled (A's rebuild per round, B's per
  component, C's before it starts minikube, which is when kfinstall runs them);
- crash loops only where a source says the process exits or retries without its dependency: KFP's api server,
  cache server and metadata-grpc need MySQL, Katib's db-manager needs katib-mysql (the double's `needs`).

Contenders, each from nothing (no cluster) to every workload ready:

  A. the release README's install: `while ! kustomize build example | kubectl apply --server-side
     --force-conflicts -f -; do echo "Retrying to apply resources"; sleep 20; done` (v1.10.2), then `kubectl wait`;
  B. the README's component-by-component sequence: build | apply each (re-run after 10 s until it succeeds), then
     wait for that component's workloads before the next;
  C. `kfinstall up` over the same components (profile full without knative-eventing = example/), and the same
     with `--prefetch-images`;
  R. a re-created cluster: `kfinstall up`, `kfinstall down` (it keeps the images), then `kfinstall up` again,
     timed; its registry pulls counted from the double's pull log.

Every time is scaled by --scale-100/--scale-1000 (the delays, the bandwidth, the sleeps): the tables give model
seconds (wall / scale), what a laptop would see if the model held. Seeds vary the workloads' start delays;
medians and spreads over the seeds. The floor: minikube start + max(dependency critical path, image bytes /
bandwidth + the last workload's start). Results go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakes.minikube_cluster import profile_dir  # noqa: E402
from tests.paths import BUNDLE_COMMITS, MANIFESTS_BUNDLE, real_kubectl  # noqa: E402
from tests.releases import SHIPPED_PINS, write_pins  # noqa: E402

PROFILE = "kubeflow"  # the minikube profile
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
MB = 1_000_000.0
#: The README's loop (v1.9.1 on: sleep 20; /work/shared/reference/releases-notes.md section 3, verbatim one-liners).
README_SLEEP = 20.0
#: B re-runs a refused component after this long (a reader's pause; no source, an assumption).
TUTORIAL_RETRY = 10.0
#: Selection equal to example/ of v1.10.2: kfinstall's full profile has knative-eventing, example/ comments it out.
C_SELECTION = ("--profile", "full", "--without", "knative-eventing")

#: Runtime needs a source backs (within one component; the double's `needs`, crash loop with the kubelet's back-off):
#: KFP backend: the api server and cache server retry MySQL with exponential back-off up to InitConnectionTimeout
#: (6m) and then glog.Fatalf (backend/src/apiserver/client_manager.go, backend/src/cache/client_manager.go
#: initDBClient -> initMysql); metadata-grpc: google/ml-metadata metadata_store_server_main.cc retries only an Aborted
#: connection (5 times) and then CHECK-fails;
#: Katib: db-manager pings every 5 s for 60 s and then exits (pkg/db/v1beta1/mysql/mysql.go openSQLConn,
#: connectInterval 5 s, connectTimeout 60 s; cmd/db-manager/v1beta1/main.go klog.Fatalf), so the kubelet restarts
#: it with CrashLoopBackOff. v1.10.2's oauth2-proxy does not need Dex to start (`skip_oidc_discovery = true`).
NEEDS = {
    "kubeflow/ml-pipeline": ["kubeflow/mysql"],
    "kubeflow/cache-server": ["kubeflow/mysql"],
    "kubeflow/metadata-grpc-deployment": ["kubeflow/mysql"],
    "kubeflow/katib-db-manager": ["kubeflow/katib-mysql"],
}
#: Per image: registry round-trips before the bytes (token, manifest list, manifest, config): ESTIMATE.
PULL_LATENCY = 0.5
#: A workload's start after its images are on the node: its readiness probe's initialDelaySeconds plus this spread
#: (process start to first passing probe; ESTIMATE), seeded; MySQL's first start initialises its data directory.
START_SPREAD = (1.0, 5.0)
MYSQL_INIT = (15.0, 30.0)  # ESTIMATE: mysqld --initialize on an empty volume, then the first probe
CRD_ESTABLISH = 1.0  # ESTIMATE
CRASH_BACKOFF, CRASH_BACKOFF_MAX = 10.0, 300.0  # the kubelet's CrashLoopBackOff (pkg/kubelet/kubelet.go)
#: A workload controller's retry of a pod create a webhook refused (client-go DefaultControllerRateLimiter).
CREATE_RETRY, CREATE_RETRY_MAX = 0.005, 1000.0


@dataclass
class Release:
    tag: str
    pins: Path


@dataclass
class Outcome:
    name: str
    seconds: float  # wall seconds, scaled time
    applies: int
    ok: bool = True
    note: str = ""
    registry_pulls: int | None = None  # R: images the re-created cluster's node downloaded
    before: float | None = None  # R: wall seconds of the first `up` and of `down` before the timed `up`


@dataclass
class Workload:
    key: str  # namespace/name
    component: str
    images: list[str]
    probe_delay: float


@dataclass
class Plan:
    components: list[dict]
    minikube_args: list[str]
    builds: dict[str, str] = field(default_factory=dict)  # path -> YAML
    build_seconds: dict[str, float] = field(default_factory=dict)  # path -> measured build time
    example: str = ""
    example_seconds: float = 0.0
    workloads: list[Workload] = field(default_factory=list)


@dataclass
class Physics:
    """What the model holds fixed for a bandwidth: the link, the image table, minikube's start."""

    mbit: int
    sizes: dict[str, float]  # image -> MB
    extract_rate: float  # MB/s
    minikube_mb: float
    boot: float

    @property
    def bandwidth(self) -> float:  # MB/s
        return self.mbit / 8.0

    def minikube_start(self) -> float:
        return self.minikube_mb / self.bandwidth + self.boot

    def size(self, image: str) -> float:
        import fnmatch

        return next((mb for pattern, mb in self.sizes.items() if fnmatch.fnmatchcase(image, pattern)), 0.0)


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.kubectl = str(real_kubectl())
        self.gate = work / "start-gate"
        self.env = {
            **os.environ,
            "PATH": f"{REPO / 'tests' / 'fakes' / 'bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}",
            "FAKE_TOOLS_STATE": str(work / "fakes"),
            "FAKE_TOOLS_PYTHON": sys.executable,
            "FAKE_TOOLS_OWNER_PID": str(os.getpid()),
            "FAKE_MINIKUBE_START_GATE": str(self.gate),
            "KUBECONFIG": str(work / "kubeconfig"),
            "KUBECACHEDIR": str(work / "kube-cache"),
            "KFINSTALL_KUBECTL": self.kubectl,
            "KFINSTALL_LOG_DIR": str(work / "logs"),
        }
        for name in ("KFINSTALL_MINIKUBE", "KFINSTALL_KUSTOMIZE", "MINIKUBE_HOME", "MINIKUBE_PROFILE"):
            self.env.pop(name, None)
        (work / "fakes").mkdir(parents=True, exist_ok=True)
        self.checkout = work / "checkout"

    # Processes --------------------------------------------------------------------------------------------

    def run(self, *argv: str, input: str | None = None, env: dict | None = None, check: bool = False):
        result = subprocess.run(
            argv, input=input, env=env or self.env, capture_output=True, text=True, check=False, timeout=3600
        )
        if check and result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{result.stderr}{result.stdout}")
        return result

    def kfinstall(self, *args: str, cache: Path, env: dict | None = None):
        env = {**(env or self.env), "KFINSTALL_CACHE_DIR": str(cache)}
        return self.run(sys.executable, "-m", "kfinstall", *args, env=env)

    def kctl(self, *args: str, input: str | None = None):
        return self.run(self.kubectl, "--context", PROFILE, *args, input=input)

    # The release ------------------------------------------------------------------------------------------

    def release(self, tag: str) -> Release:
        if not MANIFESTS_BUNDLE.is_file():
            raise SystemExit(f"{MANIFESTS_BUNDLE} not found: the bench needs the real manifests")
        bare = self.work / "kubeflow-manifests.git"
        self.run("git", "clone", "-q", "--bare", str(MANIFESTS_BUNDLE), str(bare), check=True)
        pins = write_pins(SHIPPED_PINS, self.work / "real-pins.yaml", f"file://{bare}", BUNDLE_COMMITS)
        self.url = f"file://{bare}"
        return Release(tag, pins)

    def clone(self, tag: str) -> None:
        """`git clone` of the manifests as the README starts (here from the local bundle: measured, not modelled)."""
        shutil.rmtree(self.checkout, ignore_errors=True)
        self.run("git", "clone", "-q", "--depth", "1", "--branch", tag, self.url, str(self.checkout), check=True)

    def plan(self, release: Release) -> Plan:
        result = self.kfinstall("plan", "--pins", str(release.pins), "-k", release.tag, *C_SELECTION, "--json",
                                cache=self.work / "plan-cache")  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(result.stderr)
        data = json.loads(result.stdout)
        plan = Plan(data["components"], data["minikube"][1:])
        self.clone(release.tag)
        for component in plan.components:
            for path in component["paths"]:
                plan.builds[path], plan.build_seconds[path] = self.build(path)
        plan.example, plan.example_seconds = self.build("example")
        plan.example = _as_kustomize_571(plan.example)
        for path in plan.builds:
            plan.builds[path] = _as_kustomize_571(plan.builds[path])
        owner = {_key(obj): c["id"] for c in plan.components for path in c["paths"] for obj in
                 self.objects(plan.builds[path]) if obj.get("kind") in WORKLOAD_KINDS}  # fmt: skip
        for obj in self.objects(plan.example):
            if obj.get("kind") in WORKLOAD_KINDS:
                key = _key(obj)
                plan.workloads.append(Workload(key, owner.get(key, "?"), _images(obj), _probe_delay(obj)))
        return plan

    def build(self, path: str) -> tuple[str, float]:
        started = time.monotonic()
        text = self.run(self.kubectl, "kustomize", str(self.checkout / path), check=True).stdout
        return text, time.monotonic() - started

    # The seeded scenario --------------------------------------------------------------------------------------

    def starts(self, plan: Plan, seed: int) -> dict[str, float]:
        """Model seconds from a workload's images on the node to its pods ready (seeded)."""
        rng = random.Random(seed)
        starts = {}
        for workload in plan.workloads:
            extra = rng.uniform(*MYSQL_INIT) if any("mysql" in image for image in workload.images) else 0.0
            starts[workload.key] = round(workload.probe_delay + rng.uniform(*START_SPREAD) + extra, 3)
        return starts

    def scenario(self, physics: Physics, starts: dict[str, float], scale: float) -> dict:
        """The double's knobs: every duration times `scale`, the link's bandwidth divided by it."""
        return {
            "crd_establish_delay": round(CRD_ESTABLISH * scale, 4),
            "ready_delay": round(2.0 * scale, 4),  # anything not listed (kube-system's own pods)
            "ready_delays": {key: round(s * scale, 4) for key, s in starts.items()},
            "needs": NEEDS,
            "crash_backoff": round(CRASH_BACKOFF * scale, 4),
            "crash_backoff_max": round(CRASH_BACKOFF_MAX * scale, 4),
            "create_retry_base": CREATE_RETRY * scale,
            "create_retry_max": round(CREATE_RETRY_MAX * scale, 4),
            "image_pull_delays": {"*": round(PULL_LATENCY * scale, 4)},
            "serialize_image_pulls": True,
            "image_link_bandwidth": physics.bandwidth * MB / scale,
            "image_sizes": {_literal(image): mb * MB for image, mb in physics.sizes.items()},
            "image_layers": {"*": 3},
            "max_concurrent_downloads": 3,
            "image_extract_rate": physics.extract_rate * MB / scale,
        }

    @staticmethod
    def floor(plan: Plan, physics: Physics, starts: dict[str, float]) -> dict[str, float]:
        """Model seconds: minikube start + max(critical path, bytes / bandwidth + the last workload's start).

        The critical path: components in dependency order, a workload ready no sooner than its component's
        dependencies are ready, plus its images pulled alone on the link (latency, bytes, extraction), plus its
        start; a `needs` workload no sooner than what it needs. The bytes bound: every image's bytes must cross the
        link once, and after the last byte at least one image extracts and one workload starts.
        """
        images = {image for w in plan.workloads for image in w.images}

        def pull(image: str) -> float:
            mb = physics.size(image)
            return PULL_LATENCY + mb / physics.bandwidth + mb / physics.extract_rate

        deps = {c["id"]: c["depends_on"] for c in plan.components}
        finish: dict[str, float] = {}
        ready: dict[str, float] = {}
        for component in plan.components:
            before = max((finish[d] for d in deps[component["id"]] if d in finish), default=0.0)
            own = [w for w in plan.workloads if w.component == component["id"]]
            for w in sorted(own, key=lambda w: w.key in NEEDS):
                at = before + max((pull(i) for i in w.images), default=0.0) + starts[w.key]
                for needed in NEEDS.get(w.key, []):
                    at = max(at, ready.get(needed, 0.0))
                ready[w.key] = at
            finish[component["id"]] = max((ready[w.key] for w in own), default=before)
        path = max(finish.values(), default=0.0)
        total = sum(physics.size(i) for i in images) / physics.bandwidth
        last = min(physics.size(i) / physics.extract_rate + starts[w.key] for w in plan.workloads for i in w.images)
        start = physics.minikube_start()
        serial = sum(pull(i) for i in images)  # the kubelet alone: one image at a time, extraction included
        return {
            "serial": start + serial,
            "floor": start + max(path, total + last),
            "minikube": start,
            "path": path,
            "bytes": total,
            "last": last,
            "total_mb": sum(physics.size(i) for i in images),
        }

    # The cluster --------------------------------------------------------------------------------------------

    def delete_cluster(self) -> None:
        self.run("minikube", "delete", "-p", PROFILE)
        shutil.rmtree(self.work / "kube-cache", ignore_errors=True)

    @contextlib.contextmanager
    def start_gate(self, seconds: float):
        """Hold the fake `minikube start` for `seconds` (the modelled start) once it asks, from a thread."""
        for path in (self.gate, Path(f"{self.gate}.waiting")):
            path.unlink(missing_ok=True)
        stop = threading.Event()

        def release() -> None:
            while not stop.is_set() and not Path(f"{self.gate}.waiting").exists():
                time.sleep(0.01)
            if not stop.wait(seconds):
                self.gate.touch()

        thread = threading.Thread(target=release, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def minikube_start(self, plan: Plan, scenario_file: Path) -> None:
        env = {**self.env, "FAKE_MINIKUBE_DOUBLE_ARGS": f"--scenario {scenario_file}"}
        self.run("minikube", *plan.minikube_args, env=env, check=True)

    def wait_workloads(self, objects: Iterable[dict]) -> None:
        """`kubectl wait` / `rollout status` as a reader would type them: one per namespace and kind."""
        groups: dict[tuple[str, str], list[str]] = {}
        for obj in objects:
            if obj.get("kind") in WORKLOAD_KINDS:
                meta = obj["metadata"]
                groups.setdefault((obj["kind"], meta.get("namespace") or "default"), []).append(meta["name"])
        for (kind, namespace), names in sorted(groups.items()):
            if kind == "Deployment":
                refs = [f"deployment/{name}" for name in names]
                self.kctl("wait", "--for=condition=Available", "--timeout=1800s", "-n", namespace, *refs)
            else:
                for name in names:
                    self.kctl("rollout", "status", f"{kind.lower()}/{name}", "-n", namespace, "--timeout=1800s")

    @staticmethod
    def objects(text: str) -> list[dict]:
        import yaml

        return [o for o in yaml.safe_load_all(text) if isinstance(o, dict)]

    def apply_until_ok(self, stream: str, build: float, sleep: float, deadline: float) -> int:
        """`while ! build | kubectl apply ...; do sleep N; done`: each round builds (its measured time, scaled)."""
        applies = 0
        while True:
            time.sleep(build)
            applies += 1
            if self.kctl("apply", "--server-side", "--force-conflicts", "-f", "-", input=stream).returncode == 0:
                return applies
            if time.monotonic() > deadline:
                raise SystemExit("the apply loop did not converge")
            time.sleep(sleep)

    # Contenders -----------------------------------------------------------------------------------------------

    def readme(self, release: Release, plan: Plan, scenario: Path, boot: float, scale: float) -> Outcome:
        started = time.monotonic()
        with self.start_gate(boot):
            self.minikube_start(plan, scenario)
        self.clone(release.tag)
        applies = self.apply_until_ok(plan.example, plan.example_seconds * scale, README_SLEEP * scale,
                                      started + 3000)  # fmt: skip
        self.wait_workloads(self.objects(plan.example))
        return Outcome("A. README: `kustomize build example` loop, sleep 20", time.monotonic() - started, applies)

    def tutorial(self, release: Release, plan: Plan, scenario: Path, boot: float, scale: float) -> Outcome:
        started, applies = time.monotonic(), 0
        with self.start_gate(boot):
            self.minikube_start(plan, scenario)
        self.clone(release.tag)
        for component in plan.components:
            stream = "\n---\n".join(plan.builds[path] for path in component["paths"])
            build = sum(plan.build_seconds[path] for path in component["paths"]) * scale
            applies += self.apply_until_ok(stream, build, TUTORIAL_RETRY * scale, time.monotonic() + 3000)
            self.wait_workloads(self.objects(stream))
        return Outcome("B. tutorial, component by component", time.monotonic() - started, applies)

    def kfinstall_up(self, release: Release, plan: Plan, scenario: Path, boot: float, scale: float, cache: Path,
                     name: str, *extra: str, cold_builds: bool = True) -> Outcome:  # fmt: skip
        """`kfinstall up` with its builds cached, plus the cold builds' measured time scaled: kfinstall runs them
        all before it starts minikube (install/steps.py StartBuilds ... StartMinikube), so they add. A re-created
        cluster (`cold_builds` False) finds them cached for real: kfinstall's build cache survives `down`."""
        logs = self.work / "logs"
        shutil.rmtree(logs, ignore_errors=True)
        env = {**self.env, "FAKE_MINIKUBE_DOUBLE_ARGS": f"--scenario {scenario}"}
        started = time.monotonic()
        with self.start_gate(boot):
            result = self.kfinstall("up", "--pins", str(release.pins), "-k", release.tag, *C_SELECTION, "--yes",
                                    *extra, cache=cache, env=env)  # fmt: skip
        seconds = time.monotonic() - started + (sum(plan.build_seconds.values()) * scale if cold_builds else 0.0)
        applies = sum(
            1
            for log in logs.glob("*-up-*.log")
            for line in log.read_text(errors="replace").splitlines()
            if " apply --server-side" in line and "--field-manager=kfinstall-record" not in line and " $ " in line
        )
        note = "" if result.returncode == 0 else (result.stderr.strip().splitlines() or ["?"])[-1]
        return Outcome(name, seconds, applies, result.returncode == 0, note)

    def node_pulls(self) -> list[dict]:
        """The registry pulls of the running cluster's node: the double's pull log (`python -m tests.double
        images`, GET /_double/images `pulls`; loads from the image cache are listed apart, under `loads`)."""
        state = profile_dir(PROFILE, self.work / "fakes") / "apiserver"
        result = self.run(sys.executable, "-m", "tests.double", "images", "--state-dir", str(state), check=True)
        return json.loads(result.stdout)["pulls"]

    def recreated(self, release: Release, plan: Plan, scenario: Path, boot: float, boot_again: float, scale: float,
                  cache: Path) -> Outcome:  # fmt: skip
        """R: a first `up` and `down` (untimed; `down` keeps the images in the cache), then `up` again, timed.

        The second `minikube start` costs only its boot (`boot_again`): `minikube delete` without `--purge` keeps
        ~/.minikube, where the kicbase image and the preload are cached (kubernetes/minikube cmd/minikube/cmd/
        delete.go: --purge "delete the '.minikube' folder"), and kfinstall's `down` runs `minikube delete -p P`.
        Loading an image costs its extraction on the node (the double: minikube's `image load` is `docker load`);
        `down`'s `image save` is not modelled (the fake saves at once), so `down`'s time is given, not judged.
        The images `down` kept are dropped afterwards, so the next contender installs from nothing again."""
        name = "R. re-created cluster: `up` after `down`"
        first_started = time.monotonic()
        first = self.kfinstall_up(release, plan, scenario, boot, scale, cache, name)
        if not first.ok:
            return Outcome(name, first.seconds, first.applies, False, f"first up: {first.note}")
        first_wall = time.monotonic() - first_started
        down_started = time.monotonic()
        gone = self.kfinstall("down", "--yes", cache=cache)
        down_wall = time.monotonic() - down_started
        try:
            if gone.returncode != 0:
                note = (gone.stderr.strip().splitlines() or ["?"])[-1]
                return Outcome(name, first.seconds, first.applies, False, f"down: {note}")
            again = self.kfinstall_up(release, plan, scenario, boot_again, scale, cache, name, cold_builds=False)
            again.registry_pulls = len(self.node_pulls()) if again.ok else None
            again.before = first_wall + down_wall
            return again
        finally:
            shutil.rmtree(cache / "images", ignore_errors=True)

    def contender(self, key: str, release: Release, plan: Plan, scenario: Path, boot: float, scale: float,
                  cache: Path, boot_again: float = 0.0) -> Outcome:  # fmt: skip
        """Run contender A, B, C, P (C with --prefetch-images) or R (a re-created cluster) from nothing: the
        cluster is deleted first."""
        self.delete_cluster()
        if key == "A":
            return self.readme(release, plan, scenario, boot, scale)
        if key == "B":
            return self.tutorial(release, plan, scenario, boot, scale)
        if key == "C":
            return self.kfinstall_up(release, plan, scenario, boot, scale, cache, "C. kfinstall up")
        if key == "R":
            return self.recreated(release, plan, scenario, boot, boot_again, scale, cache)
        return self.kfinstall_up(release, plan, scenario, boot, scale, cache, "C with --prefetch-images",
                                 "--prefetch-images")  # fmt: skip

    def overheads(self, keys: str, release: Release, plan: Plan, cache: Path) -> dict[str, float]:
        """Each contender's own CPU work on this machine: one run with every modelled wait zero (no link, no
        delays, no sleeps, builds and minikube start at zero). That work is not scaled in the timed runs."""
        quick = self.work / "scenario-zero.json"
        quick.write_text(json.dumps({"ready_delay": 0.0, "crd_establish_delay": 0.0, "crash_backoff": 0.0}))
        return {key: round(self.contender(key, release, plan, quick, 0.0, 0.0, cache).seconds, 1) for key in keys}

    def warm_cache(self, release: Release, plan: Plan, cache: Path) -> float:
        """One untimed `up` (no link, short delays) so C's measured runs find their builds cached; its time."""
        quick = self.work / "scenario-warm.json"
        quick.write_text(json.dumps({"ready_delay": 0.05, "crd_establish_delay": 0.05}))
        self.delete_cluster()
        with self.start_gate(0.0):
            env = {**self.env, "FAKE_MINIKUBE_DOUBLE_ARGS": f"--scenario {quick}"}
            started = time.monotonic()
            result = self.kfinstall("up", "--pins", str(release.pins), "-k", release.tag, *C_SELECTION, "--yes",
                                    cache=cache, env=env)  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"kfinstall up (warming the cache) failed:\n{result.stderr}")
        return time.monotonic() - started

    def quick_commands(self, release: Release, cache: Path) -> dict[str, float | None]:
        def best(argv: list[str], env: dict | None = None, n: int = 5) -> float | None:
            times = []
            for _ in range(n):
                started = time.monotonic()
                result = self.run(*argv, env=env)
                times.append(time.monotonic() - started)
                if result.returncode not in (0, 1):
                    return None
            return min(times)

        exe = str(Path(sys.executable).parent / "kfinstall")
        env = {**self.env, "KFINSTALL_CACHE_DIR": str(cache)}
        env.pop("FAKE_MINIKUBE_START_GATE")  # the cluster runs: nothing here may start one
        up = [exe, "up", "--pins", str(release.pins), "-k", release.tag, *C_SELECTION, "--yes"]
        return {
            "--help": best([exe, "--help"]),
            "status": best([exe, "status"], env),
            "no-op up": best(up, env, 3),
        }


def _as_kustomize_571(text: str) -> str:
    """The build as kustomize 5.7.1 (upstream's CI) makes it: kubectl 1.37's embedded 5.8.1 leaves the user
    namespace's Profile named `$(profile-name)` and owned by `$(user)`, which the API server refuses, so the
    README's loop would never end (kubeflow/community-distribution#3315; manifests_pins.yaml `kustomize.defects`).
    The values are common/user-namespace/base/params.env's."""
    return text.replace("$(profile-name)", "kubeflow-user-example-com").replace("$(user)", "user@example.com")


def _key(obj: dict) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace') or 'default'}/{meta['name']}"


def _images(workload: dict) -> list[str]:
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = [c["image"] for key in ("initContainers", "containers") for c in spec.get(key) or [] if c.get("image")]
    return list(dict.fromkeys(found))


def _probe_delay(workload: dict) -> float:
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    delays = [float((c.get("readinessProbe") or {}).get("initialDelaySeconds") or 0) for c in spec.get("containers")
              or []]  # fmt: skip
    return max(delays, default=0.0)


def _literal(image: str) -> str:
    """`image` as an fnmatch pattern matching only itself (patterns in the table, with `*`, are kept)."""
    if "@*" in image:
        return image
    return "".join(f"[{char}]" if char in "*?[" else char for char in image)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"
    )


def physics_for(mbit: int, table: dict) -> Physics:
    sizes = {image: float(entry["mb"]) for image, entry in table["images"].items()}
    mk = table["minikube"]
    return Physics(mbit, sizes, float(table["extract_mb_per_s"]), float(mk["download_mb"]), float(mk["boot_seconds"]))


def spread(values: list[float]) -> str:
    return f"{min(values):.0f}-{max(values):.0f}"


def main() -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", default="v1.10.2", help="real release from the shared bundle")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mbit", type=int, nargs="+", default=[100, 1000], help="link bandwidths, Mbit/s")
    # 0.1 / 0.2: at 0.05 / 0.1 the CPU work weighed 20x / 10x and left every target undecided (RESULTS.md)
    parser.add_argument("--scale-100", type=float, default=0.1, help="time scale at 100 Mbit/s (and below)")
    parser.add_argument("--scale-1000", type=float, default=0.2, help="time scale above 100 Mbit/s")
    parser.add_argument("--contenders", default="ABCPR",
                        help="A, B, C (kfinstall up), P (C with --prefetch-images), R (up after down)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = parser.parse_args()
    table = yaml.safe_load((REPO / "bench" / f"images-{args.release}.yaml").read_text())

    load_before = os.getloadavg()
    command = " ".join(["python bench/run.py", *sys.argv[1:]]) if sys.argv[1:] else "make bench"
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kfinstall-bench-") as tmp:
        bench = Bench(Path(tmp))
        try:
            release = bench.release(args.release)
            plan = bench.plan(release)
            missing = sorted({i for w in plan.workloads for i in w.images} - set(_resolved(table, plan)))
            if missing:
                raise SystemExit(f"bench/images-{args.release}.yaml has no size for: {', '.join(missing)}")
            cache = Path(tmp) / "cache"
            warm = bench.warm_cache(release, plan, cache)
            print(f"== {release.tag}: {len(plan.workloads)} workloads; C cold warm-up {warm:.1f}s", file=sys.stderr)
            overhead = bench.overheads(args.contenders, release, plan, cache)
            print(f"   own CPU work at zero delays: {overhead}", file=sys.stderr)
            for mbit in args.mbit:
                physics = physics_for(mbit, table)
                scale = args.scale_100 if mbit <= 100 else args.scale_1000
                runs: dict[str, list[Outcome]] = {}
                floors: list[dict[str, float]] = []
                for seed in range(1, args.seeds + 1):
                    starts = bench.starts(plan, seed)
                    floors.append(bench.floor(plan, physics, starts))
                    scenario = Path(tmp) / f"scenario-{mbit}-{seed}.json"
                    scenario.write_text(json.dumps(bench.scenario(physics, starts, scale)))
                    boot = physics.minikube_start() * scale
                    for contender in args.contenders:
                        outcome = bench.contender(contender, release, plan, scenario, boot, scale, cache,
                                                  physics.boot * scale)  # fmt: skip
                        runs.setdefault(contender, []).append(outcome)
                        print(f"   {mbit} Mbit/s seed {seed} {outcome.name}: {outcome.seconds / scale:.0f} model s"
                              f" ({outcome.seconds:.1f} s wall){'' if outcome.ok else ' FAILED ' + outcome.note}",
                              file=sys.stderr)  # fmt: skip
                sections.append(report(mbit, scale, runs, floors, physics, overhead))
                partial = document(command, args, plan, table, sections, {}, load_before, os.getloadavg())
                args.output.write_text(partial)  # what is done so far survives a run stopped later
            quick = bench.quick_commands(release, cache)
            overhead_after = bench.overheads(args.contenders, release, plan, cache)
            print(f"   own CPU work at zero delays, again at the end: {overhead_after}", file=sys.stderr)
            sections.append(overhead_drift(overhead, overhead_after))
        finally:
            bench.run("minikube", "delete", "--all")
    load_after = os.getloadavg()
    text = document(command, args, plan, table, sections, quick, load_before, load_after)
    args.output.write_text(text)
    print(text)
    return 0


def _resolved(table: dict, plan: Plan) -> list[str]:
    import fnmatch

    images = {i for w in plan.workloads for i in w.images}
    return [i for i in images if any(fnmatch.fnmatchcase(i, p) for p in table["images"])]


def overhead_drift(before: dict[str, float], after: dict[str, float]) -> str:
    """Whether the zero-delay measure of each contender's own CPU work held over the run: it is taken once before
    the timed runs and once after, and the tables correct with the first. A change of more than a quarter means the
    machine's load changed (other work on its cores), so the corrected medians are approximate."""
    rows = [f"{key} {before[key]:.1f} s -> {after.get(key, 0.0):.1f} s" for key in before]
    drift = max((abs(after.get(k, 0.0) - v) / v for k, v in before.items() if v > 0), default=0.0)
    verdict = (
        "held (within 25 %): the corrections stand" if drift <= 0.25
        else f"**changed by up to {drift:.0%}**: the machine's load changed, the corrected medians are approximate"
    )  # fmt: skip
    return f"\nOwn CPU work at zero delays, before the timed runs and after them: {'; '.join(rows)}. It {verdict}."


def judge(lo: float, hi: float, limit: float) -> str:
    """A target "at most `limit`" judged on a bounded reading: met when even the upper bound meets it, MISSED when
    even the lower bound misses it, else undecided (this run's CPU noise is larger than the margin)."""
    if hi <= limit:
        return "met"
    if lo > limit:
        return f"MISSED (by at least {lo - limit:.0f} s)"
    return "undecided (the bounds straddle it)"


def report(mbit: int, scale: float, runs: dict[str, list[Outcome]], floors: list[dict], physics: Physics,
           overhead: dict[str, float]) -> str:  # fmt: skip
    """One bandwidth's table: medians over the seeds and the targets, each reading as a range.

    The contender's CPU work (kubectl, kustomize, Python) is not scaled, so a run's wall time mixes scaled waits W
    with unscaled work U, of which U_o overlaps the waits. A laptop would take W / scale + (U - U_o). Two readings
    bound it: the raw one, wall / scale = (W + U - U_o) / scale, counts the work 1/scale times (an upper bound);
    the corrected one, (wall - U) / scale + U with U from a zero-delay run, subtracts the overlapped work too (a
    lower bound: exact when nothing overlaps). The targets are judged on both: met when the upper bound meets,
    MISSED when the lower bound misses, else undecided. R is judged against C, not the floor (its floor differs:
    no minikube downloads, no image bytes).
    """
    floor = statistics.median(f["floor"] for f in floors)

    def corrected(key: str, outcome: Outcome) -> float:
        own = min(overhead.get(key, 0.0), outcome.seconds)
        return (outcome.seconds - own) / scale + own

    lo = {k: statistics.median(corrected(k, o) for o in v) for k, v in runs.items()}
    hi = {k: statistics.median(o.seconds / scale for o in v) for k, v in runs.items()}
    lines = [
        f"\n### {mbit:,} Mbit/s (time scale {scale:g})\n",
        "| contender | model s, lower bound (median) | spread over seeds | upper bound (raw wall / scale) | own CPU "
        "work (s) | `kubectl apply` runs | vs floor | vs A |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, outcomes in runs.items():
        failed = [o for o in outcomes if not o.ok]
        name = outcomes[0].name + (f" (FAILED {len(failed)}x: {failed[0].note})" if failed else "")
        model = [corrected(key, o) for o in outcomes]
        vs_a = f"{lo[key] / hi['A']:.2f}-{hi[key] / lo['A']:.2f}" if "A" in lo and key != "A" else ""
        vs_floor = "" if key == "R" else f"{lo[key] / floor:.2f}-{hi[key] / floor:.2f}"
        applies = statistics.median(o.applies for o in outcomes)
        row = [name, f"{lo[key]:.0f}", spread(model), f"{hi[key]:.0f}", f"{overhead.get(key, 0.0):.1f}",
               f"{applies:.0f}", vs_floor, vs_a]  # fmt: skip
        lines.append("| " + " | ".join(row) + " |")
    f0 = floors[0]
    lines.append(f"| floor | {floor:.0f} | {spread([f['floor'] for f in floors])} | | | | 1.00 | |")
    lines.append(
        f"\nFloor = minikube start {f0['minikube']:.0f} s ({physics.minikube_mb:.0f} MB at {physics.bandwidth:g} MB/s"
        f" + {physics.boot:g} s boot) + max(critical path {statistics.median(f['path'] for f in floors):.0f} s, "
        f"image bytes {f0['total_mb']:.0f} MB / {physics.bandwidth:g} MB/s = {f0['bytes']:.0f} s + last start "
        f"{statistics.median(f['last'] for f in floors):.1f} s)."
    )
    lines.append(
        f"Any install that leaves the pulls to the kubelet (A, B, plain C) takes at least minikube start + every "
        f"image pulled one at a time with its extraction: {f0['serial']:.0f} s = {f0['serial'] / floor:.2f} × "
        "the floor."
    )
    broken = [key for key in hi if key != "R" and hi[key] < floor]
    if broken:
        lines.append(
            f"\n**The model is broken in this run**: the upper bound of {', '.join(broken)} is below the floor, which "
            "no install can beat."
        )
    verdicts = []
    for key, label in (("C", "`up`"), ("P", "`up --prefetch-images`")):
        if key not in lo:
            continue
        verdicts.append(f"{label} ≤ 1.10 × floor: {judge(lo[key], hi[key], 1.10 * floor)}")
        if "A" in lo:
            verdicts.append(f"{label} ≤ 0.6 × A: {judge_ratio(lo[key], hi[key], lo['A'], hi['A'], 0.6)}")
    if "R" in lo and "C" in lo:
        pulls = [o.registry_pulls for o in runs["R"]]
        zero = all(n == 0 for n in pulls)
        verdicts.append(
            f"re-created cluster ≤ 0.5 × the first install (C): {judge_ratio(lo['R'], hi['R'], lo['C'], hi['C'], 0.5)}"
        )
        verdicts.append(
            f"its registry pulls 0: {'met' if zero else 'MISSED'} "
            f"({', '.join('?' if n is None else str(n) for n in pulls)} over the seeds)"
        )
        before = statistics.median(o.before for o in runs["R"] if o.before is not None) if runs["R"] else 0.0
        lines.append(f"R's first `up` and `down` took {before:.0f} s wall before its timed `up` (not in its row).")
    lines.append("\nTargets (medians, on both bounds): " + "; ".join(verdicts) + ".")
    return "\n".join(lines)


def judge_ratio(lo: float, hi: float, lo_other: float, hi_other: float, ratio: float) -> str:
    """ "at most `ratio` × the other contender", both bounded: met when our upper bound is within `ratio` of its
    lower bound, MISSED when our lower bound exceeds `ratio` of its upper bound, else undecided."""
    if hi <= ratio * lo_other:
        return f"met ({hi / lo_other:.2f} at most)"
    if lo > ratio * hi_other:
        return f"MISSED ({lo / hi_other:.2f} at least)"
    return f"undecided ({lo / hi_other:.2f}-{hi / lo_other:.2f})"


def document(
    command: str,
    args: argparse.Namespace,
    plan: Plan,
    table: dict,
    sections: list[str],
    quick: dict[str, float | None],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    timing = []
    targets = (
        ("`kfinstall --help`", "--help", 0.2),
        ("`kfinstall status` (installed cluster)", "status", 0.5),
        ("no-op `kfinstall up` (same selection, installed)", "no-op up", 1.5),
    )
    for label, key, target in targets:
        value = quick.get(key)
        if key not in quick:
            timing.append(f"- {label}: not measured yet (they run after every bandwidth)")
        elif value is None:
            timing.append(f"- {label}: failed")
        else:
            verdict = "met" if value <= target else f"MISSED by {value - target:.2f} s"
            timing.append(f"- {label}: {value:.2f} s (best of runs; target ≤ {target:g} s: {verdict})")
    return "\n".join([
        "# Benchmark: a first Kubeflow install on a laptop, modelled",
        "",
        f"Command: `{command}`; release {args.release}, {len(plan.components)} components = `example/` "
        f"({len(plan.workloads)} workloads, {len(table['images'])} images), seeds 1-{args.seeds}; run {when}.",
        f"Machine: {machine()}; load average {load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f} "
        f"(1/5/15 min) at the start, {load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f} at the end.",
        "",
        "Model (bench/README.md has each part's source): image sizes are ESTIMATES (bench/images-"
        f"{args.release}.yaml; no registry access), extraction {table['extract_mb_per_s']} MB/s (estimate), "
        "kubelet pulls serialized, dockerd's 3 layer downloads over all pulls, one shared link; minikube start = its "
        "downloads over the link + 25 s boot (minikube's CI); builds measured once and counted scaled; crash loops "
        "only for KFP's api/cache/metadata-grpc servers (MySQL) and Katib's db-manager (katib-mysql). Times are "
        "model seconds (wall / scale); the real CPU work of kubectl, kustomize and Python is not scaled, so it "
        "weighs 1/scale times more than on a laptop.",
        *sections,
        "",
        "Other timings:",
        *timing,
        "",
    ])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
