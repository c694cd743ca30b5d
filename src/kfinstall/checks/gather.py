"""Gathering the facts the checks judge: the tools' answers, the host's CPUs, memory and inotify limits, the
existing cluster's answers (`--context`), and the plan's images at their registries (`check --images`).

The only impure part of the checks, and all of it through `runner`: each probe is an independent process, so
they run at once. The raw answers are kept as they came (`Facts`), for the pure verdicts to read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kfinstall import runner
from kfinstall.checks import registry, toolversions
from kfinstall.checks.request import DEFAULT_DRIVER, CheckRequest
from kfinstall.checks.resources import README_INOTIFY
from kfinstall.manifests.measure import Measured
from kfinstall.release.version import Version
from kfinstall.runner import Result


@dataclass(frozen=True)
class ClusterFacts:
    """Raw answers of the existing cluster (`--context`): `kubectl version`, StorageClasses, /api/v1, OIDC."""

    version: Result | None = None
    storage_classes: Result | None = None
    api_v1: Result | None = None
    openid: Result | None = None
    #: `kubectl get nodes` and `get pods -A` (JSON): what the nodes have and their pods already request.
    nodes: Result | None = None
    pods: Result | None = None


@dataclass(frozen=True)
class Facts:
    """The raw answers of the tools and the host. A tool that is not installed is None."""

    kustomize: Result | None = None
    kubectl: Result | None = None
    minikube: Result | None = None
    docker: Result | None = None
    git: Result | None = None
    nvidia_smi: Result | None = None
    host_cpus: int | None = None
    host_memory_mb: int | None = None
    #: fs.inotify values on Linux; None elsewhere (the limits are a Linux thing).
    inotify: dict[str, int] | None = None
    cluster: ClusterFacts | None = None
    #: The plan's components' requests, measured from the cached manifests or shipped (manifests/measure.py);
    #: None when neither has them (the verdicts then use the pins' per-profile figures).
    measured: Measured | None = None
    #: KFINSTALL_<TOOL> overrides that point at nothing executable: tool -> the value (the tool counts as missing).
    broken_overrides: dict[str, str] = field(default_factory=dict)


def _run(tool: str, *args: str, timeout: float = 60) -> Result | None:
    if runner.tool_path(tool) is None:
        return None
    return runner.run(tool, *args, timeout=timeout)


def minikube_version_output() -> Result | None:
    """`minikube version --output=json`, or the plain form from minikubes that do not know `--output`."""
    result = _run("minikube", "version", "--output=json")
    if result is not None and (not result.ok or toolversions.parse_minikube_version(result.stdout).version is None):
        plain = _run("minikube", "version")
        if plain is not None and plain.ok:
            return plain
    return result


def local_minikube_version() -> Version | None:
    """The version of the minikube on this machine; None when there is none or its answer cannot be read."""
    result = minikube_version_output()
    return toolversions.parse_minikube_version(result.stdout).version if result is not None and result.ok else None


def gather(request: CheckRequest) -> Facts:
    """Ask every tool the check needs, through `runner`, all at once (each is an independent process)."""
    from concurrent.futures import ThreadPoolExecutor

    minikube, context = request.uses_minikube, request.context
    calls: dict[str, Callable[[], Result | None]] = {
        "kustomize": lambda: _run("kustomize", "version"),
        "kubectl": lambda: _run("kubectl", "version", "--client", "-o", "json"),
        "git": lambda: _run("git", "--version"),
    }
    if minikube:
        calls["minikube"] = minikube_version_output
        if request.effective_driver == DEFAULT_DRIVER:
            calls["docker"] = lambda: _run("docker", "info", "--format", "{{json .}}")
        if request.gpus:
            calls["nvidia_smi"] = lambda: _run("nvidia-smi", "-L")
    if context:
        on = ("--context", context)
        calls["version"] = lambda: _run("kubectl", *on, "version", "-o", "json", timeout=30)
        calls["storage_classes"] = lambda: _run("kubectl", *on, "get", "storageclasses", "-o", "json", timeout=30)
        calls["api_v1"] = lambda: _run("kubectl", *on, "get", "--raw", "/api/v1", timeout=30)
        calls["openid"] = lambda: _run("kubectl", *on, "get", "--raw", "/.well-known/openid-configuration", timeout=30)
        calls["nodes"] = lambda: _run("kubectl", *on, "get", "nodes", "-o", "json", timeout=30)
        calls["pods"] = lambda: _run("kubectl", *on, "get", "pods", "-A", "-o", "json", timeout=30)
    with ThreadPoolExecutor(max_workers=len(calls) + 1) as pool:
        measuring = pool.submit(measure, request)
        futures = {name: pool.submit(call) for name, call in calls.items()}
        answers = {name: future.result() for name, future in futures.items()}
        measured = measuring.result()
    cluster_fields = ("version", "storage_classes", "api_v1", "openid", "nodes", "pods")
    return Facts(
        kustomize=answers["kustomize"],
        kubectl=answers["kubectl"],
        minikube=answers.get("minikube"),
        docker=answers.get("docker"),
        git=answers["git"],
        nvidia_smi=answers.get("nvidia_smi"),
        host_cpus=os.cpu_count(),
        host_memory_mb=_host_memory_mb(),
        inotify=read_inotify() if sys.platform.startswith("linux") and minikube else None,
        cluster=ClusterFacts(**{name: answers.get(name) for name in cluster_fields}) if context else None,
        measured=measured,
        broken_overrides={
            tool: os.environ[runner.env_var_for(tool)]
            for tool in ("kustomize", "kubectl", "minikube", "docker", "git")
            if os.environ.get(runner.env_var_for(tool)) and runner.tool_path(tool) is None
        },
    )


def measure(request: CheckRequest) -> Measured | None:
    """The requests of the profile's components, from the cached manifests, else the shipped figures (`check`
    never clones; a build that fails leaves the verdicts to the pins' figures: `up` and `check --images` say why
    it fails)."""
    from kfinstall.errors import KfError
    from kfinstall.manifests.measure import measured_requests
    from kfinstall.release.selection import select

    release = request.release
    try:
        components = [(c.id, c.paths) for c in select(release, request.profile).components]
        return measured_requests(release.tag, release.commit, release.repo, components)
    except KfError:
        return None


def _host_memory_mb() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):
        return None


def read_inotify(root: Path = Path("/proc/sys/fs/inotify")) -> dict[str, int] | None:
    values = {}
    for name in README_INOTIFY:
        try:
            values[name] = int((root / name).read_text().strip())
        except (OSError, ValueError):
            return None
    return values


@dataclass(frozen=True)
class ImageFacts:
    """The plan's images and what their registries said; `error` when the images could not even be listed."""

    #: `os/arch` the nodes pull for (minikube's docker driver: the host's); None with --context (unknown).
    platform: str | None
    #: image -> ids of the components that run it, in install order.
    users: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[str, registry.Availability] = field(default_factory=dict)
    error: str | None = None


def gather_images(request: CheckRequest) -> ImageFacts:
    """The images the install would pull (manifests fetched and built as `up` does, both cached), then a manifest
    request per image to its registry (a few at a time)."""
    from kfinstall.errors import KfError
    from kfinstall.install import images
    from kfinstall.install.up import UpOptions, make_plan

    platform = None if request.context else registry.host_platform()
    options = UpOptions(profile=request.profile, context=request.context)
    try:
        users = images.planned_images(make_plan(options, request.release), options)
    except KfError as error:
        return ImageFacts(platform, error=error.message)
    return ImageFacts(platform, users, registry.check_all(users, client=registry.Client(platform=platform)))
