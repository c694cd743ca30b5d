"""Prerequisite checks: is this machine (or cluster) able to run the chosen Kubeflow release?

Two halves. `gather` asks the tools (through `runner`, nothing else) and the host, and keeps their raw answers
in `Facts`. `evaluate` turns facts into verdicts and is pure, so every verdict is unit-tested on real tool
outputs. `run_checks` is the two together; `kfinstall check` renders its result and `kfinstall up` calls it
before touching anything. Nothing here prints.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from kfinstall import runner
from kfinstall.checks import registry, toolversions
from kfinstall.errors import UsageError
from kfinstall.minikube.units import format_mb
from kfinstall.release import minikube_support
from kfinstall.release.pins import Pins, Release, Version
from kfinstall.runner import Result

Status = Literal["ok", "warn", "fail"]

#: The inotify limits the Kubeflow README (v1.9.1 and later) asks for; older READMEs give none, but the pods are
#: just as many, so the same values are used for them.
README_INOTIFY = {"max_user_instances": 2280, "max_user_watches": 1255360}
DEFAULT_DRIVER = "docker"
KUSTOMIZE_RELEASE_URL = "https://github.com/kubernetes-sigs/kustomize/releases/tag/kustomize%2Fv{version}"
KUSTOMIZE_INSTALL_URL = "https://kubectl.docs.kubernetes.io/installation/kustomize/"
KUBECTL_INSTALL_URL = "https://kubernetes.io/docs/tasks/tools/"


@dataclass(frozen=True)
class CheckResult:
    """One verdict: what was `found`, what is `required`, what it means, and a concrete fix (`hint`)."""

    name: str
    status: Status
    found: str
    required: str
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


@dataclass(frozen=True)
class CheckRequest:
    """What the user wants to run: the release and profile, and the machine settings (None = defaults)."""

    release: Release
    profile: str = "standard"
    cpus: int | None = None
    memory_mb: int | None = None
    k8s_version: str | None = None
    driver: str | None = None
    gpus: str | None = None
    context: str | None = None
    #: All pinned releases, to suggest one this machine can run when the chosen one cannot.
    pins: Pins | None = None
    #: Also ask the registries for the images of the plan (`check --images`: needs the manifests and the network).
    images: bool = False
    #: Why this release was chosen when -k did not name it (shown by `check`).
    choice_reason: str | None = None

    @property
    def kubernetes(self) -> Version:
        """The Kubernetes version minikube will be asked for (a UsageError when --k8s-version is malformed)."""
        text = self.k8s_version or self.release.kubernetes.default
        try:
            version = Version.parse(text)
        except ValueError:
            raise UsageError(f"--k8s-version {text!r} is not a version", "give a version like v1.19.3") from None
        if version.patch is None:
            raise UsageError(f"--k8s-version {text} needs the patch number", f"for example {version}.0")
        return version

    @property
    def effective_driver(self) -> str:
        return self.driver or DEFAULT_DRIVER

    @property
    def uses_minikube(self) -> bool:
        return self.context is None


@dataclass(frozen=True)
class ClusterFacts:
    """Raw answers of the existing cluster (`--context`): `kubectl version`, StorageClasses, /api/v1, OIDC."""

    version: Result | None = None
    storage_classes: Result | None = None
    api_v1: Result | None = None
    openid: Result | None = None


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
    #: KFINSTALL_<TOOL> overrides that point at nothing executable: tool -> the value (the tool counts as missing).
    broken_overrides: dict[str, str] = field(default_factory=dict)


# ---- gathering (the only impure part) ---------------------------------------------------------------------------


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
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = {name: pool.submit(call) for name, call in calls.items()}
        answers = {name: future.result() for name, future in futures.items()}
    cluster_fields = ("version", "storage_classes", "api_v1", "openid")
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
        broken_overrides={
            tool: os.environ[runner.env_var_for(tool)]
            for tool in ("kustomize", "kubectl", "minikube", "docker", "git")
            if os.environ.get(runner.env_var_for(tool)) and runner.tool_path(tool) is None
        },
    )


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


def run_checks(request: CheckRequest) -> list[CheckResult]:
    """Every check for `request`, on this machine: `evaluate(request, gather(request))`, then the image rows
    (`request.images`), whose builds and registry requests run while the tools answer."""
    if not request.images:
        return evaluate(request, gather(request))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="images") as pool:
        image_facts = pool.submit(gather_images, request)
        results = evaluate(request, gather(request))
        return results + check_images(image_facts.result())


def failed(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.status == "fail"]


# ---- verdicts (pure) -------------------------------------------------------------------------------------------


def evaluate(request: CheckRequest, facts: Facts) -> list[CheckResult]:
    """The verdicts for `request` given `facts`, in the order a user should fix them.

    On minikube everything is about the machine and the Kubernetes version minikube will start. With
    `--context` the cluster exists: its own version replaces the requested one, and the host's CPUs, memory,
    inotify limits, docker and minikube do not matter.
    """
    results = _evaluate_cluster(request, facts) if request.context else _evaluate_minikube(request, facts)
    return [_explain_override(result, facts.broken_overrides) for result in results]


def _explain_override(result: CheckResult, broken: dict[str, str]) -> CheckResult:
    """A tool "not installed" because its KFINSTALL_<TOOL> override is wrong says so: that is what to fix."""
    if result.name in broken and result.found.startswith("not installed"):
        variable = runner.env_var_for(result.name)
        return replace(
            result,
            found=f"{variable}={broken[result.name]} is not an executable file",
            hint=f"point {variable} at the {result.name} executable, or unset it to use the one on PATH",
        )
    return result


def _evaluate_minikube(request: CheckRequest, facts: Facts) -> list[CheckResult]:
    kubernetes = request.kubernetes
    docker_info = toolversions.parse_docker_info(facts.docker.stdout, facts.docker.stderr) if facts.docker else None
    results = [check_release_kubernetes(request.release, kubernetes, explicit=request.k8s_version is not None)]
    results.append(check_kustomize(request.release, facts.kustomize, facts.kubectl))
    results.extend(check_kustomize_defects(request, facts.kustomize, facts.kubectl))
    results.append(check_kubectl(facts.kubectl, kubernetes))
    results.append(check_minikube(request, facts.minikube, kubernetes))
    if request.effective_driver == DEFAULT_DRIVER:
        results.append(check_docker(facts.docker, docker_info))
    results.append(check_git(facts.git))
    host_cpus, host_memory = facts.host_cpus, facts.host_memory_mb
    if docker_info and docker_info.reachable:  # the docker driver gets what the daemon has, not the host
        host_cpus, host_memory = docker_info.cpus or host_cpus, docker_info.memory_mb or host_memory
    resources = request.release.resources_for(request.profile)
    results.append(check_cpus(request.cpus, resources.cpus, host_cpus, request.profile))
    results.append(check_memory(request.memory_mb, resources.memory_mb, host_memory, request.profile))
    if facts.inotify is not None:
        results.append(check_inotify(request.release, facts.inotify))
    if request.gpus:
        results.extend(check_gpus(request, facts.nvidia_smi, docker_info, facts.minikube))
    return results


def _evaluate_cluster(request: CheckRequest, facts: Facts) -> list[CheckResult]:
    cluster = facts.cluster or ClusterFacts()
    cluster_results = check_cluster(request, cluster)
    server = toolversions.parse_kubectl_server_version(cluster.version.stdout).version if cluster.version else None
    results = [check_kustomize(request.release, facts.kustomize, facts.kubectl)]
    results.extend(check_kustomize_defects(request, facts.kustomize, facts.kubectl))
    if server is not None:
        results.append(check_kubectl(facts.kubectl, server))
    elif facts.kubectl is None:
        results.append(check_kubectl(None, request.kubernetes))
    results.append(check_git(facts.git))
    return results + cluster_results


def check_release_kubernetes(release: Release, kubernetes: Version, *, explicit: bool) -> CheckResult:
    supported = _range_text(release)
    if release.kubernetes.contains(kubernetes):
        return CheckResult(
            "kubernetes version", "ok", str(kubernetes), supported, f"Kubeflow {release.tag} supports it"
        )
    hint = f"use --k8s-version {release.kubernetes.default}" if explicit else "check the pins file"
    return CheckResult(
        "kubernetes version",
        "fail",
        str(kubernetes),
        supported,
        f"Kubeflow {release.tag} does not support Kubernetes {kubernetes}",
        hint,
    )


def _range_text(release: Release) -> str:
    pin = release.kubernetes
    low, high = pin.min, pin.max
    if low and high:
        return f"{low} – {high}"
    return f"≥ {low}" if low else (f"≤ {high}" if high else "any")


def check_kustomize(release: Release, result: Result | None, kubectl: Result | None = None) -> CheckResult:
    """The standalone kustomize against the pin; without one, kubectl's embedded kustomize may do (kfinstall
    builds with `kubectl kustomize` then), if its version satisfies the pin."""
    requirement = release.kustomize
    required = f"{'exactly' if requirement.exact else 'at least'} {requirement.version}"
    if requirement.exact:
        install = (
            f"install kustomize {requirement.exact} ({KUSTOMIZE_RELEASE_URL.format(version=requirement.exact)}) "
            "and put it first on PATH, or point KFINSTALL_KUSTOMIZE at it"
        )
    else:
        install = (
            f"install kustomize {requirement.version} or newer ({KUSTOMIZE_INSTALL_URL}), or set KFINSTALL_KUSTOMIZE"
        )
    if result is None:
        embedded = toolversions.parse_kubectl_kustomize_version(kubectl.stdout).version if kubectl else None
        if embedded is not None and requirement.satisfied_by(embedded):
            return CheckResult(
                "kustomize", "ok", f"kubectl's embedded {embedded}", required, "builds will use `kubectl kustomize`"
            )
        found = f"not installed (kubectl embeds {embedded})" if embedded else "not installed"
        return CheckResult("kustomize", "fail", found, required, "kustomize is not installed", install)
    parsed = toolversions.parse_kustomize_version(result.stdout or result.stderr)
    if not result.ok or parsed.version is None:
        return CheckResult(
            "kustomize",
            "warn",
            _raw(result),
            required,
            "cannot tell which kustomize this is (a distro or source build?)",
            f"if builds fail, {install}",
        )
    if requirement.satisfied_by(parsed.version):
        return CheckResult("kustomize", "ok", parsed.text, required, f"what Kubeflow {release.tag} asks for")
    why = (
        f"Kubeflow {release.tag} needs exactly {requirement.exact}"
        + (f" ({requirement.note.removeprefix('README: ')})" if requirement.note else "")
        if requirement.exact
        else f"Kubeflow {release.tag} needs {requirement.version} or newer"
    )
    return CheckResult("kustomize", "fail", parsed.text, required, why, install)


def check_kustomize_defects(request: CheckRequest, result: Result | None, kubectl: Result | None) -> list[CheckResult]:
    """The pins' known defects of the kustomize that will build (the standalone one, else kubectl's embedded one)
    for the components of the profile: ok when none applies or kfinstall repairs it, else a failure. No row for a
    release without known defects, or when the version cannot be told (the kustomize row says so)."""
    release = request.release
    selected = {c.id for c in release.profile_components(request.profile)}
    defects = [d for d in release.kustomize.defects if d.component in selected]
    if not defects:
        return []
    if result is None:
        version = toolversions.parse_kubectl_kustomize_version(kubectl.stdout).version if kubectl else None
    else:
        version = toolversions.parse_kustomize_version(result.stdout or result.stderr).version if result.ok else None
    if version is None:
        return []
    plain = str(version).lstrip("v")
    required = "; ".join(f"{d.component}: not {d}" for d in defects)
    hits = [d for d in defects if d.affects(version)]
    if not hits:
        return [CheckResult("kustomize defects", "ok", plain, required, f"no known defect for {release.tag}")]
    unrepaired = [d for d in hits if d.repaired is None]
    message = "; ".join(
        f"kustomize {plain} {d.breaks}" + (f": kfinstall {d.repaired}" if d.repaired else f" ({d.source})")
        for d in hits
    )
    if not unrepaired:
        return [CheckResult("kustomize defects", "ok", plain, required, message)]
    ranges = ", ".join(f"{d.component} needs a kustomize outside {d}" for d in unrepaired)
    return [CheckResult("kustomize defects", "fail", plain, required, message, f"{ranges} (KFINSTALL_KUSTOMIZE)")]


def check_kubectl(result: Result | None, kubernetes: Version) -> CheckResult:
    required = f"{kubernetes.major}.{kubernetes.minor} ± 1 minor"
    if result is None:
        return CheckResult(
            "kubectl", "fail", "not installed", required, "kubectl is not installed", runner.INSTALL_HINTS["kubectl"]
        )
    parsed = toolversions.parse_kubectl_client_version(result.stdout)
    if parsed.version is None:
        return CheckResult("kubectl", "warn", _raw(result), required, "cannot read kubectl's version")
    skew = abs(parsed.version.minor - kubernetes.minor) if parsed.version.major == kubernetes.major else 99
    if skew <= 1:
        return CheckResult("kubectl", "ok", parsed.text, required, "within the supported version skew")
    return CheckResult(
        "kubectl",
        "warn",
        parsed.text,
        required,
        f"kubectl {parsed.text} is {skew} minor versions away from Kubernetes {kubernetes} (±1 is supported)",
        f"install kubectl v{kubernetes.major}.{kubernetes.minor} ({KUBECTL_INSTALL_URL}) and set "
        "KFINSTALL_KUBECTL to it, if kubectl misbehaves against this cluster",
    )


def check_minikube(request: CheckRequest, result: Result | None, kubernetes: Version) -> CheckResult:
    release = request.release
    last = minikube_support.last_minikube_for(kubernetes)
    pinned = str(release.minikube) if release.minikube.min or release.minikube.max else None
    bound = pinned or (f"≤ {last}" if last else None)
    required = f"starts Kubernetes {kubernetes}" + (f" ({bound})" if bound else "")
    if result is None:
        return CheckResult(
            "minikube", "fail", "not installed", required, "minikube is not installed", _minikube_install_hint(last)
        )
    parsed = toolversions.parse_minikube_version(result.stdout)
    if not result.ok or parsed.version is None:
        return CheckResult("minikube", "warn", _raw(result), required, "cannot read minikube's version")
    minikube = parsed.version
    if not minikube_support.can_start(minikube, kubernetes):
        oldest = minikube_support.oldest_kubernetes(minikube)
        suggestion = suggest_release(request.pins, minikube) if request.pins else None
        hint = _minikube_install_hint(last)
        if suggestion is not None and suggestion.tag != release.tag:
            hint += f"; or install Kubeflow {suggestion.tag} instead (-k {suggestion.tag}), which this minikube can run"
        return CheckResult(
            "minikube",
            "fail",
            parsed.text,
            required,
            f"minikube {parsed.text} refuses Kubernetes older than {oldest}, and Kubeflow {release.tag} runs on "
            f"Kubernetes {kubernetes}",
            hint,
        )
    if not release.minikube.contains(minikube):
        return CheckResult(
            "minikube",
            "fail",
            parsed.text,
            required,
            f"Kubeflow {release.tag} is pinned to minikube {release.minikube}",
            _minikube_install_hint(last),
        )
    if minikube_support.knows_kubernetes(minikube, kubernetes) is False:
        return _too_new_for_minikube(request, parsed.text, minikube, kubernetes, required)
    return CheckResult("minikube", "ok", parsed.text, required, f"can start Kubernetes {kubernetes}")


def _too_new_for_minikube(
    request: CheckRequest, found: str, minikube: Version, kubernetes: Version, required: str
) -> CheckResult:
    """minikube only warns about a Kubernetes newer than it knows and tries anyway, so this is a warning."""
    release, newest = request.release, minikube_support.newest_kubernetes(minikube)
    first = minikube_support.first_minikube_knowing(kubernetes)
    fixes = [
        f"install minikube {first} or newer, which knows it ({minikube_support.RELEASES_URL})"
        if first
        else f"install a newer minikube ({minikube_support.RELEASES_URL})"
    ]
    suggestion = suggest_release(request.pins, minikube) if request.pins else None
    if suggestion is not None and suggestion.tag != release.tag:
        fixes.append(
            f"install Kubeflow {suggestion.tag} instead (-k {suggestion.tag}), whose Kubernetes "
            f"{suggestion.kubernetes.default} this minikube knows"
        )
    known = _newest_release_text(newest)
    if known and release.kubernetes.contains(known) and minikube_support.can_start(minikube, known):
        fixes.append(f"pass --k8s-version {known}, within Kubeflow {release.tag}'s range")
    return CheckResult(
        "minikube",
        "warn",
        found,
        required,
        f"minikube {found} knows Kubernetes up to {newest}: it warns that {kubernetes} is newer, tries anyway, "
        "and kubeadm may fail",
        "; or ".join(fixes),
    )


def _newest_release_text(newest: str | None) -> Version | None:
    """minikube's newest as a released version (None for a pre-release such as v1.28.0-rc.1)."""
    try:
        return Version.parse(newest) if newest else None
    except ValueError:
        return None


