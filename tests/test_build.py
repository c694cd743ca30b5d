"""Building every component before applying anything, with the real kustomize engine (`kubectl kustomize`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfinstall.errors import KfError
from kfinstall.manifests.build import BuildTarget, build_all
from kfinstall.manifests.objects import parse
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


# The build cache ---------------------------------------------------------------------------------------------

CERT_MANAGER = BuildTarget("cert-manager", "common/cert-manager/kubeflow-issuer/base")


def _copy_of_synthetic(tmp_path: Path) -> Path:
    import shutil

    checkout = tmp_path / "checkout"
    shutil.copytree(SYNTHETIC, checkout)
    return checkout


def _edit_issuer(checkout: Path) -> None:
    """Change the sources behind CERT_MANAGER, so a rebuild would give different YAML than the cache."""
    for source in (checkout / CERT_MANAGER.path).glob("*.yaml"):
        if source.name != "kustomization.yaml":
            source.write_text(source.read_text().replace("kubeflow-self-signing-issuer", "edited-issuer"))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KFINSTALL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_pinned_commit_is_built_once_and_then_read_from_the_cache(tmp_path: Path, cache: Path) -> None:
    checkout = _copy_of_synthetic(tmp_path)
    first = build_all(checkout, [CERT_MANAGER], commit="a" * 40)
    _edit_issuer(checkout)
    again = build_all(checkout, [CERT_MANAGER], commit="a" * 40)
    assert again == first
    assert list((cache / "builds" / ("a" * 40)).glob("*.yaml"))


def test_another_commit_is_built_afresh(tmp_path: Path, cache: Path) -> None:
    checkout = _copy_of_synthetic(tmp_path)
    build_all(checkout, [CERT_MANAGER], commit="a" * 40)
    _edit_issuer(checkout)
    assert "edited-issuer" in build_all(checkout, [CERT_MANAGER], commit="b" * 40)[CERT_MANAGER]


def test_a_local_checkout_without_commit_is_never_cached(tmp_path: Path, cache: Path) -> None:
    checkout = _copy_of_synthetic(tmp_path)
    build_all(checkout, [CERT_MANAGER])
    _edit_issuer(checkout)
    assert "edited-issuer" in build_all(checkout, [CERT_MANAGER])[CERT_MANAGER]
    assert not (cache / "builds").exists()


def test_another_kustomize_binary_is_built_afresh(tmp_path: Path, cache: Path, monkeypatch) -> None:
    import shutil

    checkout = _copy_of_synthetic(tmp_path)
    build_all(checkout, [CERT_MANAGER], commit="a" * 40)
    _edit_issuer(checkout)
    other = tmp_path / "bin" / "kubectl"
    other.parent.mkdir()
    shutil.copy2(real_kubectl(), other)
    other.touch()  # a newer binary in another place: an upgrade
    monkeypatch.setenv("KFINSTALL_KUBECTL", str(other))
    assert "edited-issuer" in build_all(checkout, [CERT_MANAGER], commit="a" * 40)[CERT_MANAGER]


def test_parsed_objects_are_cached_and_equal_to_a_fresh_parse(tmp_path: Path, cache: Path) -> None:
    from kfinstall.manifests.build import objects_all

    checkout = _copy_of_synthetic(tmp_path)
    fresh = objects_all(checkout, [CERT_MANAGER], commit="a" * 40)
    assert fresh[CERT_MANAGER] == parse(build_all(checkout, [CERT_MANAGER])[CERT_MANAGER])
    _edit_issuer(checkout)
    assert objects_all(checkout, [CERT_MANAGER], commit="a" * 40) == fresh
    assert list((cache / "builds" / ("a" * 40)).glob("*.json"))
