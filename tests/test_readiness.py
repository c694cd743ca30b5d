"""Readiness of what up applied, and the reason a human needs when a pod is not ready."""

from __future__ import annotations

from typing import Any

from kfinstall.kube.readiness import endpoints_ready, pod_problem, readiness


def deployment(replicas: int = 1, available: int = 1, generation: int = 2, observed: int = 2) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "d", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "availableReplicas": available,
            "updatedReplicas": available,
            "conditions": [{"type": "Available", "status": "True" if available >= replicas else "False"}],
        },
    }


def test_deployment_with_all_replicas_available_is_ready() -> None:
    assert readiness(deployment(replicas=2, available=2)).ready


def test_deployment_short_of_replicas_reports_progress() -> None:
    state = readiness(deployment(replicas=2, available=1))
    assert (state.ready, state.ready_count, state.wanted, state.detail) == (False, 1, 2, "1/2 replicas available")


def test_deployment_status_of_an_older_generation_is_not_trusted() -> None:
    assert not readiness(deployment(generation=3, observed=2)).ready


def test_deployment_without_status_is_not_ready() -> None:
    assert not readiness({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {}}).ready


def test_crd_is_ready_once_established() -> None:
    crd = {"kind": "CustomResourceDefinition", "status": {"conditions": [{"type": "Established", "status": "True"}]}}
    assert readiness(crd).ready
    assert not readiness({"kind": "CustomResourceDefinition", "status": {}}).ready


def test_statefulset_and_daemonset_count_ready_pods() -> None:
    sts = {"kind": "StatefulSet", "spec": {"replicas": 1}, "status": {"readyReplicas": 1}}
    ds = {"kind": "DaemonSet", "status": {"desiredNumberScheduled": 1, "numberReady": 0}}
    assert readiness(sts).ready
    assert readiness(ds).detail == "0/1 pods ready"


def test_other_kinds_are_ready_once_they_exist() -> None:
    assert readiness({"kind": "ConfigMap"}).ready


def test_endpoints_need_a_ready_address() -> None:
    assert endpoints_ready({"subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]})
    assert not endpoints_ready({"subsets": [{"notReadyAddresses": [{"ip": "10.0.0.1"}]}]})
    assert not endpoints_ready({})


def pod(status: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": "katib-db-0", "namespace": "kubeflow"}, "status": status}


def test_ready_pod_has_no_problem() -> None:
    assert pod_problem(pod({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})) is None


def test_image_pull_backoff_names_the_image() -> None:
    problem = pod_problem(
        pod(
            {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "name": "db",
                        "image": "mysql:8.0.26",
                        "state": {"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x"'}},
                    }
                ],
            }
        )
    )
    assert problem is not None
    assert problem.reason == "ImagePullBackOff"
    assert "mysql:8.0.26" in problem.message


def test_crash_loop_reports_restarts_and_how_to_read_the_log() -> None:
    status = {
        "phase": "Running",
        "containerStatuses": [
            {"name": "db", "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        ],
    }
    problem = pod_problem(pod(status))
    assert problem is not None
    assert problem.message == "db restarted 7 times"
    assert "kubectl logs -n kubeflow katib-db-0 --previous" in problem.hint


def test_unschedulable_pod_shows_the_scheduler_message_verbatim_with_a_memory_hint() -> None:
    message = "0/1 nodes are available: 1 Insufficient memory."
    status = {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}],
    }
    problem = pod_problem(pod(status))
    assert problem is not None
    assert (problem.reason, problem.message) == ("Pending", message)
    assert "--memory" in problem.hint


def test_unschedulable_pod_without_condition_message_falls_back_to_its_event() -> None:
    status = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}
    event = {
        "involvedObject": {"name": "katib-db-0"},
        "reason": "FailedScheduling",
        "message": "0/1 nodes are available: 1 Insufficient cpu.",
    }
    problem = pod_problem(pod(status), [event])
    assert problem is not None
    assert problem.message == "0/1 nodes are available: 1 Insufficient cpu."
    assert "--cpus" in problem.hint
