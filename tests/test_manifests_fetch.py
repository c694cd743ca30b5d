"""Fetching the manifests: a shallow clone at the pinned tag, verified against the pinned commit, cached."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kfinstall.errors import KfError, UsageError
from kfinstall.manifests import checkout as manifests_checkout


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
    checkout = manifests_checkout.fetch("v1.0.0", commit, url)
    assert checkout.source == "clone"
    assert checkout.path == cache / "manifests" / f"v1.0.0-{commit[:12]}"
    assert (checkout.path / "common" / "cert-manager" / "kustomization.yaml").is_file()


def test_second_fetch_reuses_the_cache(upstream: tuple[str, str]) -> None:
    url, commit = upstream
    manifests_checkout.fetch("v1.0.0", commit, url)
    assert manifests_checkout.fetch("v1.0.0", commit, "file:///nonexistent").source == "cache"


def test_a_tag_at_another_commit_is_refused_with_both_shas(upstream: tuple[str, str], cache: Path) -> None:
    url, commit = upstream
    forged = "0" * 40
    with pytest.raises(KfError) as caught:
        manifests_checkout.fetch("v1.0.0", forged, url)
    assert commit in caught.value.message and forged in caught.value.message
    assert not any((cache / "manifests").iterdir())


def test_a_missing_tag_is_a_clear_error_without_retries(upstream: tuple[str, str]) -> None:
    url, commit = upstream
    with pytest.raises(KfError) as caught:
        manifests_checkout.fetch("v9.9.9", commit, url, backoff=30)
    assert "could not clone" in caught.value.message and "v9.9.9" in caught.value.message


def test_local_dir_must_look_like_a_manifests_checkout(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        manifests_checkout.use_local_dir(tmp_path, ["common/cert-manager"])
    (tmp_path / "common" / "cert-manager").mkdir(parents=True)
    checkout = manifests_checkout.use_local_dir(tmp_path, ["common/cert-manager"])
    assert (checkout.commit, checkout.source) == (None, "local")


def test_the_clone_allows_only_https_ssh_git_and_file_whatever_git_allow_protocol_says(
    upstream: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's GIT_ALLOW_PROTOCOL=ext (which would allow `ext::` and forbid `file`) does not reach the clone."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "ext")
    url, commit = upstream
    assert manifests_checkout.fetch("v1.0.0", commit, url).source == "clone"


def test_fetch_itself_refuses_an_ext_url_without_running_git(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(UsageError, match="ext:: remote helper"):
        manifests_checkout.fetch("v1.0.0", "0" * 40, f"ext::sh -c touch% {marker}")
    assert not marker.exists()


# What git said, captured from git 2.39.5 cloning the synthetic manifests (`git clone --quiet --depth 1 --branch
# v0.1.0`) into a tmpfs of 64 KiB (templates) and of 256 KiB (checkout), and a pack written to a full disk (a
# clone of the bundle's v1.10.2 into 1 MiB). Paths of the tmpfs shortened to /c.
FULL_BEFORE_THE_OBJECTS = """\
error: copy-fd: write returned: No space left on device
fatal: cannot copy '/usr/share/git-core/templates/info/exclude' to '/c/.x.partial/.git/info/exclude': No space left \
on device
"""
FULL_DURING_THE_PACK = """\
fatal: write error: No space left on device
fatal: fetch-pack: invalid index-pack output
"""
FULL_DURING_THE_CHECKOUT = """\
Note: switching to '4d766efa72640a3c2390c5ab1afc5603ada557f3'.

You are in 'detached HEAD' state. You can look around, make experimental
changes and commit them, and you can discard any commits you make in this
state without impacting any branches by switching back to a branch.

Turn off this advice by setting config variable advice.detachedHead to false

error: unable to write file common/oidc-authservice/base/authservice.yaml
error: unable to write file common/oidc-authservice/base/kustomization.yaml
error: unable to write file common/user-namespace/base/kustomization.yaml
error: unable to write file common/user-namespace/base/profile.yaml
fatal: unable to checkout working tree
warning: Clone succeeded, but checkout failed.
You can inspect what was checked out with 'git status'
and retry with 'git restore --source=HEAD :/'
"""


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (FULL_BEFORE_THE_OBJECTS, "copy-fd: write returned: No space left on device"),
        (FULL_DURING_THE_PACK, "write error: No space left on device"),
        (FULL_DURING_THE_CHECKOUT, "unable to write file common/oidc-authservice/base/authservice.yaml (and 3 more)"),
    ],
    ids=["before-the-objects", "during-the-pack", "during-the-checkout"],
)
def test_a_full_disk_is_named_as_the_cause_of_a_failed_clone_not_git_s_last_advice_line(output: str, message: str):
    failure = manifests_checkout.clone_failure(output)
    assert (failure.message, failure.disk) == (message, True)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (
            "fatal: unable to access 'https://github.com/kubeflow/manifests/': Could not resolve host: github.com",
            "unable to access 'https://github.com/kubeflow/manifests/': Could not resolve host: github.com",
        ),
        (
            "warning: Could not find remote branch v9.9.9 to clone.\nfatal: Remote branch v9.9.9 not found in upstream "
            "origin",
            "Remote branch v9.9.9 not found in upstream origin",
        ),
        (
            "error: RPC failed; curl 56 GnuTLS recv error (-9)\nfatal: early EOF\n"
            "fatal: fetch-pack: invalid index-pack output",
            "early EOF",
        ),
        ("fatal: write error: Broken pipe", "write error: Broken pipe"),
        ("", "git failed without a message"),
    ],
    ids=["dns", "missing-tag", "early-eof", "broken-pipe", "silent"],
)
def test_other_clone_failures_show_git_s_first_fatal_line(output: str, message: str) -> None:
    failure = manifests_checkout.clone_failure(output)
    assert (failure.message, failure.disk) == (message, False)


def test_a_full_disk_is_not_retried_even_when_a_file_name_says_tls(
    upstream: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The network words (`TLS`, `timed out`) are matched on git's output, which names the files it could not write."""
    counter, wrapper = tmp_path / "clones", tmp_path / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = clone ]; then echo x >> "{counter}"; printf "%s" "$FULL" >&2; exit 128; fi\n'
        'exec git "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("KFINSTALL_GIT", str(wrapper))
    # a file name holding a network word (constructed: a fork may have one)
    monkeypatch.setenv("FULL", FULL_DURING_THE_CHECKOUT.replace("user-namespace/base/profile", "istio/tls-secret"))
    url, commit = upstream
    with pytest.raises(KfError, match="unable to write file") as caught:
        manifests_checkout.fetch("v1.0.0", commit, url, backoff=30)
    assert "is full" in (caught.value.hint or "")
    assert counter.read_text().count("x") == 1
