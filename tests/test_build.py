"""Building every component before applying anything, with the real kustomize engine (`kubectl kustomize`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfinstall.build import BuildTarget, build_all
from kfinstall.errors import KfError
from kfinstall.manifest import parse
from tests.paths import REPO_ROOT, real_kubectl

SYNTHETIC = REPO_ROOT / "tests" / "data" / "synthetic-manifests"


@pytest.fixture(autouse=True)
def only_kubectl_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """No standalone kustomize: the build falls back to kubectl's embedded engine."""
    monkeypatch.setenv("PATH", str(real_kubectl().parent))
    monkeypatch.delenv("KFINSTALL_KUSTOMIZE", raising=False)
    monkeypatch.setenv("KFINSTALL_KUBECTL", str(real_kubectl()))


def test_builds_every_target_with_the_real_engine() -> None:
    targets = [
        BuildTarget("cert-manager", "common/cert-manager/base"),
        BuildTarget("cert-manager", "common/cert-manager/kubeflow-issuer/base"),
    ]
    built = build_all(SYNTHETIC, targets)
    assert [obj["kind"] for obj in parse(built[targets[1]])] == ["ClusterIssuer"]
    assert "cert-manager-webhook" in built[targets[0]]


def test_a_missing_path_names_the_component_and_path() -> None:
    with pytest.raises(KfError) as caught:
        build_all(SYNTHETIC, [BuildTarget("katib", "apps/katib/upstream/installs/katib-with-kubeflow")])
    assert "cannot build katib" in caught.value.message
    assert "apps/katib/upstream/installs/katib-with-kubeflow" in caught.value.message


def test_a_broken_kustomization_shows_kustomizes_own_error(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    with pytest.raises(KfError) as caught:
        build_all(tmp_path, [BuildTarget("dex", "broken")])
    assert caught.value.message.startswith("building dex failed at broken: ")
    assert "missing.yaml" in caught.value.message