def _minikube_install_hint(last: Version | None) -> str:
    if last is None:
        return runner.INSTALL_HINTS["minikube"]
    return f"install minikube {last}.x or older ({minikube_support.RELEASES_URL}) and point KFINSTALL_MINIKUBE at it"


def suggest_release(pins: Pins, minikube: Version | None) -> Release | None:
    """The newest pinned release whose pins allow this minikube and whose default Kubernetes it starts and
    supports (between the oldest it starts and the newest it supports). When it supports none of them, the one
    whose default Kubernetes is the least beyond what it supports (minikube only warns about a Kubernetes newer
    than it supports, and refuses an older one); the newest release when that is not recorded either."""
    candidates = pins.by_age(newest_first=True)
    if minikube is None:
        return candidates[0] if candidates else None
    startable = [release for release in candidates if _starts(minikube, release)]
    for release in startable:
        if minikube_support.knows_kubernetes(minikube, _default_kubernetes(release)) is not False:
            return release
    if not startable:
        return None
    return min(startable, key=lambda release: _default_kubernetes(release))  # min keeps the newest of equals


def _default_kubernetes(release: Release) -> Version:
    return Version.parse(release.kubernetes.default)


def _starts(minikube: Version, release: Release) -> bool:
    return release.minikube.contains(minikube) and minikube_support.can_start(minikube, _default_kubernetes(release))


