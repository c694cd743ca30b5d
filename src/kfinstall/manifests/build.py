"""`kustomize build` of every selected component, in parallel, in the install's order.

Builds run in the background while `up` gets the cluster ready, and a component is applied as soon as its own
build is done; a broken or offline build names the component, the path and kustomize's own error, and when
minikube still has to be started it fails before that start (`up` waits for every build first).

Outputs of a pinned release are cached under the cache directory by (commit, path, kustomize binary and
version): the same inputs give the same YAML, so a re-run of `up` does not rebuild. A user's own checkout
(`--manifests-dir`) has no commit to key by and is always built.

Every cache file starts with a header giving its payload's size and SHA-256: a file cut short (a full disk, a crash)
or damaged is noticed, noted in the log and rebuilt, never installed. The files are private (`0600`, in `0700`
directories, like the logs): a build holds the release's Secrets.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kfinstall import runner
from kfinstall.cachedir import cache_root
from kfinstall.errors import KfError

log = logging.getLogger("kfinstall.manifests.build")

#: The first line of a cache file; the payload (YAML or JSON) follows it.
_HEADER = "# kfinstall build cache v1 sha256={digest} bytes={size}\n"
_HEADER_PATTERN = re.compile(rb"# kfinstall build cache v1 sha256=(?P<digest>[0-9a-f]{64}) bytes=(?P<size>\d+)\n")


@dataclass(frozen=True)
class BuildTarget:
    component: str
    path: str


def builder_command() -> tuple[str, tuple[str, ...]]:
    """The standalone `kustomize build` when installed (the pins name its version), else `kubectl kustomize`."""
    if runner.tool_path("kustomize"):
        return "kustomize", ("build",)
    return "kubectl", ("kustomize",)


def builder_identity() -> str:
    """What decides a build's output besides its inputs: the builder's path, size, mtime and version text.

    The binary's stat catches an in-place upgrade even when a distro build prints `unknown` as its version.
    """
    tool, _ = builder_command()
    path = runner.tool_path(tool) or tool
    try:
        stat = os.stat(path)
        fingerprint = f"{os.path.realpath(path)}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        fingerprint = path
    args = ("version",) if tool == "kustomize" else ("version", "--client", "-o", "json")
    result = runner.run(tool, *args, timeout=30)
    return f"{tool}|{fingerprint}|{result.exit_code}|{result.stdout.strip()}"


def cache_dir(commit: str) -> Path:
    return cache_root() / "builds" / commit


def _cache_file(commit: str, identity: str, target: BuildTarget) -> Path:
    digest = hashlib.sha256(f"{identity}\n{target.path}".encode()).hexdigest()[:24]
    return cache_dir(commit) / f"{digest}.yaml"


def _store(path: Path, output: str) -> None:
    """Write atomically, privately, with a checksum: a concurrent or interrupted run never reads half a build."""
    payload = output.encode()
    header = _HEADER.format(digest=hashlib.sha256(payload).hexdigest(), size=len(payload)).encode()
    staging = path.with_name(f".{path.name}.{os.getpid()}.{id(output)}.partial")
    try:
        _private_directories(path.parent)
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(header + payload)
        os.chmod(staging, 0o600)  # O_CREAT's mode is only for a new file (a stale staging file keeps its own)
        staging.replace(path)
    except OSError:
        staging.unlink(missing_ok=True)
        # a read-only or full cache directory costs a rebuild next time, nothing more


def _private_directories(directory: Path) -> None:
    """`builds/` and `builds/<commit>/` exist and are `0700`, also when an older kfinstall made them `0755`."""
    builds = cache_root() / "builds"
    builds.parent.mkdir(parents=True, exist_ok=True)
    for each in (builds, directory):
        each.mkdir(mode=0o700, exist_ok=True)
        if each.stat().st_mode & 0o777 != 0o700:
            os.chmod(each, 0o700)


def _load(path: Path) -> str | None:
    """A cache file's payload if its header vouches for it; a damaged one is noted in the log and deleted."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None  # absent (the usual miss) or unreadable: build it
    header = _HEADER_PATTERN.match(raw)
    payload = raw[header.end() :] if header else b""
    if header is None:
        reason = "no checksum header (written by an older kfinstall, or not by kfinstall)"
    elif len(payload) != int(header["size"]):
        reason = f"{len(payload)} bytes instead of {int(header['size'])}: cut short"
    elif hashlib.sha256(payload).hexdigest() != header["digest"].decode():
        reason = "its checksum does not match its content"
    else:
        try:
            return payload.decode()
        except UnicodeDecodeError:
            reason = "not UTF-8 text"
    log.warning("build cache %s is damaged (%s): rebuilding it", path, reason)
    path.unlink(missing_ok=True)
    return None


