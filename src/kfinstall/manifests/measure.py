"""The requests of a plan's components, measured from their builds when the manifests are already on this machine.

`plan` and `check` change nothing and need no network, so they never clone: they measure the cached checkout of
the release's pinned commit (the one `up`, `images list` or `check --images` fetched), building its paths with
the same build cache `up` uses (manifests/build.py), and say so when it is not there yet (None).
"""

from __future__ import annotations

from collections.abc import Sequence

from kfinstall.manifests import build, checkout
from kfinstall.manifests.requests import Requests, requests_of

#: How to get the measured figures when the manifests are not cached yet (said by `plan` and `check`).
FETCH_HINT = "`kfinstall images list` (same options) fetches the manifests; `plan` and `check` then measure them"


def cached_requests(
    tag: str, commit: str, repo_url: str, components: Sequence[tuple[str, Sequence[str]]]
) -> dict[str, Requests] | None:
    """Each component id -> what its built objects request; None when the release's manifests are not cached.

    `components`: (id, paths) in plan order. A failing build raises its KfError, as it would in `up`.
    """
    if not checkout.checkout_dir(tag, commit).is_dir():
        return None
    source = checkout.fetch(tag, commit, repo_url)  # from the cache: verified clean at the pinned commit
    targets = [build.BuildTarget(component, path) for component, paths in components for path in paths]
    built = build.objects_all(source.path, targets, commit=source.commit)
    measured: dict[str, Requests] = {component: Requests() for component, _ in components}
    for target in targets:
        measured[target.component] = measured[target.component] + requests_of(built[target])
    return measured
