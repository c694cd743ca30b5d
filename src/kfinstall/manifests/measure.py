"""The requests of a plan's components: measured from the cached manifests, else the figures shipped with kfinstall.

`plan` and `check` change nothing and need no network, so they never clone. When the release's pinned commit is
checked out in the cache (by `up`, `images list` or `check --images`) they measure it, building its paths with
the same build cache `up` uses (manifests/build.py), with the proxy the plan's own Istio injects into each pod of
an injected namespace (manifests/sidecars.py). Otherwise they read `manifests_requests.yaml`, the same
measurement made by tools/measure_requests.py from the pinned commits and shipped in the wheel (kept equal to
the real manifests by tests/test_shipped_requests.py): its figures are used only for a release pinned at the
commit they were measured at, so a fork's `--pins` at another commit gets none. Without either: None.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfinstall.errors import KfError
from kfinstall.manifests.requests import Requests
from kfinstall.manifests.sidecars import Injection

#: How to get the measured figures when the manifests are not cached yet (said by `plan` and `check`).
FETCH_HINT = "`kfinstall images list` (same options) fetches the manifests; `plan` and `check` then measure them"
SHIPPED_FILENAME = "manifests_requests.yaml"


@dataclass(frozen=True)
class Proxies:
    """Istio's injected proxies counted in the figures: in how many pods, and what one asks for by default."""

    pods: int
    each: Requests

    def as_dict(self) -> dict[str, Any]:
        return {"pods": self.pods, "each": self.each.as_dict()}


@dataclass(frozen=True)
class Measured:
    """Each component's requests, where they come from (one short line), and the components left unmeasured."""

    by_component: dict[str, Requests]
    source: str
    #: component id -> why it has no figure (the shipped figures lack a path of it, e.g. one that needs the network).
    not_measured: dict[str, str] = field(default_factory=dict)
    #: The proxies Istio's injector adds, included in `by_component` (None: the build has no injector).
    proxies: Proxies | None = None


def measured_requests(
    tag: str, commit: str, repo_url: str, components: Sequence[tuple[str, Sequence[str]]]
) -> Measured | None:
    """The cached checkout measured when there is one, else the shipped figures of `commit`; None: neither.

    `components`: (id, paths) in plan order. A build of the cached checkout that fails (offline, a remote base)
    falls back to the shipped figures of the same commit; without them its KfError is raised, as in `up`.
    """
    try:
        cached = cached_requests(tag, commit, repo_url, components)
    except KfError:
        fallback = shipped_requests(tag, commit, components)
        if fallback is None:
            raise
        return fallback
    if cached is not None:
        return cached
    return shipped_requests(tag, commit, components)


def cached_requests(
    tag: str, commit: str, repo_url: str, components: Sequence[tuple[str, Sequence[str]]]
) -> Measured | None:
    """What each component's built objects request, with the proxies the plan's own Istio injects into them;
    None when the release's manifests are not cached.

    `components`: (id, paths) in plan order. A failing build raises its KfError, as it would in `up`.
    """
    from kfinstall.manifests import build, checkout
    from kfinstall.manifests.requests import injected_pods, requests_of
    from kfinstall.manifests.sidecars import injection_of

    if not checkout.checkout_dir(tag, commit).is_dir():
        return None
    source = checkout.fetch(tag, commit, repo_url)  # from the cache: verified clean at the pinned commit
    targets = [build.BuildTarget(component, path) for component, paths in components for path in paths]
    built = build.objects_all(source.path, targets, commit=source.commit)
    injection = injection_of(obj for target in targets for obj in built[target])  # the namespaces and the injector
    measured: dict[str, Requests] = {component: Requests() for component, _ in components}
    for target in targets:
        measured[target.component] = measured[target.component] + requests_of(built[target], injection)
    pods = sum(injected_pods(obj, injection) for target in targets for obj in built[target])
    where = f"measured from the manifests at {tag} (the checkout in the cache)"
    return Measured(measured, where, proxies=proxies_of(injection, pods))


def proxies_of(injection: Injection, pods: int) -> Proxies | None:
    """The proxies counted, with what one asks for when its pod does not set its own (None: no injector)."""
    from kfinstall.manifests.requests import pod_requests

    if injection.injector is None:
        return None
    return Proxies(pods, pod_requests({"containers": [injection.injector.proxy({})]}))


def shipped_requests(tag: str, commit: str, components: Sequence[tuple[str, Sequence[str]]]) -> Measured | None:
    """The shipped figures of the release `tag` pinned at `commit`, summed per component; None: none for it.

    A component any of whose paths has no figure is left out, under `not_measured` with the file's reason."""
    release = shipped_figures().get((tag, commit))
    if release is None:
        return None
    paths: Mapping[str, Mapping[str, Any]] = release.get("paths") or {}
    failed: Mapping[str, str] = release.get("not_measured") or {}
    by_component: dict[str, Requests] = {}
    not_measured: dict[str, str] = {}
    pods = 0
    for component, component_paths in components:
        missing = [path for path in component_paths if path not in paths]
        if missing:
            reason = failed.get(missing[0], "not in the figures shipped with kfinstall")
            not_measured[component] = reason.split(":")[0].replace(" (needs_network)", "")
            continue
        by_component[component] = Requests()
        for path in component_paths:
            figure = paths[path]
            by_component[component] = by_component[component] + Requests(
                float(figure["cpu"]), float(figure["memory_bytes"]), float(figure["storage_bytes"])
            )
            pods += int(figure.get("istio_proxies", 0))
    proxy = release.get("istio_proxy")
    proxies = Proxies(pods, Requests(float(proxy["cpu"]), float(proxy["memory_bytes"]))) if proxy else None
    where = f"measured from the manifests at {tag} (shipped with kfinstall)"
    return Measured(by_component, where, not_measured, proxies)


def shipped_requests_path() -> Path:
    """The figures inside the installed wheel, else the repository root's (editable install, checkout)."""
    from kfinstall.release.shipped import shipped_file

    return shipped_file(SHIPPED_FILENAME)


@functools.lru_cache(maxsize=1)
def shipped_figures() -> dict[tuple[str, str], dict[str, Any]]:
    """(tag, commit) -> that release's entry of the shipped file; empty when the file is missing or unreadable
    (then nothing is measured without a checkout: the pins' sizes stand, as before the file existed)."""
    import yaml

    try:
        text = shipped_requests_path().read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return {(str(entry["tag"]), str(entry["commit"])): entry for entry in data["releases"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return {}
