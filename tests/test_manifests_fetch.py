"""Fetching the manifests: a shallow clone at the pinned tag, verified against the pinned commit, cached."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kfinstall import manifests
from kfinstall.errors import KfError, UsageError


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[str, str]:
    """A local repository with a tag `v1.0.0`: (file URL, commit of the tag)."""
    repo = tmp_path / "upstream"
    (repo / "common" / "cert-manager").mkdir(parents=True)
    (repo / "common" / "cert-manager" / "kustomization.yaml").write_text("resources: []\n")
    _git("init", "--quiet", "-b", "main", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "release", cwd=repo)
    _git("tag", "v1.0.0", cwd=repo)
    return f"file://{repo}", _git("rev-parse", "HEAD", cwd=repo)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KFINSTALL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_clone_lands_in_the_cache_at_the_pinned_commit(upstream: tuple[str, str], cache: Path) -> None:
    url, commit = upstream
    checkout = manifests.fetch("v1.0.0", commit, url)
    assert checkout.source == "clone"
    assert checkout.path == cache / "manifests" / f"v1.0.0-{commit[:12]}"
    assert (checkout.path / "common" / "cert-manager" / "kustomization.yaml").is_file()


def test_second_fetch_reuses_the_cache(upstream: tuple[str, str]) -> None:
    url, commit = upstream
    manifests.fetch("v1.0.0", commit, url)
    assert manifests.fetch("v1.0.0", commit, "file:///nonexistent").source == "cache"


def test_a_tag_at_another_commit_is_refused_with_both_shas(upstream: tuple[str, str], cache: Path) -> None:
    url, commit = upstream
    forged = "0" * 40
    with pytest.raises(KfError) as caught:
        manifests.fetch("v1.0.0", forged, url)
    assert commit in caught.value.message and forged in caught.value.message
    assert not any((cache / "manifests").iterdir())


def test_a_missing_tag_is_a_clear_error_without_retries(upstream: tuple[str, str]) -> None:
    url, commit = upstream
    with pytest.raises(KfError) as caught:
        manifests.fetch("v9.9.9", commit, url, backoff=30)
    assert "could not clone" in caught.value.message and "v9.9.9" in caught.value.message


def test_local_dir_must_look_like_a_manifests_checkout(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        manifests.use_local_dir(tmp_path, ["common/cert-manager"])
    (tmp_path / "common" / "cert-manager").mkdir(parents=True)
    checkout = manifests.use_local_dir(tmp_path, ["common/cert-manager"])
    assert (checkout.commit, checkout.source) == (None, "local")


def test_the_clone_allows_only_https_ssh_git_and_file_whatever_git_allow_protocol_says(
    upstream: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's GIT_ALLOW_PROTOCOL=ext (which would allow `ext::` and forbid `file`) does not reach the clone."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext")
    url, commit = upstream
    assert manifests.fetch("v1.0.0", commit, url).source == "clone"


def test_fetch_itself_refuses_an_ext_url_without_running_git(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(UsageError, match="ext:: remote helper"):
        manifests.fetch("v1.0.0", "0" * 40, f"ext::sh -c touch% {marker}")
    assert not marker.exists()
