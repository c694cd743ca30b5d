"""What status computes from cluster-wide lists: component health with reasons, node usage with GPUs."""

from __future__ import annotations

from typing import Any

from kfinstall.health import component_health, node_usage, parse_quantity
from kfinstall.manifest import COMPONENT_LABEL


def workload(name: str, component: str, ready: bool, namespace: str = "kubeflow") -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {COMPONENT_LABEL: component}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}},
        "status": {
            "availableReplicas": int(ready),
            "updatedReplicas": 1,
            "conditions": [{"type": "Available", "status": "True" if ready else "False"}],
        },
    }


def pod(app: str, status: dict[str, Any], namespace: str = "kubeflow", node: str = "minikube", **spec: Any) -> dict:
    return {
        "metadata": {"name": f"{app}-abc", "namespace": namespace, "labels": {"app": app}},
        "spec": {"nodeName": node, **spec},
        "status": status,
    }


PULL_BACKOFF = {
    "phase": "Pending",
    "containerStatuses": [{"image": "mysql:8", "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
}


def test_all_workloads_ready_is_ready() -> None:
    (health,) = component_health(["katib"], [workload("katib-ui", "katib", True)], [])
    assert (health.state, health.ready, health.total) == ("ready", 1, 1)


def test_image_pull_backoff_makes_a_component_failing_with_the_image_named() -> None:
    workloads = [workload("katib-ui", "katib", True), workload("katib-mysql", "katib", False)]
    (health,) = component_health(["katib"], workloads, [pod("katib-mysql", PULL_BACKOFF)])
    assert (health.state, health.ready, health.total) == ("failing", 1, 2)
    assert "mysql:8" in health.problems[0].message


def test_pods_of_other_components_are_not_blamed() -> None:
    workloads = [workload("katib-ui", "katib", False)]
    (health,) = component_health(["katib"], workloads, [pod("jupyter", PULL_BACKOFF)])
    assert (health.state, health.problems) == ("progressing", ())


def test_a_recorded_component_without_workloads_is_not_installed() -> None:
    (health,) = component_health(["dex"], [], [])
    assert health.state == "not installed"
    assert "kfinstall up" in health.hint


def test_quantities_parse_like_kubernetes() -> None:
    assert parse_quantity("500m") == 0.5
    assert parse_quantity("8Gi") == 8 * 2**30
    assert parse_quantity("4") == 4
    assert parse_quantity(None) == 0


def test_node_usage_sums_requests_and_names_gpu_holders() -> None:
    nodes = [
        {
            "metadata": {"name": "minikube"},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"}},
        }
    ]
    train = pod(
        "train",
        {"phase": "Running"},
        namespace="user",
        containers=[{"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"nvidia.com/gpu": "1"}}}],
    )
    done = pod("old", {"phase": "Succeeded"}, containers=[{"resources": {"requests": {"cpu": "2"}}}])
    (usage,) = node_usage(nodes, [train, done])
    assert (usage.cpu_capacity, usage.cpu_requested, usage.memory_requested) == (4, 1, 2**30)
    assert (usage.gpus_allocatable, usage.gpus_in_use, usage.gpu_pods) == (1, 1, ("user/train-abc",))
