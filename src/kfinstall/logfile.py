"""The log file: every external command with its full output, for diagnosing a failed run after the fact."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

#: How many logs `start_log` keeps: enough for the runs leading up to a problem (a cold full install writes
#: about 13 MB), not a disk that fills up unseen.
KEEP_LOGS = 20
#: A log modified this recently may belong to a kfinstall still running: it is never deleted.
IN_USE_SECONDS = 60
#: The names `start_log` gives (time, command, pid): only these are ever pruned, nothing else in the directory.
_LOG_NAME = re.compile(r"^\d{8}-\d{6}-(?P<command>[a-z0-9-]+)-(?P<pid>\d+)\.log$")


def default_log_dir() -> Path:
    """`$KFINSTALL_LOG_DIR`, else the platform's user log directory (XDG state on Linux)."""
    override = os.environ.get("KFINSTALL_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir("kfinstall", appauthor=False))


def check_directory() -> None:
    """Before a command does anything (its `prepare` may already ask minikube or kubectl): the log directory can
    be written (or made), else the one error `start_log` would give later, when programs had already run unlogged.
    Nothing is created here: a bad input leaves no log and no log directory."""
    import errno

    directory = default_log_dir()
    existing = directory
    while not existing.exists() and existing != existing.parent:  # created only when the log opens
        existing = existing.parent
    if not existing.is_dir():
        raise _unwritable(directory, NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _unwritable(directory, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))


def hold_early_records() -> None:
    """Keep what is logged before the log file exists (the programs `prepare` runs: minikube's version, its
    profiles) in memory, for `flush_early_records` to write into the log once it is open: every external command
    goes to the log, also those that decided the plan. Nothing is written when `prepare` refuses the input."""
    from logging.handlers import MemoryHandler

    root = logging.getLogger("kfinstall")
    root.handlers = [h for h in root.handlers if not isinstance(h, MemoryHandler)]
    root.addHandler(MemoryHandler(capacity=1_000_000, flushLevel=logging.CRITICAL + 1, target=None))
    root.setLevel(logging.DEBUG)
    root.propagate = False


def flush_early_records() -> None:
    """Write the records `hold_early_records` kept into the open log (redacted as every line is), then drop them."""
    from logging.handlers import MemoryHandler

    root = logging.getLogger("kfinstall")
    files = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    for held in [h for h in root.handlers if isinstance(h, MemoryHandler)]:
        root.removeHandler(held)
        for record in held.buffer:
            for handler in files:
                handler.handle(record)
        held.buffer.clear()


def _unwritable(directory: Path, error: OSError) -> Exception:
    from kfinstall.errors import KfError

    return KfError(
        f"cannot write the log file in {directory}: {error.strerror or error}",
        "make that directory writable, or set KFINSTALL_LOG_DIR to one that is (HOME decides the default)",
    )


def start_log(command: str) -> Path:
    """Open a fresh log file for one kfinstall invocation and route the command log into it.

    Logs older than the newest `KEEP_LOGS` are then pruned; every line written is redacted (`redact`).
    """
    directory = default_log_dir()
    path = directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{command}-{os.getpid()}.log"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)  # it holds every applied manifest, Secrets included: the user's eyes only
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as error:  # HOME or the log directory unwritable, a file in the way, a read-only disk
        raise _unwritable(directory, error) from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    handler.addFilter(_redact_record)
    root = logging.getLogger("kfinstall")
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.FileHandler)]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    root.propagate = False
    latest = directory / "latest.log"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(path.name)
    except OSError:
        pass
    prune(directory, keep=path)
    return path


def prune(directory: Path, *, keep: Path | None = None, now: float | None = None) -> list[Path]:
    """Delete the logs older than the newest `KEEP_LOGS` runs, except any that another kfinstall may still write.

    A log is spared when it was modified in the last `IN_USE_SECONDS` or the process its name carries is still
    running (a `port-forward` quiet for hours), and so is the newest log of each command: every command writes
    one, and twenty `kfinstall status` in a loop must not take the log of the `up` that failed before them.
    One directory listing and a `stat` per log: cheap at every start.
    Returns what it deleted; a log it cannot delete stays (the next start tries again).
    """
    now = time.time() if now is None else now
    logs: list[tuple[str, float, Path]] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        if not _LOG_NAME.match(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            logs.append((entry.name, entry.stat(follow_symlinks=False).st_mtime, Path(entry.path)))
        except OSError:
            continue
    logs.sort(reverse=True)  # newest first: the name starts with the time the run started
    newest_of_each = {}
    for name, _, path in logs:
        newest_of_each.setdefault(_LOG_NAME.match(name)["command"], path)  # type: ignore[index]
    deleted = []
    for name, mtime, path in logs[KEEP_LOGS:]:
        if path == keep or now - mtime < IN_USE_SECONDS or _running(int(_LOG_NAME.match(name)["pid"])):  # type: ignore[index]
            continue
        if path in newest_of_each.values():
            continue
        try:
            path.unlink()
            deleted.append(path)
        except OSError:
            pass
    return deleted


def _running(pid: int) -> bool:
    """Whether a process `pid` exists (any user's); a reused pid only spares one log more."""
    if pid <= 0 or pid == os.getpid():
        return pid == os.getpid()
    if os.name == "nt":  # there os.kill(pid, 0) would terminate the process: the mtime rule alone decides
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def _redact_record(record: logging.LogRecord) -> bool:
    """Redact the message and its string arguments before the file handler formats them (never drops one)."""
    from kfinstall.redact import redact

    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: redact(arg) if isinstance(arg, str) else arg for key, arg in record.args.items()}
    return True
