"""The runner is the one seam to external programs: overrides, results, timeouts and background processes."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from kfinstall import runner
from kfinstall.errors import ToolNotFoundError
from tests import processes


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_run_returns_exit_code_and_both_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = _script(tmp_path / "fake", "echo out; echo err >&2; exit 3")
    monkeypatch.setenv("KFINSTALL_FAKE", str(tool))
    result = runner.run("fake")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.ok


def test_environment_override_wins_over_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = _script(tmp_path / "kubectl", "echo overridden")
    monkeypatch.setenv("KFINSTALL_KUBECTL", str(tool))
    assert runner.tool_path("kubectl") == str(tool)
    assert runner.run("kubectl").stdout == "overridden\n"


def test_missing_tool_is_a_clear_error_with_a_download_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("KFINSTALL_MINIKUBE", raising=False)
    with pytest.raises(ToolNotFoundError) as caught:
        runner.run("minikube", "version")
    assert "minikube is not installed" in caught.value.message
    assert caught.value.hint and "minikube.sigs.k8s.io" in caught.value.hint


def test_stdin_is_passed_to_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", "cat")))
    assert runner.run("fake", input="kind: List\n").stdout == "kind: List\n"


def test_a_command_past_its_timeout_is_killed_with_exit_code_124(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", "sleep 30")))
    started = time.monotonic()
    result = runner.run("fake", timeout=0.3)
    assert result.exit_code == runner.TIMEOUT_EXIT_CODE
    assert time.monotonic() - started < 5


def test_a_timeout_stops_the_children_the_command_started_too(tmp_path: Path, monkeypatch) -> None:
    """git's remote helpers, minikube's ssh: a child that holds the command's pipes and does its work. It used to run
    on after the command's timeout, only the command itself killed."""
    pid_file = tmp_path / "grandchild.pid"
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", f"sleep 30 & echo $! > {pid_file}; wait")))
    result = runner.run("fake", timeout=1)
    assert result.exit_code == runner.TIMEOUT_EXIT_CODE
    assert result.stderr.endswith("timed out after 1s")
    assert pid_file.exists(), "the command had not started its child by its timeout"
    assert not processes.running(int(pid_file.read_text()))


def test_a_timed_out_command_gets_sigterm_first_so_that_it_can_clean_up(tmp_path: Path, monkeypatch) -> None:
    """git removes its `*.lock` files on SIGTERM; a SIGKILL would leave them to fail the retry."""
    script = "trap 'echo removing index.lock; exit 1' TERM; sleep 30 & wait"
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", script)))
    result = runner.run("fake", timeout=1)
    assert (result.exit_code, result.stdout) == (runner.TIMEOUT_EXIT_CODE, "removing index.lock\n")


def test_a_timed_out_command_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path, monkeypatch) -> None:
    """SIGTERM first (git removes its lock files on it), SIGKILL to the whole group once the grace is over."""
    pid_file = tmp_path / "grandchild.pid"
    script = f"trap '' TERM; sleep 30 & echo $! > {pid_file}; wait"  # an ignored signal stays ignored in its child
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", script)))
    result = runner.run("fake", timeout=1)
    assert result.exit_code == runner.TIMEOUT_EXIT_CODE
    assert pid_file.exists(), "the command had not started its child by its timeout"
    assert not processes.running(int(pid_file.read_text()))


def test_a_timed_out_command_keeps_the_output_it_printed_until_then(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", "echo fetching; echo slow >&2; exec sleep 30")))
    result = runner.run("fake", timeout=1)
    assert (result.exit_code, result.stdout, result.stderr) == (124, "fetching\n", "slow\ntimed out after 1s")


def test_a_command_that_ends_within_its_timeout_is_not_a_timeout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", "echo done; exit 3")))
    result = runner.run("fake", timeout=30)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "done\n", "")


def test_verbose_echo_shows_each_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", "true")))
    seen: list[str] = []
    runner.set_echo(seen.append)
    try:
        runner.run("fake", "apply", "-f", "-")
    finally:
        runner.set_echo(None)
    assert seen == ["$ fake apply -f -"]


def test_background_process_streams_lines_and_stops_cleanly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KFINSTALL_FAKE", str(_script(tmp_path / "fake", "echo ready; exec sleep 60")))
    lines: list[str] = []
    proc = runner.start("fake", on_line=lines.append)
    deadline = time.monotonic() + 5
    while "ready" not in lines and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lines == ["ready"]
    proc.stop(grace=2)
    assert not proc.is_alive()
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)


def test_stdout_to_a_file_keeps_the_bytes_out_of_the_result_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tool = _script(tmp_path / "fake", "printf 'INSERT INTO t VALUES (1);\\n'; echo warned >&2")
    monkeypatch.setenv("KFINSTALL_FAKE", str(tool))
    dump = tmp_path / "dump.sql"
    with caplog.at_level("INFO", logger="kfinstall.runner"):
        result = runner.run("fake", stdout_to=dump)
    assert dump.read_text() == "INSERT INTO t VALUES (1);\n"
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "warned\n")
    assert "INSERT" not in caplog.text
    assert f"26 bytes written to {dump} (not logged)" in caplog.text
