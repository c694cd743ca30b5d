"""ClusterWatch: one view of the labelled workloads and the endpoints, kept current by kubectl watches.

The real kubectl runs against the cluster double; every wait is `wait_newer` against a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.readiness import endpoints_ready, readiness
from kfinstall.kube.watch import ClusterWatch, WatchSnapshot, _JsonStream
from kfinstall.manifests.objects import COMPONENT_LABEL
from tests.double.fixtures import ClusterHandle
from tests.paths import real_kubectl

Obj = dict[str, Any]


def workload(kind: str, name: str, component: str | None = "web", replicas: int = 1) -> Obj:
    labels = {COMPONENT_LABEL: component} if component else {}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {
            # a DaemonSet has no replicas: the API server refuses the field (tests/double/typed.py)
            **({} if kind == "DaemonSet" else {"replicas": replicas}),
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "web"}]},
            },
        },
    }


SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 443, "targetPort": 8443}]},
}


def apply(cluster: ClusterHandle, *objects: Obj) -> None:
    result = cluster.kubectl("apply", "--server-side", "-f", "-", input="\n".join(json.dumps(o) for o in objects))
    assert result.returncode == 0, result.stderr


def names(snapshot: WatchSnapshot, component: str = "web") -> list[str]:
    return [obj["metadata"]["name"] for obj in snapshot.workloads.get(component, [])]


def until(watch: ClusterWatch, condition: Callable[[WatchSnapshot], bool], timeout: float = 10.0) -> WatchSnapshot:
    """The first view for which `condition` holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    snapshot = watch.snapshot()
    while not condition(snapshot):
        left = deadline - time.monotonic()
        assert left > 0, f"the view never got there; last: {snapshot}"
        snapshot = watch.wait_newer(snapshot.generation, left)
    return snapshot


@pytest.fixture
def start_watch(cluster: ClusterHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ClusterWatch]]:
    """`start_watch(**options)`: a started ClusterWatch on the double (with its context), stopped at teardown."""
    for name, value in cluster.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KFINSTALL_KUBECTL", str(real_kubectl()))
    watches: list[ClusterWatch] = []

    def start(**options: Any) -> ClusterWatch:
        watches.append(ClusterWatch(Kubectl(cluster.context), **options).start())
        return watches[-1]

    yield start
    for watch in watches:
        watch.stop()


