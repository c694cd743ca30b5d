"""An unwritable HOME, log or cache directory (here: a file where the directory should be, which stops root
too): one `error:` line naming the directory and the variable that moves it, never a chained traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A plain file: every directory below it is impossible to create."""
    path = tmp_path / "not-a-directory"
    path.write_text("")
    return path


def up(env: dict[str, str], release: LocalRelease):
    return kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", env=env)


def assert_one_clear_error(result, says: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "NotADirectoryError" not in result.stderr, result.stderr
    assert result.stderr.count("error:") == 1 and says in result.stderr, result.stderr
    assert "hint:" in result.stderr


def test_an_unwritable_log_directory_is_one_error_before_anything_starts(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path, blocker: Path
) -> None:
    env = {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_LOG_DIR": str(blocker / "logs")}
    result = up(env, synthetic_release)
    assert_one_clear_error(result, f"cannot write the log file in {blocker / 'logs'}: Not a directory")
    assert "KFINSTALL_LOG_DIR" in result.stderr
    assert fake_tools.calls("minikube") == []


def test_an_unwritable_home_is_one_error_for_down_too(fake_tools: FakeTools, tmp_path: Path, blocker: Path) -> None:
    moved = ("KFINSTALL_LOG_DIR", "KFINSTALL_CACHE_DIR")  # the defaults under HOME, then
    env = {key: value for key, value in fake_tools.env.items() if key not in moved}
    result = kfinstall("down", "--yes", env={**env, "HOME": str(blocker), "XDG_STATE_HOME": ""})
    assert_one_clear_error(result, f"cannot write the log file in {blocker}/")
    assert fake_tools.calls("minikube") == []


def test_an_unwritable_cache_directory_is_one_error_with_the_log(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path, blocker: Path
) -> None:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_CACHE_DIR": str(blocker / "cache")}
    result = up(env, synthetic_release)
    assert_one_clear_error(result, f"cannot write the manifests cache in {blocker / 'cache' / 'manifests'}")
    assert "KFINSTALL_CACHE_DIR" in result.stderr and "log: " in result.stderr