def _runs(minikube: Version, release: Release) -> bool:
    """This minikube starts and supports the release's default Kubernetes, as its pins allow."""
    return _starts(minikube, release) and minikube_support.knows_kubernetes(minikube, _default_kubernetes(release))


def first_minikube_running(release: Release) -> Version | None:
    """The first recorded minikube release that starts and supports `release`'s default Kubernetes."""
    for row in minikube_support.KUBERNETES_SUPPORT:
        if _runs(row.since, release):
            return row.since
    return None


@dataclass(frozen=True)
class ReleaseChoice:
    """The release a command works on, and one line saying why (None when the user named it with -k)."""

    release: Release
    reason: str | None = None


def explain_choice(pins: Pins, minikube: Version | None, chosen: Release) -> str:
    """Why `chosen` is the default for this minikube, in one line that only states recorded facts."""
    newest = pins.newest
    if minikube is None:
        return f"no minikube version could be read: the newest pinned release, {newest.tag}, is checked"
    span = minikube_support.supported_span(minikube)
    supports = f"minikube {minikube} supports Kubernetes {span}" if span else f"minikube {minikube}"
    ahead = ""
    if chosen.tag != newest.tag:
        first = first_minikube_running(newest)
        ahead = (
            f"; minikube ≥ {first} runs {newest.tag} (Kubernetes {newest.kubernetes.default})"
            if first
            else f"; no recorded minikube supports {newest.tag}'s Kubernetes {newest.kubernetes.default} yet"
        )
    if not _starts(minikube, chosen):
        return f"{supports}, and starts none of the pinned releases' Kubernetes: {chosen.tag} is checked{ahead}"
    if span is None:
        side = "newer" if minikube > minikube_support.LAST_RECORDED else "older"
        return (
            f"{supports} is {side} than the minikube releases whose Kubernetes support kfinstall records: "
            f"{chosen.tag}, the newest release it starts, is chosen{ahead}"
        )
    if not minikube_support.knows_kubernetes(minikube, _default_kubernetes(chosen)):
        return (
            f"{supports}, older than every pinned release it starts: {chosen.tag} (Kubernetes "
            f"{chosen.kubernetes.default}) is the nearest, and minikube warns before trying it{ahead}"
        )
    if chosen.tag == newest.tag:
        return f"{supports}: it runs the newest pinned release, {chosen.tag} (Kubernetes {chosen.kubernetes.default})"
    return f"{supports}: the newest release it runs is {chosen.tag} (Kubernetes {chosen.kubernetes.default}){ahead}"


