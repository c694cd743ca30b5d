"""The log file: every external command with its full output, for diagnosing a failed run after the fact."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path


def default_log_dir() -> Path:
    """`$KFINSTALL_LOG_DIR`, else the platform's user log directory (XDG state on Linux)."""
    override = os.environ.get("KFINSTALL_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_log_dir

    return Path(user_log_dir("kfinstall", appauthor=False))


_current: Path | None = None


def current_log() -> Path | None:
    """The log file of this invocation, once `start_log` opened one."""
    return _current


def start_log(command: str) -> Path:
    """Open a fresh log file for one kfinstall invocation and route the command log into it."""
    directory = default_log_dir()
    path = directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{command}-{os.getpid()}.log"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)  # it holds every applied manifest, Secrets included: the user's eyes only
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as error:  # HOME or the log directory unwritable, a file in the way, a read-only disk
        from kfinstall.errors import KfError

        raise KfError(
            f"cannot write the log file in {directory}: {error.strerror or error}",
            "make that directory writable, or set KFINSTALL_LOG_DIR to one that is (HOME decides the default)",
        ) from None
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    root = logging.getLogger("kfinstall")
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.FileHandler)]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    root.propagate = False
    global _current
    _current = path
    latest = directory / "latest.log"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(path.name)
    except OSError:
        pass
    return path
