"""What status computes from cluster-wide lists: component health with reasons, node usage with GPUs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kfinstall.kube.health import component_health, node_usage, parse_quantity
from kfinstall.manifests.objects import COMPONENT_LABEL


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


MAX = 2**63 - 1
#: apimachinery's own table: kubernetes/apimachinery pkg/api/resource/quantity_test.go, `TestQuantityParse`
#: (input, then `decQuantity(mantissa, exponent, ...)`, i.e. mantissa * 10**exponent).
APIMACHINERY_TABLE = [
    ("0", 0, 0), ("0n", 0, 0), ("0u", 0, 0), ("0m", 0, 0), ("0Ki", 0, 0), ("0k", 0, 0), ("0Mi", 0, 0),
    ("0M", 0, 0), ("0Gi", 0, 0), ("0G", 0, 0), ("0Ti", 0, 0), ("0T", 0, 0),
    ("1", 1, 0),
    ("1Ki", 1024, 0), ("8Ki", 8 * 1024, 0), ("7Mi", 7 * 1024**2, 0), ("6Gi", 6 * 1024**3, 0),
    ("5Ti", 5 * 1024**4, 0), ("4Pi", 4 * 1024**5, 0), ("3Ei", 3 * 1024**6, 0),
    ("10Ti", 10 * 1024**4, 0), ("100Ti", 100 * 1024**4, 0),
    ("5n", 5, -9), ("4u", 4, -6), ("3m", 3, -3), ("9", 9, 0), ("8k", 8, 3), ("50k", 5, 4), ("7M", 7, 6),
    ("6G", 6, 9), ("5T", 5, 12), ("40T", 4, 13), ("300T", 3, 14), ("2P", 2, 15), ("1E", 1, 18),
    ("1E-3", 1, -3), ("1e3", 1, 3), ("1E6", 1, 6), ("1e9", 1, 9), ("1E12", 1, 12), ("1e15", 1, 15), ("1E18", 1, 18),
    ("1e14", 1, 14), ("1e13", 1, 13), ("1e3", 1, 3), ("100.035k", 100035, 0),
    ("0.001", 1, -3), ("0.0005k", 5, -1), ("0.005", 5, -3), ("0.05", 5, -2), ("0.5", 5, -1), ("0.00050k", 5, -1),
    ("0.00500", 5, -3), ("0.05000", 5, -2), ("0.50000", 5, -1), ("0.5e0", 5, -1), ("0.5e-1", 5, -2),
    ("0.5e-2", 5, -3), ("0.5e0", 5, -1), ("10.035M", 10035, 3),
    ("1.2e3", 12, 2), ("1.3E+6", 13, 5), ("1.40e9", 14, 8), ("1.53E12", 153, 10), ("1.6e15", 16, 14),
    ("1.7E18", 17, 17),
    ("9.01", 901, -2), ("8.1k", 81, 2), ("7.123456M", 7123456, 0), ("6.987654321G", 6987654321, 0),
    ("5.444T", 5444, 9), ("40.1T", 401, 11), ("300.2T", 3002, 11), ("2.5P", 25, 14), ("1.01E", 101, 16),
    # things that saturate or round (up, to 1n)
    ("3.001n", 4, -9), ("1.1E-9", 2, -9), ("0.0000000001", 1, -9), ("0.0000000005", 1, -9),
    ("0.00000000050", 1, -9), ("0.5e-9", 1, -9), ("0.9n", 1, -9), ("0.00000012345", 124, -9),
    ("0.00000012354", 124, -9), ("9Ei", MAX, 0), ("9223372036854775807Ki", MAX, 0), ("12E", 12, 18),
    ("100.035Ki", 10243584, -2), ("0.5Mi", 524288, 0), ("0.05Gi", 536870912, -1), ("0.025Ti", 274877906944, -1),
    # "things written by trolls"
    ("0.000000000001Ki", 2, -9), (".001", 1, -3), (".0001k", 100, -3), ("1.", 1, 0), ("1.G", 1, 9),
]  # fmt: skip
#: The same test's `invalid` list, plus the empty string it refuses first, plus `K` (not a suffix: only `k`).
APIMACHINERY_INVALID = ["1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 ", ""]


@pytest.mark.parametrize(("text", "mantissa", "exponent"), APIMACHINERY_TABLE)
def test_quantities_parse_as_apimachinery_s_own_table_says(text: str, mantissa: int, exponent: int) -> None:
    expected = float(Decimal(mantissa).scaleb(exponent))
    assert parse_quantity(text) == expected
    assert parse_quantity("+" + text) == expected  # the table is run signed too
    assert parse_quantity("-" + text) == -expected


@pytest.mark.parametrize("text", [*APIMACHINERY_INVALID, "1K", "64KB", "nan", "inf", "1e", "Mi"])
def test_a_string_outside_the_quantity_grammar_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


def test_node_usage_counts_an_unparsable_quantity_as_zero_instead_of_failing() -> None:
    nodes = [{"metadata": {"name": "minikube"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}]
    pods = [{"spec": {"nodeName": "minikube", "containers": [
        {"resources": {"requests": {"cpu": "1K", "memory": "64k"}}},
        {"resources": {"requests": {"cpu": "500u", "memory": "1Gi"}}},
    ]}, "metadata": {"name": "p", "namespace": "x"}}]  # fmt: skip
    (usage,) = node_usage(nodes, pods)
    assert usage.cpu_requested == 0.0005
    assert usage.memory_requested == 64000 + 2**30


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
