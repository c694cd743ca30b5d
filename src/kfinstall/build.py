"""`kustomize build` of every selected component, all before anything is applied.

Building first means a broken or offline build fails before the cluster is touched, and names the component,
the path and kustomize's own error. Builds run in parallel: each is an independent process.

Outputs of a pinned release are cached under the cache directory by (commit, path, kustomize binary and
version): the same inputs give the same YAML, so a re-run of `up` does not rebuild. A user's own checkout
(`--manifests-dir`) has no commit to key by and is always built.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kfinstall import runner
from kfinstall.errors import KfError


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
    from kfinstall.manifests import cache_root

    return cache_root() / "builds" / commit


def _cache_file(commit: str, identity: str, target: BuildTarget) -> Path:
    digest = hashlib.sha256(f"{identity}\n{target.path}".encode()).hexdigest()[:24]
    return cache_dir(commit) / f"{digest}.yaml"


def _store(path: Path, output: str) -> None:
    """Write atomically: a concurrent or interrupted run never reads half a build."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{os.getpid()}.{id(output)}.partial")
        staging.write_text(output)
        staging.replace(path)
    except OSError:
        pass  # a read-only or full cache directory costs a rebuild next time, nothing more


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


def build_all(
    checkout: Path,
    targets: Sequence[BuildTarget],
    *,
    on_built: Callable[[BuildTarget], None] | None = None,
    workers: int | None = None,
    commit: str | None = None,
    identity: str | None = None,
) -> dict[BuildTarget, str]:
    """Build every target in parallel; the first failure (in target order) is raised after all have finished.

    With the checkout's verified `commit`, outputs come from (and go to) the build cache.
    """
    workers = workers or max(2, os.cpu_count() or 2)
    if identity is None:
        identity = builder_identity() if commit else ""

    def one(target: BuildTarget) -> str | KfError:
        cached = _cache_file(commit, identity, target) if commit else None
        if cached is not None and cached.is_file():
            try:
                output = cached.read_text()
            except OSError:
                pass
            else:
                if on_built:
                    on_built(target)
                return output
        try:
            output = build_one(checkout, target)
        except KfError as error:
            return error
        if cached is not None:
            _store(cached, output)
        if on_built:
            on_built(target)
        return output

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outputs = list(pool.map(one, targets))
    for output in outputs:
        if isinstance(output, KfError):
            raise output
    return dict(zip(targets, outputs, strict=True))  # type: ignore[arg-type]


def objects_all(
    checkout: Path, targets: Sequence[BuildTarget], *, commit: str | None = None
) -> dict[BuildTarget, list]:
    """The parsed objects of every target. With a `commit`, the parse is cached too, as JSON beside the YAML:
    parsing Kubeflow's ~6 MB of YAML costs more than half a second of CPU, reading it back as JSON a tenth."""
    import json

    from kfinstall import manifest

    identity = builder_identity() if commit else ""
    parsed: dict[BuildTarget, list] = {}
    for target in targets if commit else ():
        cached = _cache_file(commit, identity, target).with_suffix(".json")  # type: ignore[arg-type]
        try:
            parsed[target] = json.loads(cached.read_text())
        except (OSError, ValueError):
            continue
    missing = [target for target in targets if target not in parsed]
    if missing:
        built = build_all(checkout, missing, commit=commit, identity=identity)
        for target in missing:
            objects = manifest.parse(built[target])
            parsed[target] = objects
            text = json.dumps(objects, separators=(",", ":"))
            if commit and json.loads(text) == objects:  # only what JSON carries faithfully (no int keys, say)
                _store(_cache_file(commit, identity, target).with_suffix(".json"), text)
    return {target: parsed[target] for target in targets}
