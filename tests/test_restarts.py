"""Which crash-looping pods `up` restarts when what they wait on becomes ready (install/restarts.py), from views of
the cluster as the shared watch holds them: pure data in, restarts out."""

from __future__ import annotations

from datetime import datetime, timezone

from kfinstall.install.restarts import Need, Restarts, duration
from kfinstall.kube.readiness import crash_back_off
from kfinstall.kube.watch import WatchSnapshot

T0 = 1_800_000_000.0  # the tests' clock: epoch seconds
MYSQL = Need("pipelines", frozenset({"ml-pipeline"}), "pipelines", "mysql")


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(name: str, *, ready: bool, component: str = "pipelines") -> dict:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "kubeflow", "generation": 1,
                     "labels": {"kfinstall.dev/component": component}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                   "readyReplicas": int(ready), "availableReplicas": int(ready),
                   "conditions": [{"type": "Available", "status": "True" if ready else "False"}]},
    }  # fmt: skip


def crash_looping(app: str, uid: str, *, created: float, crashed: float, back_off: str = "40s") -> dict:
    return {
        "metadata": {"name": f"{app}-{uid}", "namespace": "kubeflow", "uid": uid, "labels": {"app": app},
                     "creationTimestamp": iso(created)},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{
                "name": "main", "ready": False, "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                                      "message": f"back-off {back_off} restarting failed container=main pod=x"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": iso(crashed)}},
            }],
        },
    }  # fmt: skip


def view(generation: int, *, mysql_ready: bool, pods: list[dict], others: tuple[dict, ...] = ()) -> WatchSnapshot:
    workloads = [deployment("mysql", ready=mysql_ready), deployment("ml-pipeline", ready=False), *others]
    keyed = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods}
    return WatchSnapshot(generation, {"pipelines": workloads}, {}, True, keyed)


def test_a_pod_that_crashed_before_its_need_was_ready_is_restarted_once_with_the_back_off_it_had_left():
    restarts = Restarts([MYSQL])
    pod = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 10)
    restarts.look(view(1, mysql_ready=False, pods=[pod]), {}, T0 + 20)

    first = restarts.look(view(2, mysql_ready=True, pods=[pod]), {}, T0 + 30)
    again = restarts.look(view(3, mysql_ready=True, pods=[pod]), {}, T0 + 31)

    assert [(r.pod, r.because, r.saved) for r in first] == [("ml-pipeline-a", "mysql", 20.0)]
    assert first[0].message == "restarted ml-pipeline-a: mysql is ready, skipping 20s of back-off"
    assert again == []


def test_a_pod_made_after_its_need_was_ready_is_left_to_the_kubelet():
    restarts = Restarts([MYSQL])
    restarts.look(view(1, mysql_ready=False, pods=[]), {}, T0)
    restarts.look(view(2, mysql_ready=True, pods=[]), {}, T0 + 10)
    replacement = crash_looping("ml-pipeline", "b", created=T0 + 11, crashed=T0 + 12)

    assert restarts.look(view(3, mysql_ready=True, pods=[replacement]), {}, T0 + 13) == []


def test_a_crash_after_the_need_was_ready_is_not_the_needs_doing():
    restarts = Restarts([MYSQL])
    pod = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 1)
    restarts.look(view(1, mysql_ready=False, pods=[pod]), {}, T0 + 2)
    restarts.look(view(2, mysql_ready=True, pods=[pod]), {}, T0 + 5)
    crashed_later = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 8)

    assert restarts.look(view(3, mysql_ready=True, pods=[crashed_later]), {}, T0 + 9) == []


def test_a_need_already_ready_at_the_first_look_restarts_nothing():
    restarts = Restarts([MYSQL])
    pod = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 10)

    assert restarts.look(view(1, mysql_ready=True, pods=[pod]), {}, T0 + 20) == []
    assert restarts.look(view(2, mysql_ready=True, pods=[pod]), {}, T0 + 21) == []


def test_only_pods_of_the_workloads_that_wait_on_the_need_are_restarted():
    restarts = Restarts([MYSQL])
    own = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 10)
    other = crash_looping("ml-pipeline-ui", "b", created=T0, crashed=T0 + 10)
    ui = (deployment("ml-pipeline-ui", ready=False),)
    restarts.look(view(1, mysql_ready=False, pods=[own, other], others=ui), {}, T0 + 11)

    restarted = restarts.look(view(2, mysql_ready=True, pods=[own, other], others=ui), {}, T0 + 12)

    assert [r.pod for r in restarted] == ["ml-pipeline-a"]


def test_a_dependency_component_counts_from_when_the_installer_found_it_ready():
    need = Need("pipelines", frozenset(), "oidc-authservice")
    restarts = Restarts([need])
    before = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 10)
    after = crash_looping("ml-pipeline", "b", created=T0 + 30, crashed=T0 + 31)
    restarts.look(view(1, mysql_ready=True, pods=[]), {}, T0)

    restarted = restarts.look(view(2, mysql_ready=True, pods=[before, after]), {"oidc-authservice": T0 + 20}, T0 + 40)
    skipped = Restarts([need]).look(view(1, mysql_ready=True, pods=[before]), {"oidc-authservice": None}, T0 + 40)

    assert [(r.pod, r.because) for r in restarted] == [("ml-pipeline-a", "oidc-authservice")]
    assert skipped == []


def test_a_pod_whose_back_off_is_over_is_not_restarted():
    restarts = Restarts([MYSQL])
    pod = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 10, back_off="10s")
    restarts.look(view(1, mysql_ready=False, pods=[pod]), {}, T0 + 15)

    assert restarts.look(view(2, mysql_ready=True, pods=[pod]), {}, T0 + 21) == []


def test_the_back_off_is_read_from_the_kubelets_message_and_the_last_finish():
    pod = crash_looping("ml-pipeline", "a", created=T0, crashed=T0 + 10, back_off="2m40s")
    held = crash_back_off(pod)

    assert held is not None and (held.crashed_at, held.restart_at) == (T0 + 10, T0 + 170)
    assert crash_back_off({"status": {"containerStatuses": [{"state": {"running": {}}}]}}) is None


def test_the_time_saved_reads_like_the_kubelets_durations():
    assert [duration(s) for s in (0.4, 40, 160.4, 300)] == ["0.4s", "40s", "2m40s", "5m0s"]
