"""Does a plan fit a cluster, and if not, which smaller plan does? Pure: measured requests and sizes in, answers out.

The demand is the plan's components' requests measured from their builds (manifests/requests.py). The supply is
what the install's pods may request on the node: a minikube's CPUs and memory less what its kube-system pods
request (`SYSTEM`), and a new minikube may get no more of the host's memory than the host less `HOST_MARGIN_MB`.
When the plan does not fit, `Demand.alternative` names the largest smaller profile that fits, else the fewest
optional components (`--without`, those outside the minimal profile, with whatever depends on them) whose
removal makes it fit, never the profile the user already chose.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kfinstall.manifests.requests import Requests, total
from kfinstall.release.pins import PROFILES, Release
from kfinstall.release.selection import Selection

MI = 2**20
#: What a fresh minikube's kube-system pods request: kubeadm's static pods (kubernetes/kubernetes
#: cmd/kubeadm/app/phases/controlplane/manifests.go: apiserver 250m, controller-manager 200m, scheduler 100m;
#: cmd/kubeadm/app/phases/etcd/local.go: etcd 100m, 100Mi) and CoreDNS (kubeadm's CoreDNS Deployment, 100m,
#: 70Mi): 750m and 170Mi, as the cluster double's fresh node has them (tests/double/controllers/minikube.py).
SYSTEM = Requests(cpu=0.75, memory=170 * MI)
#: The host memory a new minikube should leave to the OS: minikube's own advice (kubernetes/minikube
#: cmd/minikube/cmd/start.go `validateRequestedMemorySize`: "Recommend 1GB to handle OS/VM overhead",
#: `maxAdvised := sysLimit - 1024`, beyond which `minikube start` warns of stability issues).
HOST_MARGIN_MB = 1024
#: What the measured figures leave out (the manifests do not hold it; Istio's injected proxies are counted).
NOT_COUNTED = "not counted: pods made later (notebooks, pipeline runs, InferenceServices), CronJobs"
#: Memory sizes suggested are rounded up to this many MB.
_ROUND_MB = 512
#: At most this many optional components are tried in `--without` combinations (2^12 subsets).
_MAX_CANDIDATES = 12


@dataclass(frozen=True)
class Capacity:
    """What the install's pods may request, and what it is (shown beside the verdict)."""

    cpu: float
    memory: float
    what: str

    @property
    def requests(self) -> Requests:
        return Requests(cpu=self.cpu, memory=self.memory)

    def as_dict(self) -> dict[str, object]:
        return {"what": self.what, "cpu": round(self.cpu, 3), "memory_bytes": int(self.memory)}

    def holds(self, requests: Requests) -> bool:
        return requests.cpu <= self.cpu + 1e-9 and requests.memory <= self.memory

    def short(self, requests: Requests) -> list[str]:
        """`cpu`, `memory`: what `requests` needs more of than there is."""
        pairs = (("cpu", requests.cpu, self.cpu + 1e-9), ("memory", requests.memory, self.memory))
        return [name for name, needed, there in pairs if needed > there]


def minikube_capacity(cpus: int, memory_mb: int, what: str = "minikube") -> Capacity:
    """A minikube node of `cpus` and `memory_mb`, less kube-system's requests."""
    return Capacity(
        cpus - SYSTEM.cpu,
        memory_mb * MI - SYSTEM.memory,
        f"{what} with {cpus} CPUs and {memory_mb} MB, less kube-system's {cpu_text(SYSTEM.cpu)} CPU and "
        f"{memory_text(SYSTEM.memory)}",
    )


def cluster_capacity(nodes: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]],
                     replaced: Collection[str] = ()) -> Capacity:  # fmt: skip
    """An existing cluster's nodes together: their allocatable less what their pods request already (pods that
    finished excepted; so are pods in `replaced`, the namespaces the install's own pods go to: an install there
    replaces them). Nodes that are unschedulable are left out."""
    from kfinstall.kube.health import parse_quantity
    from kfinstall.manifests.requests import pod_requests

    names, cpu, memory = [], 0.0, 0.0
    for node in nodes:
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        names.append((node.get("metadata") or {}).get("name", "?"))
        cpu += parse_quantity(allocatable.get("cpu"))
        memory += parse_quantity(allocatable.get("memory"))
    used = Requests()
    for pod in pods:
        spec, metadata = pod.get("spec") or {}, pod.get("metadata") or {}
        if spec.get("nodeName") not in names or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        if metadata.get("namespace") in replaced:
            continue
        used = used + pod_requests(spec)
    nodes_text = f"node {names[0]}" if len(names) == 1 else f"{len(names)} nodes"
    what = f"the cluster's {nodes_text}: allocatable less the {requests_text(used)} its pods request"
    return Capacity(cpu - used.cpu, memory - used.memory, what)


def usable_host_memory_mb(host_mb: int) -> int:
    """The most of the host's memory a new minikube should get."""
    return max(host_mb - HOST_MARGIN_MB, 0)