def release_choice(
    pins: Pins,
    kubeflow_version: str | None,
    context: str | None,
    minikube_output: Callable[[], Result | None] | None = None,
) -> ReleaseChoice:
    """The release a command works on and why: `-k` when given; else the newest the local minikube can run (the
    newest pinned one with --context, where no minikube is involved). `check`, `up` and `plan` all choose so."""
    if kubeflow_version:
        return ReleaseChoice(pins.get(kubeflow_version))
    if context:
        return ReleaseChoice(
            pins.newest, f"an existing cluster (--context): the newest pinned release, {pins.newest.tag}"
        )
    result = (minikube_output or minikube_version_output)()
    version = toolversions.parse_minikube_version(result.stdout).version if result is not None and result.ok else None
    chosen = suggest_release(pins, version) or pins.newest
    return ReleaseChoice(chosen, explain_choice(pins, version, chosen))


def choose_release(pins: Pins, kubeflow_version: str | None, context: str | None) -> Release:
    """The release of `release_choice`, without the reason."""
    return release_choice(pins, kubeflow_version, context).release


def default_release(pins: Pins, minikube_output: Callable[[], Result | None] = minikube_version_output) -> Release:
    """The release `up` installs when none is asked for: the newest one the local minikube can run, preferring
    one whose default Kubernetes it supports (see `suggest_release`).

    Without a readable minikube it is simply the newest pinned release (the minikube check will explain).
    """
    return release_choice(pins, None, None, minikube_output).release


