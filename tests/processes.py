"""Which processes are running, read from /proc (Linux): for tests that promise no process outlives another.

A process is found by an environment variable it inherited (`/proc/PID/environ` holds the environment it was
started with, so a marker set before a process starts is seen in all its descendants, orphans included, unless
one of them was given an environment of its own) or by its parent chain. Zombies do not count: they no longer run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} (parent {self.ppid}): {self.command}"


def supported() -> bool:
    return (PROC / "self" / "environ").exists()


def _read(pid: int) -> Proc | None:
    """The process, or None once it has ended or is a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after `pid (comm)`, which may hold spaces and parentheses
    if fields[0] in ("Z", "X"):
        return None
    return Proc(pid, int(fields[1]), int(fields[2]), command or stat.split("(", 1)[1].rsplit(")", 1)[0])


def _pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def running(pid: int) -> bool:
    """Whether process `pid` runs (a zombie does not)."""
    return _read(pid) is not None


def marked(name: str, value: str) -> list[Proc]:
    """Running processes (not this one) whose environment has `name=value`."""
    needle = f"{name}={value}".encode()
    found = []
    for pid in _pids():
        if pid == os.getpid():
            continue
        try:
            environ = (PROC / str(pid) / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and (proc := _read(pid)) is not None:
            found.append(proc)
    return found


def descendants(ancestor: int) -> list[Proc]:
    """Running processes whose parent chain leads to `ancestor` (children of an orphan are not among them)."""
    procs = [proc for pid in _pids() if (proc := _read(pid)) is not None]
    children: dict[int, list[Proc]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [ancestor]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def still_running(find: Callable[[], list[Proc]], grace: float) -> list[Proc]:
    """What `find` returns once it returns nothing, or after `grace` seconds (a stopped process may take a moment
    to exit)."""
    deadline = time.monotonic() + grace
    while (found := find()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found
