"""Locks that keep two kfinstall processes from changing the same thing at once.

Two `up`s started together on an empty cache used to clone twice and crash renaming the second clone onto the
first (`OSError: Directory not empty`), leaving a 31 MB `.partial` behind; two commands on one cluster applied,
deleted and restarted over each other. Each shared thing now has a lock file, taken by every command that changes
it, under `<cache>/locks/`: a release's manifests checkout (`manifests.fetch`), and a cluster, by its kubeconfig
context (which is the minikube profile's name: `up`, `down`, `password`, `images pull|load`). Locks are never
nested, so two kfinstalls cannot deadlock on them.

A second kfinstall waits, saying for whom, as uv does for its cache ("Waiting to acquire lock for …";
astral-sh/uv `crates/uv-fs/src/locked_file.rs`, whose `UV_LOCK_TIMEOUT` bounds the wait at 300 s by default,
astral-sh/uv#16342). kfinstall's default bound is longer (30 minutes) because the lock on a cluster is held for a
whole install; `KFINSTALL_LOCK_TIMEOUT=SECONDS` changes it, `0` refuses at once. The lock is an OS file lock
(PyPI `filelock`: `flock` on Linux and macOS), so a holder that dies, even by SIGKILL, releases it at once: there
is no stale lock to clean up. Who holds it is recorded beside it in `NAME.holder` (pid, command, start time);
not in the lock file itself, which filelock 3.x truncates when a waiter opens it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from kfinstall.errors import KfError, UsageError

log = logging.getLogger("kfinstall.locks")

TIMEOUT_ENV = "KFINSTALL_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Resource:
    """One lockable thing: where its lock file is, and how to name it to a user."""

    path: Path  # the lock file
    what: str  # "minikube profile 'kubeflow'", "the manifests cache of v1.10.2"

    @property
    def holder_path(self) -> Path:
        return self.path.with_suffix(".holder")


def _safe_name(name: str) -> str:
    """A file name for any context name (`arn:aws:eks:…/x`, `user@cluster`): readable, and distinct per name."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return safe if safe == name else f"{safe}-{sha256(name.encode()).hexdigest()[:8]}"


def cluster(context: str, *, minikube: bool) -> Resource:
    """The lock of the cluster behind a kubeconfig context; minikube names its context after the profile."""
    from kfinstall.cachedir import cache_root

    what = f"minikube profile {context!r}" if minikube else f"the cluster of context {context!r}"
    return Resource(cache_root() / "locks" / f"cluster-{_safe_name(context)}.lock", what)


def checkout(name: str, tag: str) -> Resource:
    """The lock of one cached manifests checkout (`manifests/NAME`, and its `.NAME.PID.partial` clones)."""
    from kfinstall.cachedir import cache_root

    return Resource(cache_root() / "locks" / f"manifests-{_safe_name(name)}.lock", f"the manifests cache of {tag}")


def wait_limit() -> float:
    """Seconds to wait for a lock: `$KFINSTALL_LOCK_TIMEOUT`, else 30 minutes."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise UsageError(
            f"{TIMEOUT_ENV}={raw!r} is not a number of seconds",
            f"set it to 0 (refuse at once when another kfinstall is busy) or more, or unset it to wait up to "
            f"{DEFAULT_TIMEOUT / 60:.0f} minutes",
        )
    return value


def _stderr(text: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(f" [yellow]![/] {escape(text)}")


@contextlib.contextmanager
def hold(resource: Resource, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold `resource`'s lock for the block; if another kfinstall holds it, say so and wait (bounded)."""
    from filelock import FileLock, Timeout

    limit = wait_limit()
    try:
        resource.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(resource.path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = describe_holder(resource)
            if limit == 0:
                raise KfError(
                    f"{holder} is using {resource.what}",
                    f"run this again once it has finished ({TIMEOUT_ENV}=0 refuses at once; unset, kfinstall waits)",
                ) from None
            message = (f"waiting for {holder} using {resource.what} (up to {_duration(limit)}; "
                       "Ctrl-C stops waiting)")  # fmt: skip
            log.info("%s; lock file %s", message, resource.path)
            (say or _stderr)(message)
            try:
                lock.acquire(timeout=limit)
            except Timeout:
                raise KfError(
                    f"{describe_holder(resource)} is still using {resource.what} after {_duration(limit)}",
                    f"let it finish, or stop it, then run this again ({TIMEOUT_ENV}=SECONDS waits longer; "
                    f"the lock is {resource.path})",
                ) from None
        _record_holder(resource)
    except OSError as error:  # the cache directory unwritable, a file in the way, a read-only disk
        raise KfError(
            f"cannot write kfinstall's lock file in {resource.path.parent}: {error.strerror or error}",
            "make that directory writable, or set KFINSTALL_CACHE_DIR to one that is (HOME decides the default)",
        ) from None
    log.info("holding the lock of %s (%s)", resource.what, resource.path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if _read_holder(resource).get("pid") == os.getpid():
                resource.holder_path.unlink()
        lock.release()


@contextlib.contextmanager
def try_hold(resource: Resource) -> Iterator[bool]:
    """Hold `resource`'s lock for the block if nobody else does (yields False then, without waiting)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(resource.path))
    try:
        lock.acquire(timeout=0)
    except (Timeout, OSError):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def _record_holder(resource: Resource) -> None:
    record = {"pid": os.getpid(), "command": _command_line(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    staging = resource.holder_path.with_name(f"{resource.holder_path.name}.{os.getpid()}.tmp")
    staging.write_text(json.dumps(record) + "\n")
    staging.replace(resource.holder_path)  # a waiter never reads half a record


def _read_holder(resource: Resource) -> dict[str, object]:
    try:
        record = json.loads(resource.holder_path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def describe_holder(resource: Resource) -> str:
    """Who holds the lock: `another kfinstall (pid 4242: kfinstall up -k v1.10.2, since …)`, or less if unknown."""
    record = _read_holder(resource)
    pid = record.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return "another kfinstall"  # the record of a holder that died; the live holder has not written its own yet
    details = [f"pid {pid}"]
    if record.get("command"):
        details[0] += f": {record['command']}"
    if record.get("since"):
        details.append(f"since {record['since']}")
    return f"another kfinstall ({', '.join(details)})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _command_line() -> str:
    """`kfinstall up -k v1.10.2 …` as the user typed it (sys.argv[0] is a path or `-m`)."""
    return " ".join(["kfinstall", *sys.argv[1:]])[:200]


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:g} s"
