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


def isolated_env(base: Mapping[str, str], root: Path, *, builds: Path | None = None) -> dict[str, str]:
    """`base` plus a cache and log directory of the test's own (nothing leaks into the user's home).

    `builds`: the session's build cache (tests/releases.py `shared_builds`) as the cache's `builds/`, so a test
    installing a real release reuses what an earlier test built of the same commit, path and builder; kfinstall
    keys its cache by those, so a hit is the YAML the same build would give.
    """
    if builds is not None:
        (root / "cache").mkdir(parents=True, exist_ok=True)
        (root / "cache" / "builds").symlink_to(builds, target_is_directory=True)
    return {**base, "KFINSTALL_CACHE_DIR": str(root / "cache"), "KFINSTALL_LOG_DIR": str(root / "logs")}


def logged_commands(env: Mapping[str, str]) -> list[str]:
    """Every external command line kfinstall's log files under `env`'s log directory record (each is logged as
    `$ PATH ARGS`), in the order they were logged, oldest file first."""
    logs = sorted(p for p in Path(env["KFINSTALL_LOG_DIR"]).glob("*.log") if p.name != "latest.log")  # a copy
    return [line.split("$ ", 1)[1] for path in logs for line in path.read_text().splitlines() if "$ " in line]


def commands_logged(env: Mapping[str, str], tool: str) -> list[str]:
    """The `tool` command lines of `logged_commands`."""
    return [line for line in logged_commands(env) if f"/{tool} " in line]