def memory_mb_needed(requests: Requests) -> int:
    """The smallest minikube `--memory` (MB, rounded up to 512) whose node holds `requests`."""
    return math.ceil((requests.memory + SYSTEM.memory) / MI / _ROUND_MB) * _ROUND_MB


def cpus_needed(requests: Requests) -> int:
    return max(2, math.ceil(requests.cpu + SYSTEM.cpu - 1e-9))


def cpu_text(cores: float) -> str:
    """0.75 -> `750m`, 2.0 -> `2`, 2.5 -> `2.5`."""
    if cores < 1:
        return f"{round(cores * 1000)}m"
    return f"{cores:.2f}".rstrip("0").rstrip(".")


def memory_text(amount: float) -> str:
    """Bytes as `170 MiB` / `7.5 GiB`."""
    mib = amount / MI
    if mib < 1024:
        return f"{math.ceil(mib)} MiB"
    return f"{mib / 1024:.1f} GiB".replace(".0 GiB", " GiB")


def requests_text(requests: Requests) -> str:
    return f"{cpu_text(requests.cpu)} CPU, {memory_text(requests.memory)}"


def not_measured_text(demand: Demand) -> str:
    """`trainer not measured (its build downloads remote bases)`, or "" when every component was."""
    parts = [f"{c} ({why})" for c, why in demand.not_measured.items()]
    return f"not counted, not measured: {', '.join(parts)}" if parts else ""


@dataclass(frozen=True)
class Demand:
    """The measured requests of a plan's components, and what the smaller plans of the same release ask."""

    profile: str
    #: component id -> its requests, in plan order.
    by_component: Mapping[str, Requests]
    #: component id -> the in-plan components it depends on.
    depends_on: Mapping[str, tuple[str, ...]]
    #: each profile smaller than `profile` -> its components (only those measured).
    smaller_profiles: Mapping[str, tuple[str, ...]]
    #: the minimal profile's components: never suggested for --without.
    core: frozenset[str]
    #: where the figures come from, one short line (`measured from the manifests at v1.10.2 (...)`).
    source: str = ""
    #: plan components without a figure -> why: the total leaves them out, so it is a lower bound.
    not_measured: Mapping[str, str] = field(default_factory=dict)

    @property
    def total(self) -> Requests:
        return total(self.by_component.values())

    def without(self, removed: Sequence[str]) -> Requests:
        return total(r for c, r in self.by_component.items() if c not in removed)

    def alternative(self, capacity: Capacity) -> str | None:
        """The largest smaller profile that fits, else the fewest optional components to leave out (the least
        lost), as the option(s) to give; None when nothing smaller fits either."""
        for profile, ids in reversed(list(self.smaller_profiles.items())):
            if capacity.holds(total(self.by_component[c] for c in ids)):
                return f"--profile {profile}"
        removed = self.fewest_without(capacity)
        return f"--without {','.join(removed)}" if removed else None

    def fewest_without(self, capacity: Capacity) -> list[str] | None:
        candidates = [c for c in self.by_component if c not in self.core][:_MAX_CANDIDATES]
        dependents: dict[str, set[str]] = {c: set() for c in self.by_component}
        for component, needs in self.depends_on.items():
            for need in needs:
                dependents.setdefault(need, set()).add(component)
        for size in range(1, len(candidates) + 1):
            fitting = []
            for subset in itertools.combinations(candidates, size):
                chosen = set(subset)
                if any(not dependents.get(c, set()) <= chosen for c in chosen):
                    continue  # something left in still depends on a removed one: `select` would refuse it
                if capacity.holds(self.without(chosen)):
                    lost = total(self.by_component[c] for c in chosen)
                    fitting.append(((lost.memory, lost.cpu), [c for c in self.by_component if c in chosen]))
            if fitting:
                return min(fitting)[1]
        return None


def demand_for(
    release: Release,
    selection: Selection,
    profile: str,
    measured: Mapping[str, Requests],
    source: str = "",
    not_measured: Mapping[str, str] | None = None,
) -> Demand:
    """The Demand of a plan whose components were measured (`measured`: id -> requests, the plan's ids; those
    `not_measured` are left out of it)."""
    from kfinstall.release.selection import select

    ids = [c.id for c in selection.components]
    smaller: dict[str, tuple[str, ...]] = {}
    for other in PROFILES[: PROFILES.index(profile)] if profile in PROFILES else ():
        other_ids = select(release, other).ids
        if set(other_ids) <= set(measured):
            smaller[other] = tuple(other_ids)
    core = frozenset(select(release, PROFILES[0]).ids)
    return Demand(
        profile,
        {c: measured[c] for c in ids if c in measured},
        {c.id: c.depends_on for c in selection.components},
        smaller,
        core,
        source,
        {c: why for c, why in (not_measured or {}).items() if c in ids},
    )
