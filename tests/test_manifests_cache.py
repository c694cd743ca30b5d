"""The manifests cache survives what a machine does to it: a killed or interrupted clone, a full disk, an edit.

Through the real CLI (`kfinstall up` on the synthetic release: fake minikube, cluster double, real kubectl and the
real git). Each case ends with one `error:` + `hint:` + `log:` (or Ctrl-C's exit 130), nothing half-written in the
cache, and a re-run that recovers.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kfinstall.errors import KfError
from kfinstall.manifests import build
from kfinstall.manifests import checkout as manifests_checkout
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    environment = isolated_env(fake_tools.env, tmp_path)
    monkeypatch.setenv("KFINSTALL_CACHE_DIR", environment["KFINSTALL_CACHE_DIR"])  # for fetches in the test itself
    return environment


def up_args(release: LocalRelease) -> list[str]:
    return ["up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", "--timeout", "120"]


def up(env: dict[str, str], release: LocalRelease) -> subprocess.CompletedProcess[str]:
    return kfinstall(*up_args(release), env=env)


def partials(cache: Path) -> list[Path]:
    return list((cache / "manifests").glob(".*.partial")) if (cache / "manifests").is_dir() else []


def minikube_starts(fake_tools: FakeTools) -> list[list[str]]:
    return [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]


def one_clear_error(stderr: str) -> str:
    """The `error:` line (unwrapped), after checking there is exactly one, a hint, a log and no traceback."""
    flat = re.sub(r"\s+", " ", stderr)
    assert "Traceback" not in stderr and stderr.count("error:") == 1, stderr
    assert "hint:" in stderr and "log: " in stderr, stderr
    return flat[flat.index("error:") : flat.index("hint:")]


# A clone that is killed or interrupted ------------------------------------------------------------------------


@dataclass
class StalledGit:
    """A git whose `clone` does the real clone, then stalls (a network that stops answering at the end)."""

    env: dict[str, str]
    cloned: Path
    pid_file: Path

    def wait_until_cloned(self, process: subprocess.Popen[str], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not self.cloned.exists():
            assert process.poll() is None, f"kfinstall ended before the clone: {process.communicate()}"
            assert time.monotonic() < deadline, "the clone did not happen"
            time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int(self.pid_file.read_text()), signal.SIGKILL)


@pytest.fixture
def stalled_git(tmp_path: Path) -> Iterator[StalledGit]:
    real = shutil.which("git")
    assert real is not None
    cloned, pid_file, wrapper = tmp_path / "cloned", tmp_path / "git.pid", tmp_path / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = clone ]; then\n'
        f'  "{real}" "$@" || exit $?\n'
        f'  echo $$ > "{pid_file}"; touch "{cloned}"\n'
        "  exec sleep 600\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    git = StalledGit({"KFINSTALL_GIT": str(wrapper)}, cloned, pid_file)
    yield git
    git.stop()


def start_up(env: dict[str, str], release: LocalRelease) -> subprocess.Popen[str]:
    """`kfinstall up` in a process group of its own, as a shell runs a foreground job."""
    return subprocess.Popen(
        [sys.executable, "-m", "kfinstall", *up_args(release)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def test_a_clone_interrupted_by_ctrl_c_leaves_no_partial_clone_and_a_rerun_clones_again(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, stalled_git: StalledGit, tmp_path: Path
) -> None:
    process = start_up({**env, **stalled_git.env}, synthetic_release)
    stalled_git.wait_until_cloned(process)
    assert partials(tmp_path / "cache")  # the clone is on disk, not yet verified and moved into place
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole foreground process group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert partials(tmp_path / "cache") == []
    assert not (tmp_path / "cache" / "manifests" / f"v0.1.0-{synthetic_release.commit[:12]}").exists()
    stalled_git.stop()
    result = up(env, synthetic_release)
    assert result.returncode == 0, result.stderr
    assert "(clone)" in result.stderr


def test_a_partial_clone_left_by_a_killed_run_is_removed_by_the_next_run(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, stalled_git: StalledGit, tmp_path: Path
) -> None:
    process = start_up({**env, **stalled_git.env}, synthetic_release)
    stalled_git.wait_until_cloned(process)
    os.killpg(process.pid, signal.SIGKILL)  # no chance to clean up: a power cut, the OOM killer, `kill -9`
    process.communicate(timeout=60)
    stalled_git.stop()
    (left,) = partials(tmp_path / "cache")
    result = up(env, synthetic_release)
    assert result.returncode == 0, result.stderr
    assert not left.exists() and partials(tmp_path / "cache") == []


def test_a_partial_clone_of_another_release_is_removed_only_when_nobody_is_cloning_it(
    env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    from kfinstall import locks

    manifests_dir = tmp_path / "cache" / "manifests"
    busy, stale = (
        manifests_dir / ".v9.9.9-000000000000.4242.partial",
        manifests_dir / ".v8.8.8-111111111111.4343.partial",
    )
    for partial in (busy, stale):
        (partial / ".git").mkdir(parents=True)
    with locks.hold(locks.checkout("v9.9.9-000000000000", "v9.9.9")):  # another kfinstall is cloning v9.9.9
        manifests_checkout.fetch(synthetic_release.tag, synthetic_release.commit, synthetic_release.repo_url)
    assert busy.is_dir() and not stale.exists()


# A full disk ---------------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """A tmpfs of a given size (a disk that fills up); skipped where mounting one is not allowed (not root)."""
    mounts: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a tmpfs needs root and mount(8)")
        target = tmp_path / "small-disk"
        target.mkdir(exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                                capture_output=True, text=True, check=False)  # fmt: skip
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounts.append(target)
        return target

    yield mount
    for target in mounts:
        subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@pytest.mark.parametrize(
    "size",
    [
        pytest.param("64k", id="full-before-the-objects"),  # git dies copying its templates: No space left on device
        pytest.param("256k", id="full-during-the-checkout"),  # objects in, files not: "unable to write file", advice
    ],
)
def test_a_clone_onto_a_full_disk_says_the_disk_is_full_and_a_rerun_with_room_recovers(
    size: str, fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, small_disk
) -> None:
    disk = small_disk(size)
    on_disk = {**env, "KFINSTALL_CACHE_DIR": str(disk)}
    result = kfinstall(*up_args(synthetic_release), "--skip-checks", env=on_disk)
    assert result.returncode == 1, result.stderr
    error = one_clear_error(result.stderr)
    assert "could not clone" in error and re.search("No space left on device|unable to write file", error), error
    assert "is full" in result.stderr and "KFINSTALL_CACHE_DIR" in result.stderr
    assert "check the network" not in result.stderr and "git restore" not in result.stderr  # not git's advice
    assert partials(disk) == [] and not list((disk / "manifests").glob("v0.1.0-*"))
    assert minikube_starts(fake_tools) == []
    subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True)  # the user frees some space
    result = kfinstall(*up_args(synthetic_release), "--skip-checks", env=on_disk)
    assert result.returncode == 0, result.stderr


# A checkout edited in the cache ----------------------------------------------------------------------------


def cached(release: LocalRelease) -> Path:
    return manifests_checkout.fetch(release.tag, release.commit, release.repo_url).path


def test_a_cached_checkout_edited_in_place_is_refused_not_installed_as_the_pinned_commit(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    checkout = cached(synthetic_release)
    edited = checkout / "common" / "cert-manager" / "base" / "cert-manager.yaml"
    edited.write_text(edited.read_text() + "# edited in the cache\n")
    result = up(env, synthetic_release)
    assert result.returncode == 1, result.stderr
    error = one_clear_error(result.stderr)
    assert f"the cached manifests checkout {checkout} differs from commit {synthetic_release.commit}" in error
    assert "M common/cert-manager/base/cert-manager.yaml" in error
    assert "--manifests-dir" in result.stderr and f"rm -rf '{checkout}'" in result.stderr
    assert edited.read_text().endswith("# edited in the cache\n")  # refused, not destroyed
    assert minikube_starts(fake_tools) == []
    shutil.rmtree(checkout)  # what the hint says
    result = up(env, synthetic_release)
    assert result.returncode == 0, result.stderr


def test_an_untracked_file_in_a_cached_checkout_is_refused(env: dict[str, str], synthetic_release: LocalRelease):
    checkout = cached(synthetic_release)
    (checkout / "common" / "extra.yaml").write_text("kind: ConfigMap\n")
    with pytest.raises(KfError, match=r"1 changed file\(s\): \?\? common/extra.yaml"):
        cached(synthetic_release)


def test_a_change_staged_in_a_cached_checkout_is_refused(env: dict[str, str], synthetic_release: LocalRelease):
    checkout = cached(synthetic_release)
    (checkout / "README.staged").write_text("staged\n")
    subprocess.run(["git", "-C", str(checkout), "add", "README.staged"], check=True)
    with pytest.raises(KfError, match=r"A  README.staged"):
        cached(synthetic_release)


def test_refusing_an_edited_checkout_drops_the_builds_cached_from_it(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    checkout = cached(synthetic_release)
    builds = build.cache_dir(synthetic_release.commit)
    builds.mkdir(parents=True)
    (builds / "built-from-the-edit.yaml").write_text("kind: ConfigMap\n")
    (checkout / "common" / "extra.yaml").write_text("kind: ConfigMap\n")
    with pytest.raises(KfError):
        cached(synthetic_release)
    assert not builds.exists()


def test_a_clean_cached_checkout_is_used_without_a_clone(env: dict[str, str], synthetic_release: LocalRelease):
    cached(synthetic_release)
    again = manifests_checkout.fetch(synthetic_release.tag, synthetic_release.commit, "file:///nonexistent")
    assert again.source == "cache"


def test_a_users_own_manifests_dir_with_local_edits_is_used_as_it_is(tmp_path: Path, synthetic_release) -> None:
    own = tmp_path / "own"
    subprocess.run(["git", "clone", "-q", synthetic_release.repo_url, str(own)], check=True)
    (own / "common" / "extra.yaml").write_text("kind: ConfigMap\n")
    checkout = manifests_checkout.use_local_dir(own, ["common/cert-manager"])
    assert (checkout.path, checkout.commit, checkout.source) == (own.resolve(), None, "local")
    status = subprocess.run(["git", "-C", str(own), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout.strip() == "?? common/extra.yaml"  # untouched
