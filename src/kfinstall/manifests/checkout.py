"""The kubeflow/manifests checkout at a release's pinned commit, cached between runs.

Cloning is shallow (one tag, one commit) and the result is checked against the pinned SHA: a tag that moved
upstream, or a mirror serving something else under the same name, is refused rather than installed.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kfinstall import runner
from kfinstall.cachedir import cache_root
from kfinstall.errors import KfError, UsageError

#: git's words for failures that may heal on a second try (network hiccups), as opposed to a missing tag or repo.
_TRANSIENT_GIT_ERRORS = re.compile(
    r"Could not resolve host|Connection (timed out|reset|refused)|early EOF|RPC failed|unexpected disconnect"
    r"|The remote end hung up unexpectedly|Operation timed out|TLS|gnutls|SSL|returned error: 5\d\d|timed out",
    re.IGNORECASE,
)


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


def fetch(
    tag: str,
    commit: str,
    repo_url: str,
    *,
    attempts: int = 3,
    backoff: float = 2.0,
    on_wait: Callable[[str], None] | None = None,
    on_clone: Callable[[str], None] | None = None,
) -> Checkout:
    """The cached checkout of `tag`, cloning it first if needed; its HEAD must be the pinned `commit`.

    `on_clone` is told, before a clone starts, what is cloned (`up` shows it with a ticking timer: a first clone
    over a slow network takes a while).

    Under the checkout's lock (`locks.checkout`): a second kfinstall fetching the same release waits for the first
    (`on_wait` tells the user), then finds the clone in the cache. A cached checkout must also be clean
    (`_check_clean`); a `.partial` clone that a killed run left is removed first.
    """
    from kfinstall import locks
    from kfinstall.manifests import giturl

    problem = giturl.url_problem(repo_url)  # the pins and --manifests-repo are checked already; this is the door
    if problem:
        raise UsageError(problem, giturl.HINT)
    target = checkout_dir(tag, commit)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # HOME or the cache directory unwritable, a file in the way, a read-only disk
        raise KfError(
            f"cannot write the manifests cache in {target.parent}: {error.strerror or error}",
            "make that directory writable, or set KFINSTALL_CACHE_DIR to one that is (HOME decides the default)",
        ) from None
    with locks.hold(locks.checkout(target.name, tag), say=on_wait):
        _remove_stale_partials(target)
        if target.is_dir():
            head = _head(target)
            if head == commit:
                _check_clean(target, tag, commit)
                return Checkout(target, commit, "cache")
            shutil.rmtree(target)  # a broken cache entry, or one whose HEAD moved: fetch it again
        staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            if on_clone is not None:
                on_clone(f"cloning {repo_url} at {tag}")
            _clone(tag, repo_url, staging, attempts=attempts, backoff=backoff)
            head = _head(staging)
            if head != commit:
                raise KfError(
                    f"{repo_url} serves tag {tag} at commit {head}, but the pins say {commit}: refusing to install it",
                    "the tag was moved or the mirror is unfaithful; use the official repository, or pins of your own "
                    "(--pins)",
                )
            staging.rename(target)
        except BaseException:  # a failure, Ctrl-C or SIGTERM: no half-written clone stays behind
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Checkout(target, commit, "clone")


def _clone(tag: str, repo_url: str, staging: Path, *, attempts: int, backoff: float) -> None:
    """`git clone` of one tag into `staging`, retrying what may heal (the network), not what cannot (the disk)."""
    from kfinstall.manifests import giturl

    for attempt in range(1, attempts + 1):
        shutil.rmtree(staging, ignore_errors=True)
        result = runner.run(
            "git", "clone", "--quiet", "--depth", "1", "--branch", tag, "--", repo_url, str(staging),
            timeout=600, env=giturl.GIT_ENV,  # the allowed transports, whatever the user's GIT_ALLOW_PROTOCOL says
        )  # fmt: skip
        if result.ok:
            return
        failure = clone_failure(result.output)
        transient = not failure.disk and (
            bool(_TRANSIENT_GIT_ERRORS.search(result.output)) or result.exit_code == runner.TIMEOUT_EXIT_CODE
        )
        if not transient or attempt == attempts:
            free = _free_space(staging.parent)  # before the partial clone goes, which frees what it took
            shutil.rmtree(staging, ignore_errors=True)
            if failure.disk:
                raise KfError(
                    f"could not clone {repo_url} at {tag} into {staging.parent}: {failure.message}",
                    f"the disk holding {staging.parent} is full ({free} free): free some space, or set "
                    "KFINSTALL_CACHE_DIR to a directory on a disk with room, then run this again",
                )
            raise KfError(
                f"could not clone {repo_url} at {tag}: {failure.message}",
                "check the network and that the tag exists; a mirror can be given with --manifests-repo URL",
            )
        time.sleep(backoff * attempt)


@dataclass(frozen=True)
class CloneFailure:
    """What a failed `git clone` says: the line to show, and whether it is the local disk's fault."""

    message: str
    disk: bool


