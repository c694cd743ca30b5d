"""Fast installs, judged from the cluster double's request log and readiness timeline and the fake minikube's records.

- concurrent applies respect the dependency graph: no component's first apply precedes its dependencies' readiness;
- a re-run on an installed cluster checks unchanged components with a few cluster-wide lists, not per component;
- `up --prefetch-images` pulls every image into minikube while the components are applied, failures are notes;
- on a running cluster, components are applied while the builds of later ones still run.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease, checkout_with_broken_katib

#: Workloads take between 0.2 and 1.5 s to become ready, CRDs 0.4 s: long enough to see the order in the log.
SPREAD = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.5] --set seed=11"
COMPONENT_LABEL = "kfinstall.dev/component"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=SPREAD, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def up(env: dict[str, str], release: LocalRelease, *args: str):
    return kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", *args, env=env)


def requests(fake_tools: FakeTools) -> list[dict]:
    log = fake_tools.double_dir("kubeflow") / "requests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def dependencies(env: dict[str, str], release: LocalRelease, *args: str) -> dict[str, list[str]]:
    planned = kfinstall("plan", "--pins", str(release.pins), "-k", release.tag, "--json", *args, env=env)
    assert planned.returncode == 0, planned.stderr
    return {c["id"]: c["depends_on"] for c in json.loads(planned.stdout)["components"]}


def component_of(request: dict) -> tuple[str, str] | None:
    """("apply", id) for a server-side apply by a component's field manager, ("poll", id) for its readiness list."""
    query = parse_qs(request["query"])
    manager = (query.get("fieldManager") or [""])[0]
    if request["method"] == "PATCH" and manager.startswith("kfinstall-") and manager != "kfinstall-record":
        return "apply", manager.removeprefix("kfinstall-")
    selector = (query.get("labelSelector") or [""])[0]
    if request["method"] == "GET" and selector.startswith("kfinstall.dev/component="):
        return "poll", selector.removeprefix("kfinstall.dev/component=")
    return None


def timeline(fake_tools: FakeTools) -> list[dict]:
    """The double's readiness transitions of Deployments/StatefulSets/DaemonSets (tests/README.md), oldest first."""
    log = fake_tools.double_dir("kubeflow") / "ready.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def labelled_workloads(fake_tools: FakeTools) -> dict[str, set[tuple[str, str, str]]]:
    """Component id -> (kind, namespace, name) of the workloads labelled with it, as stored in the double now."""
    control = json.loads((fake_tools.double_dir("kubeflow") / "apiserver.json").read_text())["control_url"]
    found: dict[str, set[tuple[str, str, str]]] = {}
    for kind in WORKLOAD_KINDS:
        with urllib.request.urlopen(f"{control}/_double/objects?group=apps&kind={kind}", timeout=10) as response:
            for obj in json.loads(response.read()):
                meta = obj["metadata"]
                component = (meta.get("labels") or {}).get(COMPONENT_LABEL)
                if component:
                    found.setdefault(component, set()).add((kind, meta["namespace"], meta["name"]))
    return found


def all_ready_at(workloads: set[tuple[str, str, str]], transitions: list[dict]) -> float | None:
    """The first time at which every one of `workloads` was ready at once (None: never)."""
    ready: set[tuple[str, str, str]] = set()
    for entry in transitions:
        key = (entry["kind"], entry["namespace"], entry["name"])
        if key not in workloads:
            continue
        if entry["ready"]:
            ready.add(key)
        else:
            ready.discard(key)
        if ready == workloads:
            return entry["time"]
    return None


def test_no_component_is_applied_before_its_dependencies_are_ready(fake_tools: FakeTools, env, synthetic_release):
    """Judged by the cluster's truth, not by the installer's own requests (which change with how it waits).

    A component's first apply starts at its first PATCH by field manager `kfinstall-<id>` (request start = time -
    duration). It is ready once (a) every workload labelled `kfinstall.dev/component=<id>` is ready at the same time,
    the first time the double's readiness timeline (`ready.jsonl`) says so, and (b) its last apply has ended: its
    objects are all in the cluster. (b) is the whole readiness of a component without workloads, and a lower bound
    for one whose CRDs the installer also waits for: the double's timeline has no CRD `Established` times (only
    their one-second `lastTransitionTime`), so for CRDs this checks only that a dependent is not applied while its
    dependency is still being applied.
    """
    result = up(env, synthetic_release)
    assert result.returncode == 0, result.stderr
    graph = dependencies(env, synthetic_release)
    first_apply: dict[str, float] = {}
    applied: dict[str, float] = {}  # the end of the component's last apply
    for request in requests(fake_tools):
        found = component_of(request)
        if found is None or found[0] != "apply":
            continue
        component = found[1]
        first_apply.setdefault(component, request["time"] - request["duration"])
        applied[component] = max(applied.get(component, 0.0), request["time"])
    assert set(first_apply) == set(graph)
    workloads = labelled_workloads(fake_tools)
    assert set(workloads) <= set(graph) and len(workloads) > len(graph) // 2  # most components have workloads
    transitions = timeline(fake_tools)
    ready_at: dict[str, float] = {}
    for component in graph:
        if component in workloads:
            all_ready = all_ready_at(workloads[component], transitions)
            assert all_ready is not None, f"the workloads of {component} were never all ready"
            ready_at[component] = max(all_ready, applied[component])
        else:
            ready_at[component] = applied[component]
    for component, deps in graph.items():
        for dep in deps:
            assert first_apply[component] >= ready_at[dep], f"{component} applied before {dep} was ready"
    # and the graph was used: some independent components were in flight at the same time
    spans = sorted((first_apply[c], ready_at[c]) for c in graph)
    assert any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))


