"""Logs are kept for the last `KEEP_LOGS` runs (a cold full install writes about 13 MB): each run that opens a
log deletes the older ones, but never one another kfinstall may still be writing, nor any file it did not name."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kfinstall.logfile import KEEP_LOGS
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools

#: Above Linux's largest pid (2^22): no process has it, so only age and rank decide.
NO_SUCH_PID = 99999999
TWO_DAYS_AGO = time.time() - 2 * 86400


def old_log(directory: Path, day: int, *, pid: int = NO_SUCH_PID, mtime: float = TWO_DAYS_AGO) -> Path:
    path = directory / f"202501{day:02d}-120000-up-{pid}.log"
    path.write_text(f"a run on day {day}\n")
    os.utime(path, (mtime, mtime))
    return path


def test_a_run_keeps_the_newest_logs_and_spares_those_still_being_written(fake_tools: FakeTools, tmp_path) -> None:
    env = isolated_env(fake_tools.env, tmp_path)
    logs = Path(env["KFINSTALL_LOG_DIR"])
    logs.mkdir()
    old = [old_log(logs, day) for day in range(1, 26)]  # 25 finished runs, two days old
    being_written = old_log(logs, 0, mtime=time.time())  # the oldest name, but written to a moment ago
    running = old_log(logs, 0, pid=os.getpid())  # quiet for two days, but its process is alive
    not_ours = logs / "notes.txt"
    not_ours.write_text("the user's own file")
    os.utime(not_ours, (TWO_DAYS_AGO, TWO_DAYS_AGO))

    result = kfinstall("down", "--yes", "-p", "ghost", env=env)

    assert result.returncode == 3, result.stderr  # nothing to delete (errors.py EXIT_NOT_INSTALLED)
    newest = (logs / "latest.log").resolve()
    assert "-down-" in newest.name and newest.exists()
    kept = sorted(path for path in logs.glob("2*.log"))
    assert kept == sorted([*old[-(KEEP_LOGS - 1) :], newest, being_written, running])
    assert not_ours.read_text() == "the user's own file"


def test_a_run_with_fewer_logs_than_the_limit_deletes_none(fake_tools: FakeTools, tmp_path) -> None:
    env = isolated_env(fake_tools.env, tmp_path)
    logs = Path(env["KFINSTALL_LOG_DIR"])
    logs.mkdir()
    old = [old_log(logs, day) for day in range(1, KEEP_LOGS)]
    assert kfinstall("down", "--yes", "-p", "ghost", env=env).returncode == 3
    assert all(path.exists() for path in old) and len(list(logs.glob("2*.log"))) == KEEP_LOGS
