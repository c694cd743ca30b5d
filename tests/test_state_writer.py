"""The install record's writer: progress during a parallel install is written in few writes, never lost."""

from __future__ import annotations

import time

import pytest

from kfinstall.kube import record
from kfinstall.kube.kubectl import Kubectl
from tests.paths import real_kubectl


@pytest.fixture
def kubectl(cluster, monkeypatch: pytest.MonkeyPatch) -> Kubectl:
    for key, value in cluster.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("KFINSTALL_KUBECTL", str(real_kubectl()))
    return Kubectl(cluster.context)


def record_writes(cluster) -> int:
    return sum(1 for r in cluster.requests() if r["method"] == "PATCH" and "kfinstall-install" in r["path"])


def new_record() -> record.InstallRecord:
    return record.InstallRecord("v0.1.0", "c" * 40, "standard", "0", record.now())


def test_progress_within_the_coalescing_window_is_one_write(cluster, kubectl: Kubectl) -> None:
    writer = record.RecordWriter(kubectl, new_record(), coalesce=0.5)
    for component in ("istio", "dex", "katib"):
        writer.applied(component, "hash")
    assert record_writes(cluster) == 0
    time.sleep(1.5)
    assert record_writes(cluster) == 1
    assert sorted(record.read(kubectl).components) == ["dex", "istio", "katib"]


def test_flush_writes_waiting_progress_at_once(cluster, kubectl: Kubectl) -> None:
    writer = record.RecordWriter(kubectl, new_record(), coalesce=60)
    writer.applied("istio", "hash")
    writer.flush()
    assert sorted(record.read(kubectl).components) == ["istio"]


def test_a_component_already_recorded_ready_costs_no_write(cluster, kubectl: Kubectl) -> None:
    writer = record.RecordWriter(kubectl, new_record())
    writer.applied("istio", "hash")
    writer.ready("istio")
    before = record_writes(cluster)
    writer.ready("istio")
    assert record_writes(cluster) == before


def test_a_record_write_the_api_server_answers_with_503_is_tried_again_until_it_lands(
    cluster, kubectl: Kubectl
) -> None:
    """apiserver 503s (an overloaded or restarting API server) must not lose the record at the end of an install."""
    writer = record.RecordWriter(kubectl, new_record(), coalesce=60)
    writer.applied("istio", "hash")
    cluster.fault(error_rate=1.0, error_code=503, error_paths="kfinstall-install", count=2)

    writer.flush()

    failed = [r for r in cluster.requests() if r["status"] == 503 and "kfinstall-install" in r["path"]]
    assert len(failed) == 2, "the fault refuses the first two writes"
    assert sorted(record.read(kubectl).components) == ["istio"]


def test_a_record_write_the_cluster_rejects_for_good_is_an_error_at_once(cluster, kubectl: Kubectl) -> None:
    writer = record.RecordWriter(kubectl, new_record(), coalesce=60)
    writer.applied("istio", "hash")
    cluster.fault(error_rate=1.0, error_code=500, error_paths="kfinstall-install")

    with pytest.raises(record.KfError, match="cannot write the install record"):
        writer.flush()