def test_a_labelled_deployment_becoming_ready_shows_in_the_view(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    cluster.knobs(ready_delay=0.5)
    watch = start_watch()
    until(watch, lambda s: s.synced)
    apply(cluster, workload("Deployment", "web"))
    first = until(watch, lambda s: "web" in names(s))
    assert not readiness(first.workloads["web"][0]).ready
    ready = until(watch, lambda s: readiness(s.workloads["web"][0]).ready)
    stored = cluster.object("Deployment", "web", "default")
    assert stored is not None
    assert ready.workloads["web"][0]["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


def test_a_change_reaches_the_view_well_within_a_second(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    apply(cluster, workload("Deployment", "web"))
    watch = start_watch()
    until(watch, lambda s: s.synced and "web" in names(s))
    apply(cluster, workload("Deployment", "web", replicas=2))
    applied = time.monotonic()  # the API server has the change (the event may have arrived already)
    until(watch, lambda s: s.workloads["web"][0]["spec"]["replicas"] == 2)
    assert time.monotonic() - applied < 1.0  # polling took 0.3-0.8 s; a watch takes milliseconds


def test_the_first_synced_view_holds_what_existed_before_the_watch(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    apply(cluster, workload("Deployment", "web"), workload("StatefulSet", "db"), workload("DaemonSet", "agent"))
    synced = until(start_watch(), lambda s: s.synced)
    assert sorted(names(synced)) == ["agent", "db", "web"]
    assert {obj["kind"] for obj in synced.workloads["web"]} == {"Deployment", "StatefulSet", "DaemonSet"}


def test_a_watch_not_started_has_an_empty_unsynced_view() -> None:
    snapshot = ClusterWatch(Kubectl()).snapshot()
    assert (snapshot.synced, snapshot.workloads, snapshot.endpoints) == (False, {}, {})


def test_workloads_are_grouped_by_their_component(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    apply(cluster, workload("Deployment", "web"), workload("Deployment", "api", component="backend"))
    synced = until(start_watch(), lambda s: s.synced)
    assert (names(synced, "web"), names(synced, "backend")) == (["web"], ["api"])


def test_unlabelled_workloads_are_not_in_the_view(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    watch = start_watch()
    apply(cluster, workload("Deployment", "stray", component=None), workload("Deployment", "web"))
    snapshot = until(watch, lambda s: "web" in names(s))
    everything = [obj["metadata"]["name"] for objs in snapshot.workloads.values() for obj in objs]
    assert everything == ["web"]  # neither `stray` nor kube-system's coredns


def test_a_deleted_workload_leaves_the_view(cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]) -> None:
    watch = start_watch()
    apply(cluster, workload("StatefulSet", "db"))
    until(watch, lambda s: "db" in names(s))
    assert cluster.kubectl("delete", "statefulset", "db", "-n", "default").returncode == 0
    assert "web" not in until(watch, lambda s: "db" not in names(s)).workloads


def test_endpoints_appear_when_the_service_has_ready_pods(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    watch = start_watch()
    apply(cluster, SERVICE, workload("Deployment", "web"))
    snapshot = until(
        watch, lambda s: ("default", "web") in s.endpoints and endpoints_ready(s.endpoints["default", "web"])
    )
    assert [len(subset["addresses"]) for subset in snapshot.endpoints["default", "web"]["subsets"]] == [1]


def test_without_endpoints_the_view_has_none_and_still_syncs(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    snapshot = until(start_watch(endpoints=False), lambda s: s.synced)
    assert snapshot.endpoints == {}
    assert not [request for request in cluster.requests() if request["path"] == "/api/v1/endpoints"]


def test_a_change_after_the_watch_streams_drop_still_shows_up(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    apply(cluster, workload("Deployment", "web"))
    watch = start_watch()
    until(watch, lambda s: s.synced and "web" in names(s))
    cluster.server.cluster.close_watches()
    apply(cluster, workload("Deployment", "web", replicas=3))
    until(watch, lambda s: s.workloads["web"][0]["spec"]["replicas"] == 3)


def test_a_change_after_an_apiserver_restart_shows_up(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    watch = start_watch()
    until(watch, lambda s: s.synced)
    cluster.restart(down_for=0.5, block=True)
    apply(cluster, workload("Deployment", "web"))
    until(watch, lambda s: "web" in names(s))


def test_while_a_watch_is_down_the_view_keeps_its_last_state_and_the_relist_drops_what_is_gone(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    apply(cluster, workload("Deployment", "web"), workload("Deployment", "api"))
    watch = start_watch()
    until(watch, lambda s: s.synced and sorted(names(s)) == ["api", "web"])
    cluster.fault(error_rate=1.0, error_paths=r"^/apis/apps/v1/deployments$")  # lists fail: the watch stays down
    cluster.server.cluster.close_watches()
    assert cluster.kubectl("delete", "deployment", "api", "-n", "default").returncode == 0
    down = watch.snapshot()
    assert down.synced and sorted(names(down)) == ["api", "web"]
    cluster.fault(error_rate=0.0)
    until(watch, lambda s: names(s) == ["web"])


def kubectl_children() -> list[int]:
    """Processes of ours (children of this test process) running kubectl."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
            if int(fields[1]) == os.getpid() and fields[0] != "Z" and cmdline[0].endswith(b"kubectl"):
                children.append(int(stat.parent.name))
    return children


def test_stop_leaves_no_kubectl_running(cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]) -> None:
    watch = start_watch()
    until(watch, lambda s: s.synced)
    # an event from each watch after the lists: all four watch processes are running
    apply(
        cluster, SERVICE, workload("Deployment", "web"), workload("StatefulSet", "db"), workload("DaemonSet", "agent")
    )
    until(watch, lambda s: len(names(s)) == 3 and ("default", "web") in s.endpoints)
    processes = watch.processes()
    assert len(processes) == 4 and len(kubectl_children()) == 4
    watch.stop()
    assert not any(process.is_alive() for process in processes)
    assert (watch.processes(), kubectl_children()) == ([], [])
    watch.stop()  # again: nothing to do


def test_a_stopped_watch_no_longer_blocks_waiters(
    cluster: ClusterHandle, start_watch: Callable[..., ClusterWatch]
) -> None:
    watch = start_watch()
    synced = until(watch, lambda s: s.synced)
    watch.stop()
    started = time.monotonic()
    watch.wait_newer(synced.generation, timeout=30)
    assert time.monotonic() - started < 1.0


def test_pretty_printed_documents_are_read_whole_and_warning_lines_skipped() -> None:
    stream = _JsonStream()
    lines = ["Warning: v1 Endpoints is deprecated", *json.dumps({"type": "ADDED", "n": [1]}, indent=2).splitlines()]
    lines.append('{"type": "DELETED"}')
    assert [doc for line in lines for doc in stream.feed(line)] == [{"type": "ADDED", "n": [1]}, {"type": "DELETED"}]
