"""Verdicts on the tools: kustomize (and its known defects), kubectl, minikube, docker and git, against what the
release and the Kubernetes version ask. Pure: from the tools' raw answers (`gather`) to `CheckResult`s."""

from __future__ import annotations

from kfinstall import runner
from kfinstall.checks import toolversions
from kfinstall.checks.request import CheckRequest, CheckResult, raw_output
from kfinstall.release import minikube_support
from kfinstall.release.choice import suggest_release
from kfinstall.release.pins import Release
from kfinstall.release.version import Version
from kfinstall.runner import Result

KUSTOMIZE_RELEASE_URL = "https://github.com/kubernetes-sigs/kustomize/releases/tag/kustomize%2Fv{version}"


KUSTOMIZE_INSTALL_URL = "https://kubectl.docs.kubernetes.io/installation/kustomize/"


KUBECTL_INSTALL_URL = "https://kubernetes.io/docs/tasks/tools/"


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
            raw_output(result),
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
        return CheckResult("kubectl", "warn", raw_output(result), required, "cannot read kubectl's version")
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
        return CheckResult("minikube", "warn", raw_output(result), required, "cannot read minikube's version")
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
