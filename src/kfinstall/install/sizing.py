"""A plan's size: its components' measured requests, what they are judged against, the pins' minikube sizing.

`plan` shows it (a table and `--json`) and refuses a plan that an existing minikube profile cannot hold, naming
the smaller profile or the `--without` that fits (checks/fit.py). The requests are measured from the cached
manifests, else read from the figures shipped with kfinstall for the pinned commit (manifests/measure.py: a plan
changes nothing, clones nothing); without either the plan says so and shows the pins' per-profile figures, which
stay minikube's default size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kfinstall.checks import fit
from kfinstall.checks.fit import Capacity, Demand
from kfinstall.errors import KfError
from kfinstall.release.pins import Resources

if TYPE_CHECKING:
    from kfinstall.install.up import InstallPlan
    from kfinstall.manifests.measure import Proxies
    from kfinstall.minikube.cluster import ProfileState


@dataclass(frozen=True)
class Sizing:
    """`demand` None: not measured (`why`). `capacity` None: not judged (`--context`)."""

    pinned: Resources
    demand: Demand | None
    capacity: Capacity | None
    existing: bool = False
    why: str | None = None
    #: False with --context: a cluster kfinstall did not make (the hints differ).
    minikube: bool = True
    #: Istio's injected proxies, counted in `demand` (None: not measured, or the build has no injector).
    proxies: Proxies | None = None

    @property
    def fits(self) -> bool | None:
        if self.demand is None or self.capacity is None:
            return None
        return self.capacity.holds(self.demand.total)

    @property
    def alternative(self) -> str | None:
        if self.demand is None or self.capacity is None or self.fits:
            return None
        return self.demand.alternative(self.capacity)

    def as_dict(self) -> dict[str, Any]:
        demand = self.demand
        return {
            "measured": demand is not None,
            "measured_from": demand.source if demand else None,
            "not_measured_because": self.why,
            "components_not_measured": dict(demand.not_measured) if demand else None,
            "components": {c: r.as_dict() for c, r in demand.by_component.items()} if demand else None,
            "total": demand.total.as_dict() if demand else None,
            "judged_against": None if self.capacity is None else self.capacity.as_dict(),
            "fits": self.fits,
            "alternative": self.alternative,
            "pinned": {"cpus": self.pinned.cpus, "memory_mb": self.pinned.memory_mb, "source": self.pinned.source},
            "istio_proxies": None if self.proxies is None else self.proxies.as_dict(),
        }


def plan_sizing(install: InstallPlan, state: ProfileState | None) -> Sizing:
    """Measure the plan (from the cache) and say what it is judged against: the existing minikube profile
    (`state`, its CPUs and memory as created), else the new minikube the plan starts; nothing with --context."""
    from kfinstall.manifests.measure import FETCH_HINT, measured_requests

    release = install.release
    pinned = release.resources_for(install.profile)
    spec = install.cluster
    capacity = None
    existing = False
    if spec is not None:
        if state is not None and state.cpus and state.memory_mb:
            capacity = fit.minikube_capacity(state.cpus, state.memory_mb, f"minikube profile {spec.profile!r}")
            existing = True
        else:
            capacity = fit.minikube_capacity(spec.cpus or pinned.cpus, spec.memory_mb or pinned.memory_mb,
                                             "a new minikube")  # fmt: skip
    components = [(c.id, c.paths) for c in install.selection.components]
    try:
        measured = measured_requests(release.tag, release.commit, install.repo_url, components)
    except KfError as error:
        first = error.message.splitlines()[0] if error.message else "?"  # `up` shows it all; here one line
        return Sizing(pinned, None, capacity, existing, f"a build failed: {first[:160]}")
    if measured is None:
        why = (
            f"the manifests of {release.tag} are not on this machine yet and kfinstall ships no figures for its "
            f"commit {release.commit[:12]}: {FETCH_HINT}"
        )
        return Sizing(pinned, None, capacity, existing, why)
    demand = fit.demand_for(release, install.selection, install.profile, measured.by_component, measured.source,
                            measured.not_measured)  # fmt: skip
    if spec is None:  # --context: the cluster's nodes, less what their pods request (those the install replaces not)
        capacity = _context_capacity(install)
        return Sizing(pinned, demand, capacity, capacity is not None, minikube=False, proxies=measured.proxies)
    return Sizing(pinned, demand, capacity, existing, proxies=measured.proxies)


def _context_capacity(install: InstallPlan) -> Capacity | None:
    """The free room of the `--context` cluster (None: its nodes or pods cannot be read: not judged)."""
    from kfinstall.kube.kubectl import Kubectl

    kubectl = Kubectl(install.context)
    try:
        nodes, pods = kubectl.items("nodes", timeout=30), kubectl.items("pods", "-A", timeout=30)
    except KfError:
        return None
    replaced = {namespace for component in install.selection.components for namespace in component.namespaces}
    return fit.cluster_capacity(nodes, pods, replaced)


def refuse_too_small(sizing: Sizing) -> None:
    """An existing profile whose node cannot hold what the plan's pods request: exit 1 now, with what fits."""
    if not sizing.existing or sizing.fits is not False:
        return
    assert sizing.demand is not None and sizing.capacity is not None
    short = " and ".join(sizing.capacity.short(sizing.demand.total))
    alternative = sizing.alternative
    bigger = "a bigger cluster beside it with -p NAME" if sizing.minikube else "room freed on it, or another node"
    hint = f"{alternative} fits it; or {bigger}" if alternative else f"{bigger} (nothing smaller of this release fits)"
    raise KfError(
        f"{sizing.capacity.what} cannot hold this plan: its pods request {fit.requests_text(sizing.demand.total)}, "
        f"more {short} than the node has for them ({fit.requests_text(sizing.capacity.requests)})",
        hint,
    )
