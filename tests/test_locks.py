"""Two kfinstalls at once: one clones and installs, the other waits for it, saying for whom, then finds it done.

Through the real CLI on the synthetic release (fake minikube, cluster double, real kubectl and git). Where the test
needs the two to overlap, it holds the lock itself first (as a third kfinstall would), so the overlap is certain
rather than a matter of timing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kfinstall import locks
from kfinstall.errors import KfError, UsageError
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
# This test process holds locks as a third kfinstall would; its holder record names this command line, whatever
# pytest's own arguments were (CI runs `python -m pytest` with none).
HOLDER = "kfinstall up -k v1.10.2"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The CLI's environment; this process uses the same cache directory, so the test can hold its locks."""
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    environment = isolated_env(fake_tools.env, tmp_path)
    monkeypatch.setenv("KFINSTALL_CACHE_DIR", environment["KFINSTALL_CACHE_DIR"])
    monkeypatch.setattr(sys, "argv", HOLDER.replace("kfinstall", "-m", 1).split())
    return environment


class Running:
    """A `kfinstall` process whose stderr is read as it comes, so a test can wait for a line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kfinstall", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The stderr so far, once it holds `text`; fails if the process ends (or `timeout` passes) without it."""
        with self._changed:
            self._changed.wait_for(lambda: text in self.text() or not self._reader.is_alive(), timeout)
            seen = self.text()
        assert text in seen, f"no {text!r} in:\n{''.join(self.lines)}"
        return seen

    def text(self) -> str:
        """stderr so far, its lines unwrapped (rich wraps them at 80 columns on a pipe)."""
        return re.sub(r"\s+", " ", "".join(self.lines))

    def finish(self, timeout: float = 240) -> tuple[int, str]:
        self.process.wait(timeout)
        self._reader.join(timeout)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.process.returncode, "".join(self.lines)


def up_args(release: LocalRelease) -> list[str]:
    return ["up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", "--timeout", "120"]


def clones_in_logs(log_dir: Path) -> int:
    """`git clone` calls recorded in the `up` logs (each line: date, time, `$ COMMAND`)."""
    clone = re.compile(r"^\S+ \S+ \$ \S*git clone ", re.M)
    return sum(len(clone.findall(log.read_text())) for log in log_dir.glob("*-up-*.log"))