def check_docker(result: Result | None, info: toolversions.DockerInfo | None) -> CheckResult:
    required = "daemon reachable (minikube's docker driver)"
    if result is None or info is None:
        return CheckResult(
            "docker", "fail", "not installed", required, "docker is not installed", runner.INSTALL_HINTS["docker"]
        )
    if not info.reachable:
        return CheckResult(
            "docker",
            "fail",
            "daemon not reachable",
            required,
            info.error or "the docker daemon does not answer",
            "start Docker (`sudo systemctl start docker`, or Docker Desktop) and make sure your user may use it "
            "(`sudo usermod -aG docker $USER`, then log in again); or choose another --driver",
        )
    return CheckResult("docker", "ok", f"server {info.server_version}", required, "the daemon answers")


def check_git(result: Result | None) -> CheckResult:
    if result is None:
        return CheckResult(
            "git", "fail", "not installed", "any", "git is needed to fetch the manifests", runner.INSTALL_HINTS["git"]
        )
    parsed = toolversions.parse_git_version(result.stdout)
    return CheckResult("git", "ok", parsed.text, "any", "present")


def check_cpus(asked: int | None, recommended: int, host: int | None, profile: str) -> CheckResult:
    wanted = asked or recommended
    required = f"{recommended} recommended for {profile}"
    found = f"{wanted} asked, {host if host is not None else '?'} available"
    if wanted < minikube_support.MIN_CPUS:
        return CheckResult("cpus", "fail", found, required, "minikube needs at least 2 CPUs", "use --cpus 2 or more")
    if host is not None and wanted > host:
        return CheckResult(
            "cpus",
            "fail",
            found,
            required,
            f"{wanted} CPUs asked but only {host} available",
            f"use --cpus {host}",
        )
    if wanted < recommended:
        return CheckResult(
            "cpus",
            "warn",
            found,
            required,
            f"fewer CPUs than the {profile} profile is meant for: pods may start slowly",
            f"use --cpus {recommended}, or --profile minimal",
        )
    return CheckResult("cpus", "ok", found, required, "enough")


