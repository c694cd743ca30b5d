"""`kustomize build` of every selected component, all before anything is applied.

Building first means a broken or offline build fails before the cluster is touched, and names the component,
the path and kustomize's own error. Builds run in parallel: each is an independent process.
"""

from __future__ import annotations

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
) -> dict[BuildTarget, str]:
    """Build every target in parallel; the first failure (in target order) is raised after all have finished."""
    workers = workers or max(2, os.cpu_count() or 2)

    def one(target: BuildTarget) -> str | KfError:
        try:
            output = build_one(checkout, target)
        except KfError as error:
            return error
        if on_built:
            on_built(target)
        return output

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outputs = list(pool.map(one, targets))
    for output in outputs:
        if isinstance(output, KfError):
            raise output
    return dict(zip(targets, outputs, strict=True))  # type: ignore[arg-type]