def test_two_ups_at_once_on_an_empty_cache_clone_once_and_both_finish(
    env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    """Both wait while the manifests cache is busy; then one clones and installs, the other waits and reuses both."""
    checkout_lock = locks.checkout(f"v0.1.0-{synthetic_release.commit[:12]}", "v0.1.0")
    with locks.hold(checkout_lock):
        first, second = Running(up_args(synthetic_release), env), Running(up_args(synthetic_release), env)
        for run in (first, second):
            waiting = run.wait_for("waiting for another kfinstall")
            assert f"(pid {os.getpid()}: {HOLDER}," in waiting and "using the manifests cache of v0.1.0" in waiting
    (code1, err1), (code2, err2) = first.finish(), second.finish()
    assert (code1, code2) == (0, 0), err1 + err2
    both = re.sub(r"\s+", " ", err1 + err2)
    assert "Traceback" not in both and "Directory not empty" not in both
    assert both.count("(clone)") == 1 and both.count("(cache)") == 1, both
    assert re.search(r"waiting for another kfinstall \(pid \d+: kfinstall up .*using minikube profile 'kubeflow'", both)
    assert "Kubeflow v0.1.0 is ready" in err1 and "Kubeflow v0.1.0 is ready" in err2
    assert clones_in_logs(tmp_path / "logs") == 1
    manifests_dir = tmp_path / "cache" / "manifests"
    assert [p.name for p in manifests_dir.iterdir()] == [f"v0.1.0-{synthetic_release.commit[:12]}"]  # no .partial
    assert (tmp_path / "cache" / "locks").is_dir()  # the locks live in the cache, not the repository


def test_down_refuses_at_once_naming_the_up_that_holds_the_profile_with_lock_timeout_zero(
    fake_tools: FakeTools, env: dict[str, str]
) -> None:
    with locks.hold(locks.cluster("kubeflow", minikube=True)):
        result = kfinstall("down", "--yes", env={**env, "KFINSTALL_LOCK_TIMEOUT": "0"})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("error:") == 1
    assert f"error: another kfinstall (pid {os.getpid()}: {HOLDER}," in result.stderr
    assert "is using minikube profile 'kubeflow'" in result.stderr
    assert "hint: run this again once it has finished" in result.stderr and "log: " in result.stderr
    assert not [call for call in fake_tools.calls("minikube") if call[:1] == ["delete"]]


def test_up_with_lock_timeout_zero_refuses_before_touching_a_cluster_another_kfinstall_changes(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    with locks.hold(locks.cluster("kubeflow", minikube=True)):
        result = kfinstall(*up_args(synthetic_release), env={**env, "KFINSTALL_LOCK_TIMEOUT": "0"})
    assert result.returncode == 1, result.stderr
    assert "is using minikube profile 'kubeflow'" in result.stderr and "log: " in result.stderr
    assert not [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]


def test_a_lock_whose_holder_was_killed_is_free_at_once(fake_tools: FakeTools, env: dict[str, str]) -> None:
    """An OS lock dies with its holder (SIGKILL included): no stale lock to clean, only its old holder record."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom kfinstall import locks\n"
         "with locks.hold(locks.cluster('kubeflow', minikube=True)):\n"
         "    print('held', flush=True)\n    time.sleep(600)"],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    holder.kill()
    holder.wait(30)
    holder.stdout.close()
    result = kfinstall("down", "--yes", env={**env, "KFINSTALL_LOCK_TIMEOUT": "0"})
    assert result.returncode == 3, result.stderr  # it got the lock at once, and found nothing installed (exit 3)
    assert "there is no minikube profile 'kubeflow'" in result.stderr + result.stdout
    assert "waiting for" not in result.stderr + result.stdout


def test_the_waiting_message_names_the_holder_and_its_command(env: dict[str, str]) -> None:
    resource = locks.cluster("kubeflow", minikube=True)
    with locks.hold(resource):
        assert locks.describe_holder(resource).startswith(f"another kfinstall (pid {os.getpid()}: {HOLDER},")
    assert not resource.holder_path.exists()  # released: the record goes with it


def test_a_context_name_with_slashes_and_colons_gets_a_lock_file_of_its_own(env: dict[str, str]) -> None:
    eks = locks.cluster("arn:aws:eks:eu-west-1:1:cluster/kf", minikube=False).path
    other = locks.cluster("arn_aws_eks_eu-west-1_1_cluster_kf", minikube=False).path
    assert eks.parent == other.parent and eks != other and "/" not in eks.name and ":" not in eks.name


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_lock_timeout_that_is_not_seconds_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFINSTALL_LOCK_TIMEOUT", value)
    with pytest.raises(UsageError, match="KFINSTALL_LOCK_TIMEOUT"):
        locks.wait_limit()


def test_up_refuses_a_lock_timeout_that_is_not_seconds_before_anything_runs(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    result = kfinstall(*up_args(synthetic_release), env={**env, "KFINSTALL_LOCK_TIMEOUT": "soon"})
    assert result.returncode == 2, result.stderr
    assert "error: KFINSTALL_LOCK_TIMEOUT='soon' is not a number of seconds" in result.stderr
    assert not (tmp_path / "logs").exists() and not (tmp_path / "cache").exists()
    assert fake_tools.calls("minikube") == []


def test_an_unwritable_lock_directory_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("KFINSTALL_CACHE_DIR", str(tmp_path / "file" / "cache"))
    with (
        pytest.raises(KfError, match=r"cannot write kfinstall's lock file in .*: Not a directory"),
        locks.hold(locks.cluster("kubeflow", minikube=True)),
    ):
        pass


def test_password_and_images_pull_refuse_too_while_another_kfinstall_holds_the_profile(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    busy = {**env, "KFINSTALL_LOCK_TIMEOUT": "0"}
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0  # they look for the cluster first
    with locks.hold(locks.cluster("kubeflow", minikube=True)):
        password = kfinstall("password", "--password-stdin", env=busy, stdin="a-new-password\n")
        pull = kfinstall("images", "pull", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", env=busy)
    for result in (password, pull):
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and result.stderr.count("error:") == 1
        assert f"error: another kfinstall (pid {os.getpid()}: {HOLDER}, since " in result.stderr, result.stderr
    assert not [call for call in fake_tools.calls("minikube") if "pull" in call]
