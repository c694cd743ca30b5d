"""What built objects ask the scheduler for (manifests/requests.py), by kubernetes' PodRequests rules: pure."""

from __future__ import annotations

from typing import Any

import pytest

from kfinstall.manifests.requests import Requests, object_requests, pod_count, pod_requests, requests_of

MI = 2**20
GI = 2**30


def container(cpu: str | None = None, memory: str | None = None, **extra: Any) -> dict[str, Any]:
    requests = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value is not None}
    return {"name": "c", "image": "x", "resources": {"requests": requests}, **extra}


def deployment(kind: str = "Deployment", replicas: int | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"template": {"spec": {"containers": [container("250m", "64Mi")]}}, **spec}
    if replicas is not None:
        body["replicas"] = replicas
    return {"kind": kind, "metadata": {"name": "w"}, "spec": body}


def test_a_pod_requests_the_sum_of_its_containers() -> None:
    spec = {"containers": [container("500m", "1Gi"), container("100m", "128Mi")]}
    assert pod_requests(spec) == Requests(cpu=0.6, memory=GI + 128 * MI)


def test_an_init_container_larger_than_the_containers_sets_the_pod_request() -> None:
    spec = {"initContainers": [container("2", "64Mi")], "containers": [container("500m", "1Gi")]}
    assert pod_requests(spec) == Requests(cpu=2.0, memory=GI)


def test_init_containers_count_by_the_largest_not_their_sum() -> None:
    spec = {"initContainers": [container("1", "1Gi"), container("1", "1Gi")], "containers": [container("100m")]}
    assert pod_requests(spec) == Requests(cpu=1.0, memory=GI)


def test_a_sidecar_init_container_adds_to_the_containers_and_to_later_init_containers() -> None:
    sidecar = container("200m", "100Mi", restartPolicy="Always")
    spec = {"initContainers": [sidecar, container("1", "64Mi")], "containers": [container("100m", "50Mi")]}
    # the containers with the sidecar: 300m, 150Mi; the second init container with the sidecar: 1.2, 164Mi
    assert pod_requests(spec) == Requests(cpu=1.2, memory=164 * MI)


def test_limits_without_requests_count_as_requests() -> None:
    spec = {"containers": [{"name": "c", "resources": {"limits": {"cpu": "1", "memory": "2Gi"}}}]}
    assert pod_requests(spec) == Requests(cpu=1.0, memory=2 * GI)


def test_pod_overhead_is_added() -> None:
    spec = {"containers": [container("100m", "10Mi")], "overhead": {"cpu": "250m", "memory": "120Mi"}}
    assert pod_requests(spec) == Requests(cpu=0.35, memory=130 * MI)


def test_pod_level_requests_replace_the_containers_sum() -> None:
    spec = {"containers": [container("100m", "10Mi")], "resources": {"requests": {"cpu": "2"}}}
    assert pod_requests(spec) == Requests(cpu=2.0, memory=10 * MI)


@pytest.mark.parametrize(("quantity", "cores"), [("500m", 0.5), ("1e3", 1000.0), ("2", 2.0), ("0.25", 0.25)])
def test_cpu_quantities_read_as_kubernetes_reads_them(quantity: str, cores: float) -> None:
    assert pod_requests({"containers": [container(quantity)]}).cpu == cores


@pytest.mark.parametrize(("quantity", "amount"), [("1Gi", GI), ("128Mi", 128 * MI), ("1e3", 1000), ("1G", 10**9)])
def test_memory_quantities_read_as_kubernetes_reads_them(quantity: str, amount: int) -> None:
    assert pod_requests({"containers": [container(memory=quantity)]}).memory == amount


def test_a_container_without_requests_asks_nothing() -> None:
    assert pod_requests({"containers": [{"name": "c", "image": "x"}]}) == Requests()


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"])
def test_replicated_workloads_count_each_replica(kind: str) -> None:
    assert object_requests(deployment(kind, replicas=3)) == Requests(cpu=0.75, memory=192 * MI)


def test_a_workload_without_replicas_runs_one_pod() -> None:
    assert pod_count(deployment()) == 1


def test_a_workload_scaled_to_zero_asks_nothing() -> None:
    assert object_requests(deployment(replicas=0)) == Requests()


def test_a_daemonset_counts_once_on_the_one_node() -> None:
    assert object_requests(deployment("DaemonSet")) == Requests(cpu=0.25, memory=64 * MI)


def test_a_job_runs_its_parallelism_at_most_its_completions() -> None:
    assert pod_count(deployment("Job", parallelism=4)) == 4
    assert pod_count(deployment("Job", parallelism=4, completions=2)) == 2
    assert pod_count(deployment("Job")) == 1


def test_a_cronjob_runs_nothing_at_install_time() -> None:
    assert object_requests({"kind": "CronJob", "spec": {"jobTemplate": deployment("Job")}}) == Requests()


def test_a_persistent_volume_claim_asks_its_storage() -> None:
    claim = {"kind": "PersistentVolumeClaim", "spec": {"resources": {"requests": {"storage": "10Gi"}}}}
    assert object_requests(claim) == Requests(storage=10 * GI)


def test_statefulset_claim_templates_count_once_per_replica() -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "20Gi"}}}}
    sts = deployment("StatefulSet", replicas=2, volumeClaimTemplates=[claim])
    assert object_requests(sts) == Requests(cpu=0.5, memory=128 * MI, storage=40 * GI)


def test_objects_without_pods_or_volumes_ask_nothing() -> None:
    objects = [{"kind": "ConfigMap", "data": {}}, {"kind": "Service", "spec": {}}]
    assert requests_of(objects) == Requests()


def test_a_component_asks_the_sum_of_its_objects() -> None:
    claim = {"kind": "PersistentVolumeClaim", "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    assert requests_of([deployment(replicas=2), deployment("DaemonSet"), claim]) == Requests(
        cpu=0.75, memory=192 * MI, storage=GI
    )
