"""Which release a command works on when `-k` does not name one, and the one line that says why.

`check`, `plan` and `up` choose alike: the newest pinned release the local minikube can run (it refuses a
Kubernetes older than its floor and only warns about one newer than it knows, see minikube_support.py), the
newest pinned one with `--context` (no minikube is involved). Pure: the minikube version is handed in as a
function, called only when the choice depends on it (asking minikube costs a process), by
`checks.prerequisites.release_choice`, which asks the minikube at hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kfinstall.release import minikube_support
from kfinstall.release.pins import Pins, Release
from kfinstall.release.version import Version


@dataclass(frozen=True)
class ReleaseChoice:
    """The release a command works on, and one line saying why (None when the user named it with -k)."""

    release: Release
    reason: str | None = None


def choose(
    pins: Pins, kubeflow_version: str | None, context: str | None, minikube_version: Callable[[], Version | None]
) -> ReleaseChoice:
    """The release a command works on and why: `-k` when given; else the newest the minikube of
    `minikube_version()` (None: unreadable) can run; the newest pinned one with --context."""
    if kubeflow_version:
        return ReleaseChoice(pins.get(kubeflow_version))
    if context:
        return ReleaseChoice(
            pins.newest, f"an existing cluster (--context): the newest pinned release, {pins.newest.tag}"
        )
    version = minikube_version()
    chosen = suggest_release(pins, version) or pins.newest
    return ReleaseChoice(chosen, explain_choice(pins, version, chosen))


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
    return _starts(minikube, release) and bool(
        minikube_support.knows_kubernetes(minikube, _default_kubernetes(release))
    )


def first_minikube_running(release: Release) -> Version | None:
    """The first recorded minikube release that starts and supports `release`'s default Kubernetes."""
    for row in minikube_support.KUBERNETES_SUPPORT:
        if _runs(row.since, release):
            return row.since
    return None


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
            f"; upgrade minikube to {first} or later for the newest, {newest.tag} "
            f"(Kubernetes {newest.kubernetes.default})"
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