def check_memory(asked: int | None, recommended: int, host: int | None, profile: str) -> CheckResult:
    wanted = asked or recommended
    required = f"{format_mb(recommended)} recommended for {profile}"
    found = f"{format_mb(wanted)} asked, {format_mb(host) if host is not None else '?'} available"
    if wanted < minikube_support.MIN_MEMORY_MB:
        return CheckResult(
            "memory",
            "fail",
            found,
            required,
            f"minikube refuses less than {minikube_support.MIN_MEMORY_MB} MB",
            f"use --memory {recommended}mb",
        )
    if host is not None and wanted > host:
        return CheckResult(
            "memory",
            "fail",
            found,
            required,
            f"{format_mb(wanted)} asked but only {format_mb(host)} available",
            f"use --memory {host}mb or less"
            + (", and --profile minimal" if asked is None and profile != "minimal" else ""),
        )
    if wanted < recommended:
        return CheckResult(
            "memory",
            "warn",
            found,
            required,
            f"less memory than the {profile} profile is meant for: pods may stay Pending",
            f"use --memory {recommended}mb, or --profile minimal",
        )
    return CheckResult("memory", "ok", found, required, "enough")


def check_inotify(release: Release, values: dict[str, int]) -> CheckResult:
    wanted = release.inotify or README_INOTIFY
    low = {name: values.get(name, 0) for name, minimum in wanted.items() if values.get(name, 0) < minimum}
    found = ", ".join(f"{name}={values.get(name, '?')}" for name in wanted)
    required = ", ".join(f"{name} ≥ {minimum}" for name, minimum in wanted.items())
    if not low:
        return CheckResult("inotify limits", "ok", found, required, "enough for Kubeflow's pods")
    commands = "; ".join(f"sudo sysctl fs.inotify.{name}={wanted[name]}" for name in low)
    return CheckResult(
        "inotify limits",
        "warn",
        found,
        required,
        "too low: pods fail with 'too many open files' once many are running",
        commands + " (add them to /etc/sysctl.conf to keep them)",
    )


def check_gpus(
    request: CheckRequest,
    nvidia_smi: Result | None,
    docker_info: toolversions.DockerInfo | None,
    minikube: Result | None,
) -> list[CheckResult]:
    results = []
    gpus = toolversions.parse_nvidia_smi_list(nvidia_smi.stdout) if nvidia_smi is not None else []
    if nvidia_smi is None:
        results.append(
            CheckResult(
                "gpu driver",
                "fail",
                "nvidia-smi not installed",
                "nvidia-smi lists a GPU",
                "no NVIDIA driver found",
                runner.INSTALL_HINTS["nvidia-smi"],
            )
        )
    elif not gpus:
        results.append(
            CheckResult(
                "gpu driver",
                "fail",
                _raw(nvidia_smi),
                "nvidia-smi lists a GPU",
                "nvidia-smi lists no GPU",
                "install or repair the NVIDIA driver until `nvidia-smi -L` lists your GPU",
            )
        )
    else:
        results.append(
            CheckResult("gpu driver", "ok", "; ".join(gpus), "nvidia-smi lists a GPU", f"{len(gpus)} GPU(s)")
        )
    if request.effective_driver != DEFAULT_DRIVER:
        results.append(
            CheckResult(
                "gpu driver support",
                "fail",
                f"--driver {request.effective_driver}",
                "--driver docker",
                "minikube passes GPUs through only with the docker driver",
                "use --driver docker",
            )
        )
    elif docker_info is not None and docker_info.reachable:
        if "nvidia" in docker_info.runtimes:
            results.append(
                CheckResult("docker nvidia runtime", "ok", ", ".join(docker_info.runtimes), "nvidia", "present")
            )
        else:
            results.append(
                CheckResult(
                    "docker nvidia runtime",
                    "fail",
                    ", ".join(docker_info.runtimes) or "none",
                    "nvidia",
                    "docker has no nvidia runtime, so containers cannot see the GPU",
                    "install the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker`"
                    " and `sudo systemctl restart docker`",
                )
            )
    version = toolversions.parse_minikube_version(minikube.stdout).version if minikube is not None else None
    if version is not None:
        values = minikube_support.gpu_flag_values(version)
        if request.gpus not in values:
            why = (
                f"minikube {version} has no --gpus flag (added in {minikube_support.GPUS_SINCE})"
                if not values
                else f"minikube {version} accepts --gpus {', '.join(values)}, not {request.gpus}"
            )
            results.append(
                CheckResult(
                    "minikube --gpus",
                    "fail",
                    str(version),
                    f"≥ {minikube_support.GPUS_SINCE}",
                    why,
                    f"install minikube {minikube_support.GPUS_SINCE} or newer"
                    if not values
                    else f"use --gpus {values[0]}",
                )
            )
        else:
            results.append(
                CheckResult("minikube --gpus", "ok", str(version), f"≥ {minikube_support.GPUS_SINCE}", "supported")
            )
    return results


