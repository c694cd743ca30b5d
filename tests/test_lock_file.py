"""The OS file lock under `kfinstall.locks` beside the programs kfinstall runs (src/kfinstall/locks.py).

Each test holds the lock in another process where two processes are needed, as a second kfinstall would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kfinstall import locks, runner
from kfinstall.errors import KfError

HOLD_IN_CHILD = (
    "import sys, time\nfrom pathlib import Path\nfrom kfinstall import locks\n"
    "with locks.hold(locks.Resource(Path(sys.argv[1]), 'the test resource')):\n"
    "    print('held', flush=True)\n    sys.stdin.readline()\n"
)


@pytest.fixture
def resource(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> locks.Resource:
    monkeypatch.setenv("KFINSTALL_CACHE_DIR", str(tmp_path / "cache"))
    return locks.Resource(tmp_path / "locks" / "thing.lock", "the test resource")


def held_elsewhere(resource: locks.Resource) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_CHILD, str(resource.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.close()
    assert holder.wait(30) == 0
    holder.stdout.close()


def test_programs_run_from_other_threads_while_one_thread_waits_for_a_lock(
    resource: locks.Resource, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Builds and applies fork from threads while the main thread may be taking a lock (PyPI filelock >= 3.21
    refuses exactly this: "os.fork is unsafe while filelock is changing descriptor ownership")."""
    monkeypatch.setenv(locks.TIMEOUT_ENV, "30")
    holder = held_elsewhere(resource)
    failures: list[BaseException] = []
    results: list[int] = []

    def fork_repeatedly() -> None:
        try:
            results.extend(runner.run("true").exit_code for _ in range(20))
        except BaseException as error:  # the test reports whatever a fork raised
            failures.append(error)

    forks = [threading.Thread(target=fork_repeatedly) for _ in range(2)]
    for thread in forks:
        thread.start()
    held: list[bool] = []

    def wait_for_the_lock() -> None:
        with locks.hold(resource, say=lambda _: None):
            held.append(True)

    waiter = threading.Thread(target=wait_for_the_lock)
    waiter.start()
    for thread in forks:
        thread.join(60)
    release(holder)
    waiter.join(30)
    assert failures == [] and results == [0] * 40 and held == [True]


def test_a_program_started_under_the_lock_does_not_keep_it_after_kfinstall_lets_go(resource: locks.Resource) -> None:
    """A `minikube` or `kubectl port-forward` that outlives the step must not hold kfinstall's lock (PEP 446)."""
    with locks.hold(resource, say=lambda _: None):
        child = runner.start("sleep", "60", on_line=lambda _: None)
    try:
        assert child.is_alive()
        with locks.try_hold(resource) as held:
            assert held
    finally:
        child.stop()


def test_a_second_holder_in_another_process_is_refused_at_once_with_lock_timeout_zero(
    resource: locks.Resource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(locks.TIMEOUT_ENV, "0")
    holder = held_elsewhere(resource)
    try:
        with pytest.raises(KfError, match="is using the test resource"), locks.hold(resource):
            pass
        with locks.try_hold(resource) as held:
            assert not held
    finally:
        release(holder)
    with locks.hold(resource):
        assert resource.holder_path.is_file()


def test_a_symlink_planted_at_the_lock_path_is_refused_not_followed(resource: locks.Resource, tmp_path: Path) -> None:
    """The lock file is opened with O_NOFOLLOW: a symlink there cannot make kfinstall create or lock another file."""
    target = tmp_path / "elsewhere"
    resource.path.parent.mkdir(parents=True)
    os.symlink(target, resource.path)
    with pytest.raises(KfError, match="cannot write kfinstall's lock file"), locks.hold(resource):
        pass
    assert not target.exists()