def test_a_rerun_checks_unchanged_components_with_cluster_wide_lists(fake_tools: FakeTools, env, synthetic_release):
    assert up(env, synthetic_release).returncode == 0
    before = len(requests(fake_tools))
    again = up(env, synthetic_release)
    assert again.returncode == 0, again.stderr
    assert "(0 installed, 17 unchanged" in again.stderr
    rerun = requests(fake_tools)[before:]
    assert not [r for r in rerun if component_of(r) and component_of(r)[0] == "apply"]
    polls = [r for r in rerun if component_of(r)]
    assert polls == []  # no list per component: the workloads are listed once, by the label's presence
    workload_lists = [r for r in rerun if r["method"] == "GET" and r["path"] == "/apis/apps/v1/deployments"]
    assert len(workload_lists) == 1
    record_writes = [r for r in rerun if "fieldManager=kfinstall-record" in r["query"]]
    assert len(record_writes) == 1  # finished; nothing per (already ready) component, no "started" for no change


def test_prefetch_pulls_every_image_while_installing(fake_tools: FakeTools, synthetic_release, tmp_path) -> None:
    env = isolated_env(fake_tools.set(double_args=SPREAD, image_pull_seconds="0.2").env, tmp_path)
    result = up(env, synthetic_release, "--prefetch-images")
    assert result.returncode == 0, result.stderr
    pulls = [json.loads(line) for line in (fake_tools.state / "image-pulls.jsonl").read_text().splitlines()]
    listed = kfinstall("images", "list", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", env=env)
    assert sorted(p["image"] for p in pulls) == sorted(listed.stdout.split())
    applies = [r["time"] for r in requests(fake_tools) if (found := component_of(r)) and found[0] == "apply"]
    assert min(p["start"] for p in pulls) < max(applies)  # pulling overlapped the install, it did not precede it
    assert "pre-pulled 23/23 images" in result.stderr


def test_a_failed_prefetch_is_a_note_and_the_install_goes_on(
    fake_tools: FakeTools, synthetic_release, tmp_path
) -> None:
    env = isolated_env(fake_tools.set(double_args=SPREAD, image_pull_fail="*/katib-*").env, tmp_path)
    result = up(env, synthetic_release, "--profile", "minimal", "--prefetch-images")
    assert result.returncode == 0, result.stderr
    assert "could not pre-pull docker.io/kfsynthetic/katib-controller:v0.12.0" in result.stderr
    assert "Kubeflow v0.1.0 is ready" in result.stderr


def start_cluster(env: dict[str, str], release: LocalRelease, *args: str) -> None:
    """minikube started with the flags `up` would use, so that `up` reuses it."""
    planned = kfinstall("plan", "--pins", str(release.pins), "-k", release.tag, "--json", *args, env=env)
    assert planned.returncode == 0, planned.stderr
    subprocess.run(json.loads(planned.stdout)["minikube"], env=env, check=True, capture_output=True, timeout=120)


def test_on_a_running_cluster_components_are_applied_while_a_later_build_still_runs(
    fake_tools: FakeTools, synthetic_release, tmp_path: Path
) -> None:
    gate = tmp_path / "katib-may-build"
    fake_tools.set(double_args=SPREAD, kustomize_build_gate=f"*apps/katib/base={gate}")
    env = isolated_env(fake_tools.env, tmp_path)
    start_cluster(env, synthetic_release)
    args = ("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes")
    process = subprocess.Popen([sys.executable, "-m", "kfinstall", *args], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not [r for r in requests(fake_tools) if (component_of(r) or ("",))[0] == "apply"]:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "nothing was applied while katib was building"
            time.sleep(0.1)
        gate.touch()
        _, stderr = process.communicate(timeout=300)
    finally:
        gate.touch()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "(17 installed" in stderr


def test_a_build_failure_on_a_running_cluster_stops_the_install_naming_the_component(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    checkout = checkout_with_broken_katib(synthetic_release, tmp_path)
    start_cluster(env, synthetic_release)
    result = up(env, synthetic_release, "--manifests-dir", str(checkout))
    assert result.returncode == 1
    assert "building katib failed at apps/katib/base" in result.stderr
    assert "missing.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [r for r in requests(fake_tools) if component_of(r) == ("apply", "katib")]
