"""Running the real `kfinstall` entry point as a user would, in the environment of a test's fake tools."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def kfinstall(
    *args: str, env: Mapping[str, str], timeout: float = 300, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`kfinstall ARGS` through `python -m kfinstall` (the same code path as the console script)."""
    return subprocess.run(
        [sys.executable, "-m", "kfinstall", *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def isolated_env(base: Mapping[str, str], root: Path) -> dict[str, str]:
    """`base` plus a cache and log directory of the test's own (nothing leaks into the user's home)."""
    return {**base, "KFINSTALL_CACHE_DIR": str(root / "cache"), "KFINSTALL_LOG_DIR": str(root / "logs")}