#: git's words for a local write failure (`wrapper.c` write_or_die: "write error"; `entry.c`: "unable to write
#: file"; errno texts ENOSPC and EDQUOT). "write error" on a pipe or socket is the network's.
_DISK_ERRORS = re.compile(
    r"No space left on device|Disk quota exceeded|unable to write (new index )?file"
    r"|write error(?!: (Broken pipe|Connection))",
    re.IGNORECASE,
)


def clone_failure(output: str) -> CloneFailure:
    """The cause of a failed clone from git's stderr (pure).

    Not the last line: a clone whose checkout fails (a full disk) ends with git's advice ("retry with 'git
    restore --source=HEAD :/'") after the detached-HEAD note. The errno text is the cause when git gives it;
    otherwise the first `unable to write file` line; otherwise git's first `fatal:` (the `die()` that stopped it;
    later ones are consequences, e.g. "fetch-pack: invalid index-pack output" after "write error").
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    disk_lines = [line for line in lines if _DISK_ERRORS.search(line)]
    if disk_lines:
        cause = next((line for line in disk_lines if re.search("No space left|Disk quota", line, re.I)), None)
        if cause is None:
            unwritten = [line for line in disk_lines if "unable to write" in line]
            cause = unwritten[0] if unwritten else disk_lines[0]
            if len(unwritten) > 1:
                cause += f" (and {len(unwritten) - 1} more)"
        return CloneFailure(_strip_level(cause), disk=True)
    fatal = next((line for line in lines if line.startswith("fatal:")), None)
    if fatal is not None:
        return CloneFailure(_strip_level(fatal), disk=False)
    return CloneFailure(_strip_level(lines[-1]) if lines else "git failed without a message", disk=False)


def _strip_level(line: str) -> str:
    return re.sub(r"^(fatal|error|warning): ", "", line)


def _free_space(directory: Path) -> str:
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return "little or no space"
    return f"{free / 1e6:.1f} MB" if free >= 1_000_000 else f"{free // 1000} kB"


def _remove_stale_partials(target: Path) -> None:
    """`.partial` clones that a killed kfinstall left (a SIGKILL, a power cut) in the manifests cache.

    The one of `target` is stale for sure: its lock is ours. Those of other releases are removed only when their
    lock is free (nobody is cloning them now).
    """
    from kfinstall import locks

    for partial in target.parent.glob(".*.partial"):
        name = partial.name[1:].rsplit(".", 2)[0]  # .NAME.PID.partial
        if name == target.name:
            shutil.rmtree(partial, ignore_errors=True)
            continue
        with locks.try_hold(locks.checkout(name, name)) as free:
            if free:
                shutil.rmtree(partial, ignore_errors=True)


def _check_clean(target: Path, tag: str, commit: str) -> None:
    """Refuse a cached checkout whose files differ from its commit: it would be installed as the pinned one.

    HEAD alone does not say it: an edit in the cache keeps HEAD. `git status` compares the working tree and the
    index with HEAD (about 10 ms on 26.03's 1,154 files once the index is fresh). A modified checkout is refused,
    not restored: the changes were made by someone (an edit, a tool) and may be wanted; the hint says how to get a
    clean copy and how to install edited manifests on purpose (`--manifests-dir`). The build cache of that commit
    goes, as builds of the modified files may be in it.
    """
    result = runner.run("git", "-C", str(target), "status", "--porcelain", "--untracked-files=normal")
    changes = [line for line in result.stdout.splitlines() if line.strip()]
    if result.ok and not changes:
        return
    from kfinstall.manifests import build

    shutil.rmtree(build.cache_dir(commit), ignore_errors=True)
    if not result.ok:
        detail = f"git status failed: {clone_failure(result.output).message}"
    else:
        shown = ", ".join(line.strip() for line in changes[:3])
        detail = f"{len(changes)} changed file(s): {shown}" + (", …" if len(changes) > 3 else "")
    raise KfError(
        f"the cached manifests checkout {target} differs from commit {commit} of {tag} ({detail}): "
        "refusing to install it as the pinned release",
        f"delete it to fetch a clean copy (rm -rf '{target}'), then run this again; to install edited manifests "
        "on purpose, use --manifests-dir with a checkout of your own",
    )


def _head(path: Path) -> str | None:
    result = runner.run("git", "-C", str(path), "rev-parse", "HEAD")
    return result.stdout.strip() if result.ok else None