def check_cluster(request: CheckRequest, cluster: ClusterFacts) -> list[CheckResult]:
    """The checks for an existing cluster (`--context`)."""
    release = request.release
    results = []
    supported = _range_text(release)
    version = cluster.version
    parsed = toolversions.parse_kubectl_server_version(version.stdout) if version is not None else None
    if version is None or parsed is None or parsed.version is None:
        message = (version.output if version is not None else "kubectl is not installed") or "no answer"
        results.append(
            CheckResult(
                "cluster reachable",
                "fail",
                _first_line(message),
                f"context {request.context} answers",
                f"cannot reach the cluster of context {request.context}",
                "check `kubectl --context " + str(request.context) + " get nodes` and your kubeconfig",
            )
        )
        return results
    server = parsed.version
    if release.kubernetes.contains(server):
        results.append(
            CheckResult("cluster kubernetes", "ok", str(server), supported, f"Kubeflow {release.tag} supports it")
        )
    else:
        results.append(
            CheckResult(
                "cluster kubernetes",
                "fail",
                str(server),
                supported,
                f"Kubeflow {release.tag} does not support Kubernetes {server}",
                "use a cluster in the supported range, or another -k release (see `kfinstall versions`)",
            )
        )
    results.append(_check_default_storage_class(cluster.storage_classes))
    results.append(_check_token_request(cluster.api_v1))
    results.append(_check_issuer(release, cluster.openid))
    return results


def _check_default_storage_class(result: Result | None) -> CheckResult:
    import json

    required = "a default StorageClass"
    names, defaults = [], []
    if result is not None and result.ok:
        try:
            items = json.loads(result.stdout).get("items", [])
        except ValueError:
            items = []
        for item in items:
            metadata = item.get("metadata", {})
            names.append(metadata.get("name", "?"))
            annotations = metadata.get("annotations") or {}
            if "true" in (
                annotations.get("storageclass.kubernetes.io/is-default-class"),
                annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
            ):
                defaults.append(metadata.get("name", "?"))
    if defaults:
        return CheckResult("default storageclass", "ok", ", ".join(defaults), required, "PVCs will be provisioned")
    return CheckResult(
        "default storageclass",
        "fail",
        f"none ({', '.join(names)} not default)" if names else "no StorageClass",
        required,
        "Katib's and the auth service's PVCs would stay Pending",
        "mark one default: kubectl patch storageclass NAME -p "
        '\'{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}\'',
    )


def _check_token_request(result: Result | None) -> CheckResult:
    import json

    required = "serviceaccounts/token served"
    served = False
    if result is not None and result.ok:
        try:
            served = any(
                r.get("name") == "serviceaccounts/token" for r in json.loads(result.stdout).get("resources", [])
            )
        except (ValueError, AttributeError):
            served = False
    if served:
        return CheckResult("tokenrequest api", "ok", "served", required, "projected service-account tokens work")
    return CheckResult(
        "tokenrequest api",
        "fail",
        "not served",
        required,
        "Istio needs projected service-account tokens (the TokenRequest API)",
        "start the apiserver with --service-account-issuer and --service-account-signing-key-file",
    )


def _check_issuer(release: Release, result: Result | None) -> CheckResult:
    import json

    wanted = release.service_account_issuer
    required = wanted or "any"
    issuer = None
    if result is not None and result.ok:
        try:
            issuer = json.loads(result.stdout).get("issuer")
        except (ValueError, AttributeError):
            issuer = None
    if issuer is None:
        return CheckResult(
            "service-account issuer", "warn", "unknown", required, "the cluster does not publish its OIDC configuration"
        )
    if wanted is None or issuer == wanted:
        return CheckResult("service-account issuer", "ok", issuer, required, "as the release expects")
    return CheckResult(
        "service-account issuer",
        "warn",
        issuer,
        required,
        f"Kubeflow {release.tag} is set up for issuer {wanted}",
        f"start the apiserver with --service-account-issuer={wanted} if authentication fails",
    )


def _raw(result: Result) -> str:
    text = (result.stdout.strip() or result.stderr.strip() or f"exit code {result.exit_code}").replace("\n", " ")
    return text if len(text) <= 120 else text[:117] + "..."


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return text


# ---- the request from command-line values ----------------------------------------------------------------------

GPU_CHOICES = ("all", "nvidia", "amd")