def build_one(checkout: Path, target: BuildTarget) -> str:
    """The YAML stream that kustomize builds for one path, or a KfError naming the component and path."""
    directory = checkout.resolve() / target.path
    if not directory.is_dir():
        raise KfError(
            f"cannot build {target.component}: {target.path} does not exist in the manifests at {checkout}",
            "the pins and the manifests disagree: check --pins / --manifests-dir",
        )
    tool, args = builder_command()
    result = runner.run(tool, *args, str(directory), cwd=checkout, timeout=600)
    if not result.ok:
        raise KfError(
            f"building {target.component} failed at {target.path}: {result.output or f'exit code {result.exit_code}'}",
            "a build that needs the network fails offline; otherwise the manifests or kustomize version are wrong "
            "(see `kfinstall check`)",
        )
    return result.stdout


def cached_build(checkout: Path, target: BuildTarget, *, commit: str | None, identity: str) -> str:
    """The target's YAML: from the build cache when a verified `commit` has it there, else built (and stored)."""
    cached = _cache_file(commit, identity, target) if commit else None
    if cached is not None:
        output = _load(cached)
        if output is not None:
            return output
    output = build_one(checkout, target)
    if cached is not None:
        _store(cached, output)
    return output


def build_all(
    checkout: Path,
    targets: Sequence[BuildTarget],
    *,
    workers: int | None = None,
    commit: str | None = None,
    identity: str | None = None,
) -> dict[BuildTarget, str]:
    """Build every target in parallel; the first failure (in target order) is raised after all have finished.

    With the checkout's verified `commit`, outputs come from (and go to) the build cache.
    """
    if identity is None:
        identity = builder_identity() if commit else ""

    def one(target: BuildTarget) -> str | KfError:
        try:
            return cached_build(checkout, target, commit=commit, identity=identity)
        except KfError as error:
            return error

    with ThreadPoolExecutor(max_workers=workers or max(2, os.cpu_count() or 2)) as pool:
        outputs = list(pool.map(one, targets))
    for output in outputs:
        if isinstance(output, KfError):
            raise output
    return dict(zip(targets, outputs, strict=True))  # type: ignore[arg-type]


def objects_all(
    checkout: Path, targets: Sequence[BuildTarget], *, commit: str | None = None
) -> dict[BuildTarget, list]:
    """The parsed objects of every target; the first failure (in target order) is raised."""
    with Builds(checkout, targets, commit=commit) as builds:
        return {target: builds.objects(target) for target in targets}


class Builds:
    """The parsed objects of every target, built in the background in the order given.

    `up` passes the targets in dependency order, so the first components can be applied while the others are
    still building. With a `commit`, the parse is cached too, as JSON beside the YAML: parsing Kubeflow's ~6 MB
    of YAML costs more than half a second of CPU, reading it back as JSON a tenth.
    """

    def __init__(
        self, checkout: Path, targets: Sequence[BuildTarget], *, commit: str | None = None, workers: int | None = None
    ) -> None:
        self.checkout = checkout
        self.targets = list(targets)
        self.commit = commit
        self.identity = builder_identity() if commit else ""
        self._pool = ThreadPoolExecutor(max_workers=workers or max(2, os.cpu_count() or 2), thread_name_prefix="build")
        self._futures: dict[BuildTarget, Future[list]] = {t: self._pool.submit(self._one, t) for t in self.targets}
        self._pool.shutdown(wait=False)  # no more work; the threads end with their builds

    def __enter__(self) -> Builds:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def objects(self, target: BuildTarget) -> list:
        """The target's objects, waiting for its build; its KfError if the build failed."""
        return self._futures[target].result()

    def future(self, target: BuildTarget) -> Future[list]:
        return self._futures[target]

    def cancel(self) -> None:
        """Drop the builds not started yet (those running finish: each is one short process)."""
        for future in self._futures.values():
            future.cancel()

    def _one(self, target: BuildTarget) -> list:
        import json

        from kfinstall.manifests import objects as manifest

        parsed_cache = _cache_file(self.commit, self.identity, target).with_suffix(".json") if self.commit else None
        if parsed_cache is not None:
            text = _load(parsed_cache)
            if text is not None:
                try:
                    objects = json.loads(text)
                except ValueError as error:  # a sound checksum over bad JSON: written wrong, so rebuild it
                    log.warning("build cache %s is damaged (%s): rebuilding it", parsed_cache, error)
                    objects = None
                if isinstance(objects, list):
                    return objects
        objects = manifest.parse(cached_build(self.checkout, target, commit=self.commit, identity=self.identity))
        if parsed_cache is not None:
            text = json.dumps(objects, separators=(",", ":"))
            if json.loads(text) == objects:  # only what JSON carries faithfully (no int keys, say)
                _store(parsed_cache, text)
        return objects
