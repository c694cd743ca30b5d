"""The home guard (tests/home_guard.py) errors a test that writes into the user's home or kfinstall's directories.

Each case runs a small test file in a pytest of its own with only the guard as plugin, and reads its verdict.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests import leaks
from tests.paths import REPO_ROOT


def run_guarded(tmp_path: Path, source: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`source` as a test file run by a pytest of its own, as the first process of a run (not as a worker)."""
    (tmp_path / "test_guarded.py").write_text(textwrap.dedent(source))
    outer = {k: v for k, v in os.environ.items() if k != "KFINSTALL_TESTS_REAL_DIRS"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.home_guard",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rA",
            "test_guarded.py",
        ],
        cwd=tmp_path,
        env={**outer, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_test_writing_into_the_home_directory_errors_naming_what_it_wrote(tmp_path: Path):
    result = run_guarded(
        tmp_path,
        """
        from pathlib import Path

        def test_writes_a_cache():
            (Path.home() / ".cache" / "kfinstall").mkdir(parents=True)
            (Path.home() / ".cache" / "kfinstall" / "manifests.lock").write_text("")
        """,
    )

    assert result.returncode == 1, result.stdout
    assert "1 passed, 1 error" in result.stdout
    assert "it wrote into the home directory (.cache/kfinstall/manifests.lock)" in result.stdout


def test_the_next_test_starts_with_an_empty_home_again(tmp_path: Path):
    result = run_guarded(
        tmp_path,
        """
        from pathlib import Path

        def test_writes():
            (Path.home() / ".kube").mkdir()

        def test_then_finds_an_empty_home():
            assert list(Path.home().iterdir()) == []
        """,
    )

    assert "2 passed, 1 error" in result.stdout, result.stdout
    assert "ERROR at teardown of test_writes" in result.stdout


def test_home_and_the_variables_leading_elsewhere_are_the_sessions_own(tmp_path: Path):
    result = run_guarded(
        tmp_path,
        f"""
        import os
        from pathlib import Path

        def test_home():
            assert Path.home() != Path({str(Path.home())!r})
            assert Path.home().name.startswith("kfinstall-tests-home-")
            for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "KFINSTALL_CACHE_DIR", "KFINSTALL_LOG_DIR", "KUBECONFIG"):
                assert name not in os.environ, name
        """,
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
        KFINSTALL_LOG_DIR=str(tmp_path / "logs"),
        KUBECONFIG=str(tmp_path / "kubeconfig"),
    )

    assert "1 passed" in result.stdout, result.stdout
    assert result.returncode == 0


def test_a_write_into_the_users_own_kfinstall_directory_errors_even_past_home(tmp_path: Path):
    users_cache = tmp_path / "users-cache"
    result = run_guarded(
        tmp_path,
        f"""
        from pathlib import Path

        def test_writes_by_absolute_path():
            Path({str(users_cache)!r}).mkdir()
            (Path({str(users_cache)!r}) / "x").write_text("")
        """,
        KFINSTALL_CACHE_DIR=str(users_cache),
    )

    assert "1 passed, 1 error" in result.stdout, result.stdout
    assert f"{users_cache} changed during the test (the user's own directory)" in result.stdout


def test_a_worker_process_guards_the_real_directories_the_first_process_found(tmp_path: Path):
    users_logs = tmp_path / "users-logs"
    result = run_guarded(
        tmp_path,
        f"""
        from pathlib import Path

        def test_writes_the_users_logs():
            Path({str(users_logs)!r}).mkdir()
        """,
        KFINSTALL_TESTS_REAL_DIRS=str(users_logs),  # as pytest-xdist's workers inherit it
    )

    assert f"{users_logs} changed during the test (the user's own directory)" in result.stdout, result.stdout


def test_a_test_that_leaves_the_home_alone_passes(tmp_path: Path):
    result = run_guarded(
        tmp_path,
        """
        def test_pure(tmp_path):
            (tmp_path / "out").write_text("fine")
        """,
    )

    assert result.returncode == 0, result.stdout
    assert "1 passed" in result.stdout


#: A kfinstall run by hand beside the suite: it writes its log as src/kfinstall/logfile.py names it (TIME-COMMAND-PID),
#: points latest.log at it, then runs on until told to end.
ANOTHER_RUN = """
import os, sys, time
from pathlib import Path
logs, done = Path(sys.argv[1]), Path(sys.argv[2])
name = time.strftime("%Y%m%d-%H%M%S") + f"-up-{os.getpid()}.log"
(logs / name).write_text("kfinstall 0.1.0: kfinstall up\\n")
(logs / "latest.log").unlink(missing_ok=True)
(logs / "latest.log").symlink_to(name)
while not done.exists():
    time.sleep(0.05)
"""

GUARDED_WAIT = """
import subprocess, sys, time
from pathlib import Path

def test_meanwhile():
    Path({ready!r}).write_text("")
    {write}
    while not Path({go_on!r}).exists():
        time.sleep(0.05)
"""


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def run_guarded_beside_another_run(tmp_path: Path, users_logs: Path, write_in_the_test: str = "") -> str:
    """A guarded test during which a process started outside its pytest (no session marker, another parent) writes
    a kfinstall log into the user's log directory; returns the guarded pytest's output."""
    ready, go_on, done = tmp_path / "ready", tmp_path / "go-on", tmp_path / "done"
    (tmp_path / "test_guarded.py").write_text(
        GUARDED_WAIT.format(ready=str(ready), go_on=str(go_on), write=write_in_the_test)
    )
    outer = {k: v for k, v in os.environ.items() if k not in ("KFINSTALL_TESTS_REAL_DIRS", leaks.MARKER)}
    guarded = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "tests.home_guard", "-p", "no:cacheprovider", "-q", "-rA",
         "test_guarded.py"],
        cwd=tmp_path, env={**outer, "PYTHONPATH": str(REPO_ROOT), "KFINSTALL_LOG_DIR": str(users_logs)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    another = None
    try:
        wait_for(ready.exists, "the guarded test started")
        another = subprocess.Popen([sys.executable, "-c", ANOTHER_RUN, str(users_logs), str(done)], env=outer)
        wait_for(lambda: (users_logs / "latest.log").exists(), "the other run wrote its log")
        go_on.write_text("")
        output, _ = guarded.communicate(timeout=120)
    finally:
        done.write_text("")
        guarded.kill()
        if another is not None:
            another.wait(timeout=30)
    return output


def test_another_processs_kfinstall_log_in_the_users_log_directory_is_not_the_tests_write(tmp_path: Path):
    users_logs = tmp_path / "users-logs"
    users_logs.mkdir()
    (users_logs / "20260101-000000-status-1.log").write_text("an old log\n")

    output = run_guarded_beside_another_run(tmp_path, users_logs)

    assert "1 passed" in output and "error" not in output, output


def test_a_kfinstall_log_the_test_itself_writes_into_the_users_log_directory_still_errors(tmp_path: Path):
    users_logs = tmp_path / "users-logs"
    users_logs.mkdir()
    ends_at_once = str(tmp_path / "ready")  # exists by then: the test's own run writes its log and ends
    own = f"subprocess.run([sys.executable, '-c', {ANOTHER_RUN!r}, {str(users_logs)!r}, {ends_at_once!r}], check=True)"

    output = run_guarded_beside_another_run(tmp_path, users_logs, write_in_the_test=own)

    assert "1 passed, 1 error" in output, output
    assert f"{users_logs} changed during the test (the user's own directory)" in output
