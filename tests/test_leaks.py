"""The suite's own promise (tests/leaks.py): a process a test starts and leaves running fails the run, by name.

Each test runs a child pytest with the plugin on a tiny test file and looks at its exit status and summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests import processes
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.skipif(not processes.supported(), reason="the plugin reads /proc")

SELF_TEST_MARKER = "KFINSTALL_LEAK_SELF_TEST"


def child_pytest(tmp_path: Path, source: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run pytest with the plugin on a test file of `source`; the result and the marker its processes carry."""
    test_file = tmp_path / "test_tiny.py"
    test_file.write_text(textwrap.dedent(source))
    marker = uuid.uuid4().hex
    env = {
        **os.environ,
        SELF_TEST_MARKER: marker,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.leaks", "-p", "no:cacheprovider", "-q", str(test_file),
         "--rootdir", str(tmp_path)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result, marker


def test_a_process_a_test_leaves_running_fails_the_run_naming_it_and_is_killed(tmp_path: Path) -> None:
    result, marker = child_pytest(
        tmp_path,
        """
        import subprocess

        def test_leaves_a_child_and_an_orphan():
            subprocess.Popen(["sleep", "3141"])  # still pytest's child at the end
            subprocess.run(["sh", "-c", "sleep 2718 >/dev/null 2>&1 &"], check=True)  # an orphan: parent pid 1
    """,
    )
    assert result.returncode == 1, result.stdout
    assert "1 passed" in result.stdout  # the test itself passed: the leak alone fails the run
    assert "processes that outlived the test session" in result.stdout
    assert "LEAKED" in result.stdout and "sleep 3141" in result.stdout and "sleep 2718" in result.stdout
    assert not processes.still_running(lambda: processes.marked(SELF_TEST_MARKER, marker), 5)


def test_a_process_stopped_at_teardown_that_takes_a_moment_to_exit_is_no_leak(tmp_path: Path) -> None:
    """Like a cluster double that a fixture stops with SIGTERM and does not wait for."""
    result, _ = child_pytest(
        tmp_path,
        """
        import subprocess
        import pytest

        @pytest.fixture
        def server():
            # exits a second after SIGTERM (the trap runs once the current sleep ends)
            process = subprocess.Popen(["sh", "-c", "trap 'sleep 1; exit 0' TERM; while :; do sleep 0.2; done"])
            yield process
            process.terminate()

        def test_uses_a_server(server):
            assert server.poll() is None
    """,
    )
    assert result.returncode == 0, result.stdout
    assert "LEAKED" not in result.stdout
