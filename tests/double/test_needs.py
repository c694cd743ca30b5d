"""Runtime dependencies (knob `needs`): a pod started before what it needs crash-loops with the kubelet's back-off."""

from __future__ import annotations

import time

from tests.double.fixtures import ClusterHandle
from tests.double.test_api import apply, wait_for

NS = """
apiVersion: v1
kind: Namespace
metadata: {name: work}
"""

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: work}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec: {containers: [{name: main, image: example.com/app:1}]}
"""

DB = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: work}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: mysql, image: example.com/mysql:8}]}
"""


def app_container(cluster: ClusterHandle) -> dict:
    """The container status of the app's one pod (an empty dict until it has one)."""
    pods = [p for p in cluster.objects("Pod", "work") if p["metadata"]["labels"].get("app") == "app"]
    assert len(pods) <= 1
    return ((pods[0].get("status") or {}).get("containerStatuses") or [{}])[0] if pods else {}


def available(cluster: ClusterHandle, name: str = "app") -> bool:
    conditions = (cluster.object("Deployment", name, "work") or {}).get("status", {}).get("conditions") or []
    return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)


def wait_available(cluster: ClusterHandle, timeout: str = "20s") -> None:
    result = cluster.kubectl(
        "wait", "--for=condition=Available", "-n", "work", "deployment/app", f"--timeout={timeout}"
    )
    assert result.returncode == 0, result.stderr


def test_a_workload_started_before_its_need_is_ready_at_the_first_back_off_attempt_after_the_need_is(make_cluster):
    # Starts (after the app's own 0.1 s) at +0 (and at once again), +0.6, +1.8, +4.2, +9.0 s: back-off 0.6 s
    # doubling from the second crash.
    cluster = make_cluster(
        needs={"work/app": ["work/db"]}, crash_backoff=0.6, crash_backoff_max=10, ready_delays={"work/*": 0.1}
    )
    started = time.monotonic()
    apply(cluster, NS + "---" + APP)
    applied = time.monotonic()
    wait_for(lambda: app_container(cluster).get("restartCount", 0) >= 4)
    shown = cluster.kubectl("get", "pods", "-n", "work").stdout

    apply(cluster, DB)
    db = cluster.kubectl("rollout", "status", "-n", "work", "statefulset/db", "--timeout=20s")
    available_when_db_was = available(cluster)
    wait_available(cluster)
    ready_after = time.monotonic()

    assert "CrashLoopBackOff" in shown and " 4 " in shown
    assert db.returncode == 0, db.stderr
    assert available_when_db_was is False
    assert app_container(cluster)["restartCount"] == 4  # ready from the 5th start on, the first after the db's
    assert app_container(cluster)["lastState"]["terminated"]["exitCode"] == 1
    assert started + 0.1 + 4.2 <= ready_after < applied + 0.1 + 9.0


def test_a_workload_whose_needs_are_ready_when_it_starts_is_ready_after_its_own_delay(make_cluster):
    cluster = make_cluster(needs={"work/app": ["work/db"]}, crash_backoff=30, ready_delays={"work/app": 0.5})
    apply(cluster, NS + "---" + DB)
    db = cluster.kubectl("rollout", "status", "-n", "work", "statefulset/db", "--timeout=20s")
    assert db.returncode == 0, db.stderr
    started = time.monotonic()

    apply(cluster, APP)
    wait_available(cluster, timeout="10s")  # a crash would mean 30 s of back-off

    assert time.monotonic() - started >= 0.5
    assert app_container(cluster)["restartCount"] == 0


def test_a_workload_whose_need_never_appears_keeps_crash_looping(make_cluster):
    cluster = make_cluster(needs={"app": ["work/missing-*"]}, crash_backoff=0.2, crash_backoff_max=0.4)
    apply(cluster, NS + "---" + APP)

    wait_for(lambda: app_container(cluster).get("restartCount", 0) >= 4)
    container = app_container(cluster)
    events = [e["message"] for e in cluster.objects("Event", "work") if e["reason"] == "BackOff"]

    assert container["ready"] is False
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container["state"]["waiting"]["message"].startswith("back-off 400ms restarting failed container=main pod=")
    assert events and events[0].startswith("Back-off restarting failed container main in pod app-")
    assert available(cluster) is False


def test_a_needs_pattern_matching_the_workload_itself_is_ignored(make_cluster):
    cluster = make_cluster(needs={"work/*": ["work/*"]}, crash_backoff=30, ready_delays={"work/app": 0.1})
    apply(cluster, NS + "---" + APP)

    wait_available(cluster, timeout="10s")

    assert app_container(cluster)["restartCount"] == 0


def test_a_started_pod_stays_ready_when_its_need_goes_away(make_cluster):
    cluster = make_cluster(needs={"work/app": ["work/db"]}, crash_backoff=0.1, ready_delays={"work/*": 0.1})
    apply(cluster, NS + "---" + DB + "---" + APP)
    wait_available(cluster)

    deleted = cluster.kubectl("delete", "-n", "work", "statefulset/db", "--wait=true")
    time.sleep(0.5)  # several back-off periods: a crash-looping pod would have restarted by now

    assert deleted.returncode == 0, deleted.stderr
    assert cluster.object("StatefulSet", "db", "work") is None
    assert available(cluster) is True
    assert app_container(cluster)["ready"] is True


def ready_time(cluster: ClusterHandle, name: str) -> float:
    """When the timeline first saw the workload `name` ready (its clock)."""
    return next(e["time"] for e in cluster.timeline() if e["name"] == name and e["ready"])


def test_the_first_restart_after_a_crash_is_at_once_and_the_back_off_starts_with_the_second(make_cluster):
    cluster = make_cluster(needs={"work/app": ["work/db"]}, crash_backoff=30, ready_delays={"work/app": 0.1})
    apply(cluster, NS + "---" + APP)

    wait_for(lambda: app_container(cluster).get("restartCount", 0) >= 2)
    waiting = app_container(cluster)["state"]["waiting"]

    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith("back-off 30s restarting failed container=main pod=")


def test_a_crash_looping_pod_deleted_once_its_need_is_ready_is_replaced_by_one_that_starts_without_back_off(
    make_cluster,
):
    # 300 s of back-off after the second crash: without the deletion the app would be ready ~5 minutes on
    cluster = make_cluster(needs={"work/app": ["work/db"]}, crash_backoff=300, ready_delays={"work/*": 0.1})
    apply(cluster, NS + "---" + APP)
    wait_for(lambda: app_container(cluster).get("restartCount", 0) >= 2)
    crashed = next(p for p in cluster.objects("Pod", "work") if p["metadata"]["labels"].get("app") == "app")
    apply(cluster, DB)
    wait_for(lambda: any(e["name"] == "db" and e["ready"] for e in cluster.timeline()))

    deleted = cluster.kubectl("delete", "pod", "-n", "work", crashed["metadata"]["name"], "--wait=false")
    wait_available(cluster, timeout="60s")

    assert deleted.returncode == 0, deleted.stderr
    replacement = app_container(cluster)
    assert replacement["restartCount"] == 0 and replacement["ready"] is True
    assert ready_time(cluster, "app") - ready_time(cluster, "db") < 300  # not after the back-off