def build_request(
    *,
    kubeflow_version: str | None = None,
    profile: str = "standard",
    pins_path: Path | None = None,
    cpus: str | int | None = None,
    memory: str | int | None = None,
    k8s_version: str | None = None,
    driver: str | None = None,
    gpus: str | None = None,
    context: str | None = None,
    images: bool = False,
) -> CheckRequest:
    """A CheckRequest from raw option values: pins loaded, release chosen, units parsed, nonsense refused."""
    from kfinstall.minikube.units import check_driver, parse_cpus, parse_memory_mb
    from kfinstall.release.pins import PROFILES, load_pins

    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}", f"valid profiles: {', '.join(PROFILES)}")
    if gpus is not None and gpus not in GPU_CHOICES:
        raise UsageError(f"--gpus {gpus!r} is not one of {', '.join(GPU_CHOICES)}", "use --gpus all")
    if context and any(value is not None for value in (cpus, memory, driver, gpus)):
        raise UsageError(
            "--context checks an existing cluster, so the minikube options (--cpus, --memory, --driver, --gpus) "
            "do not apply",
            "drop the minikube options, or drop --context",
        )
    cpus_value = parse_cpus(cpus) if cpus is not None else None
    memory_mb = parse_memory_mb(memory) if memory is not None else None
    if driver is not None:
        check_driver(driver)
    pins = load_pins(pins_path)
    if k8s_version is not None:  # a malformed --k8s-version is a usage error before any tool runs
        CheckRequest(release=pins.newest, k8s_version=k8s_version).kubernetes  # noqa: B018
    choice = release_choice(pins, kubeflow_version, context)
    return CheckRequest(
        release=choice.release,
        choice_reason=choice.reason,
        profile=profile,
        cpus=cpus_value,
        memory_mb=memory_mb,
        k8s_version=k8s_version,
        driver=driver,
        gpus=gpus,
        context=context,
        pins=pins,
        images=images,
    )


# ---- images of the plan (`kfinstall check --images`) -----------------------------------------------------------


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


def check_images(facts: ImageFacts) -> list[CheckResult]:
    """A row per image a registry no longer serves (or serves without the nodes' platform), a warning per registry
    that could not be asked, and a summary row when nothing failed. Unreachable is never "missing"."""
    required = f"served for {facts.platform}" if facts.platform else "served"
    if facts.error is not None:
        return [
            CheckResult(
                "images",
                "warn",
                "not listed",
                required,
                f"could not check the images: {facts.error}",
                "`kfinstall check --images` needs the manifests (fetched once, then cached) and the network",
            )
        ]
    results: list[CheckResult] = []
    unreachable: dict[str, list[registry.Availability]] = {}
    unseen: list[registry.Availability] = []
    for image, components in facts.users.items():
        answer = facts.answers.get(image) or registry.Availability(image, "unreachable", "not asked")
        name = f"image: {', '.join(components)}"
        without = " ".join(f"--without {component}" for component in components)
        if answer.state == "unreachable":
            unreachable.setdefault(answer.registry or "?", []).append(answer)
        elif answer.state in ("missing", "denied", "invalid"):
            why = {
                "missing": "the registry no longer serves it",
                "denied": "the registry refuses it to anonymous pulls (deleted, private, or its project closed)",
                "invalid": "not an image reference",
            }[answer.state]
            results.append(
                CheckResult(
                    name,
                    "fail",
                    image,
                    required,
                    f"{why}: {answer.words}",
                    f"{image}: pods of {', '.join(components)} would wait in ImagePullBackOff; leave "
                    f"{'it' if len(components) == 1 else 'them'} out ({without}) or choose another release "
                    "(`kfinstall versions`)",
                )
            )
        elif answer.platforms is None:
            unseen.append(answer)
        elif facts.platform is not None and facts.platform not in answer.platforms:
            results.append(
                CheckResult(
                    name,
                    "fail",
                    image,
                    required,
                    f"no {facts.platform} image: the registry has {', '.join(answer.platforms) or 'no platform'}",
                    f"{image}: the kubelet would fail with 'no matching manifest for {facts.platform}'; install on "
                    f"a {', '.join(answer.platforms) or 'different'} machine, leave it out ({without}), or choose "
                    "another release",
                )
            )
    for host, answers in unreachable.items():
        results.append(
            CheckResult(
                "images",
                "warn",
                f"{len(answers)} image(s) on {host}",
                required,
                f"could not check: {answers[0].words}",
                f"check the network or proxy (HTTPS_PROXY) and run `kfinstall check --images` again; {host}'s "
                "images were not judged",
            )
        )
    asked = len(facts.users) - sum(len(answers) for answers in unreachable.values())
    if asked and not any(result.status == "fail" for result in results):
        hosts = {answer.registry for answer in facts.answers.values() if answer.state != "unreachable"}
        note = ""
        if unseen and facts.platform:
            hub = all(answer.registry in registry.PULL_COUNTED for answer in unseen)
            why = ": Docker Hub counts manifest reads as pulls" if hub else ""
            note = f" ({len(unseen)} not checked for {facts.platform}{why})"
        results.insert(
            0,
            CheckResult(
                "images",
                "ok",
                f"{asked} image(s) on {len(hosts)} registr{'y' if len(hosts) == 1 else 'ies'}",
                required,
                ("all available" if not unreachable else f"{asked} of {len(facts.users)} available") + note,
            ),
        )
    return results
