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
(`flock(2)`, on Linux and macOS alike), so a holder that dies, even by SIGKILL, releases it at once: there is no
stale lock to clean up. Who holds it is recorded beside it in `NAME.holder` (pid, command, start time).

Why `fcntl.flock` and not PyPI `filelock`: filelock 3.21 and later install an audit hook that refuses `os.fork`
in any thread while another thread is inside a lock call or forking ("os.fork is unsafe while filelock is
changing descriptor ownership", filelock `_core/_fork.py` `_audit_fork_safety`), and `sh` (runner.py) forks from
the build and apply threads. Capping filelock below 3.21 would collide with the ML environments kfinstall is
installed into; the part kfinstall needs is a dozen lines. The lock file is opened without following a symlink
(`O_NOFOLLOW`: the race filelock fixed in CVE-2025-68146) and is not inherited by the programs kfinstall runs
(Python opens descriptors non-inheritable, PEP 446), so a `minikube` left running never holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
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


POLL_SECONDS = 0.05  # how often a waiter tries again (filelock's default poll interval)


class _FileLock:
    """An exclusive `flock` on one file, taken without blocking, tried again until a deadline."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def acquire(self, timeout: float) -> bool:
        """True once held; False if `timeout` seconds passed first (Ctrl-C interrupts the wait)."""
        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


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
    from kfinstall.ui import messages

    messages.warn(text)


@contextlib.contextmanager
def hold(resource: Resource, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold `resource`'s lock for the block; if another kfinstall holds it, say so and wait (bounded)."""
    limit = wait_limit()
    lock = _FileLock(resource.path)
    try:
        resource.path.parent.mkdir(parents=True, exist_ok=True)
        if not lock.try_acquire():
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
            if not lock.acquire(timeout=limit):
                raise KfError(
                    f"{describe_holder(resource)} is still using {resource.what} after {_duration(limit)}",
                    f"let it finish, or stop it, then run this again ({TIMEOUT_ENV}=SECONDS waits longer; "
                    f"the lock is {resource.path})",
                ) from None
        _record_holder(resource)
    except OSError as error:  # the cache directory unwritable, a file in the way, a read-only disk, a symlink
        lock.release()
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
    lock = _FileLock(resource.path)
    try:
        held = lock.try_acquire()
    except OSError:
        held = False
    if not held:
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
