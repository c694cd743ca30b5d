"""The kubeflow/manifests checkout at a release's pinned commit, cached between runs.

Cloning is shallow (one tag, one commit) and the result is checked against the pinned SHA: a tag that moved
upstream, or a mirror serving something else under the same name, is refused rather than installed.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from kfinstall import runner
from kfinstall.errors import KfError, UsageError

#: git's words for failures that may heal on a second try (network hiccups), as opposed to a missing tag or repo.
_TRANSIENT_GIT_ERRORS = re.compile(
    r"Could not resolve host|Connection (timed out|reset|refused)|early EOF|RPC failed|unexpected disconnect"
    r"|The remote end hung up unexpectedly|Operation timed out|TLS|gnutls|SSL|returned error: 5\d\d|timed out",
    re.IGNORECASE,
)


def cache_root() -> Path:
    """`$KFINSTALL_CACHE_DIR`, else the platform's user cache directory (`~/.cache/kfinstall` on Linux)."""
    override = os.environ.get("KFINSTALL_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kfinstall", appauthor=False))


@dataclass(frozen=True)
class Checkout:
    """A manifests tree to build from: `commit` is the verified SHA, or None for a user's own directory."""

    path: Path
    commit: str | None
    source: str  # "cache", "clone" or "local"


def checkout_dir(tag: str, commit: str) -> Path:
    return cache_root() / "manifests" / f"{tag}-{commit[:12]}"


def use_local_dir(path: Path, marker_paths: list[str]) -> Checkout:
    """A user's own checkout (`--manifests-dir`): not verified against the pins, but it must look the part."""
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise UsageError(f"--manifests-dir {path} is not a directory", "point it at a kubeflow/manifests checkout")
    if not (path / "common").is_dir() or not any((path / marker).is_dir() for marker in marker_paths):
        raise UsageError(
            f"--manifests-dir {path} is not a kubeflow/manifests checkout (no common/ or component directories)",
            "clone it with `git clone https://github.com/kubeflow/manifests` and check out the release's tag",
        )
    return Checkout(path, None, "local")


def fetch(tag: str, commit: str, repo_url: str, *, attempts: int = 3, backoff: float = 2.0) -> Checkout:
    """The cached checkout of `tag`, cloning it first if needed; its HEAD must be the pinned `commit`."""
    from kfinstall import giturl

    problem = giturl.url_problem(repo_url)  # the pins and --manifests-repo are checked already; this is the door
    if problem:
        raise UsageError(problem, giturl.HINT)
    target = checkout_dir(tag, commit)
    if target.is_dir():
        head = _head(target)
        if head == commit:
            return Checkout(target, commit, "cache")
        shutil.rmtree(target)  # a broken or tampered cache entry: fetch it again
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # HOME or the cache directory unwritable, a file in the way, a read-only disk
        raise KfError(
            f"cannot write the manifests cache in {target.parent}: {error.strerror or error}",
            "make that directory writable, or set KFINSTALL_CACHE_DIR to one that is (HOME decides the default)",
        ) from None
    staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
    for attempt in range(1, attempts + 1):
        shutil.rmtree(staging, ignore_errors=True)
        result = runner.run(
            "git", "clone", "--quiet", "--depth", "1", "--branch", tag, "--", repo_url, str(staging),
            timeout=600, env=giturl.GIT_ENV,  # the allowed transports, whatever the user's GIT_ALLOW_PROTOCOL says
        )  # fmt: skip
        if result.ok:
            break
        transient = bool(_TRANSIENT_GIT_ERRORS.search(result.output)) or result.exit_code == runner.TIMEOUT_EXIT_CODE
        if not transient or attempt == attempts:
            shutil.rmtree(staging, ignore_errors=True)
            raise KfError(
                f"could not clone {repo_url} at {tag}: {_last_line(result.output)}",
                "check the network and that the tag exists; a mirror can be given with --manifests-repo URL",
            )
        time.sleep(backoff * attempt)
    head = _head(staging)
    if head != commit:
        shutil.rmtree(staging, ignore_errors=True)
        raise KfError(
            f"{repo_url} serves tag {tag} at commit {head}, but the pins say {commit}: refusing to install it",
            "the tag was moved or the mirror is unfaithful; use the official repository, or pins of your own (--pins)",
        )
    staging.rename(target)
    return Checkout(target, commit, "clone")


def _head(path: Path) -> str | None:
    result = runner.run("git", "-C", str(path), "rev-parse", "HEAD")
    return result.stdout.strip() if result.ok else None


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("fatal: ") if lines else "git failed without a message"
