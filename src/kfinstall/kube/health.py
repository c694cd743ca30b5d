"""What `status` reports, computed from a few cluster-wide lists: pure, so it is fast and testable.

`status` must answer quickly, so it lists workloads, pods and nodes across all namespaces once each and
groups them here, instead of asking kubectl once per component.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import ROUND_UP, Context, Decimal
from typing import Any

from kfinstall.kube.readiness import PodProblem, pod_problem, readiness
from kfinstall.manifests.objects import COMPONENT_LABEL

Obj = dict[str, Any]

#: Pod problems that will not go away by waiting.
FAILING_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "Pending", "CreateContainerConfigError", "Failed"}
)
_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class ComponentHealth:
    id: str
    state: str  # ready | progressing | failing | not installed
    ready: int
    total: int
    problems: tuple[PodProblem, ...] = ()

    @property
    def hints(self) -> tuple[str, ...]:
        """Every problem's hint, each once, in the problems' order (one pod's is not every pod's fix)."""
        return tuple(dict.fromkeys(problem.hint for problem in self.problems if problem.hint))

    @property
    def hint(self) -> str:
        if self.problems:
            return "; ".join(self.hints)
        if self.state == "not installed":
            return "run `kfinstall up` to install it"
        if self.state == "progressing":
            return "still starting: wait, or `kfinstall status --watch`"
        return ""


def _owned_pods(workload: Obj, pods_by_namespace: dict[str, list[Obj]]) -> list[Obj]:
    """The pods a workload selects (same namespace, labels include its matchLabels)."""
    namespace = (workload.get("metadata") or {}).get("namespace") or "default"
    match = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not match:
        return []
    return [
        pod
        for pod in pods_by_namespace.get(namespace, [])
        if match.items() <= ((pod.get("metadata") or {}).get("labels") or {}).items()
    ]


def component_health(
    component_ids: list[str],
    workloads: list[Obj],
    pods: list[Obj],
    events: list[Obj] | None = None,
    applied: Collection[str] = (),
) -> list[ComponentHealth]:
    """Health of each component, from every labelled workload and every pod in the cluster.

    A component in `applied` that runs no workloads (RBAC roles, a namespace, Istio resources) is ready once
    applied: there is nothing to wait for. Without workloads and not applied it is "not installed".
    """
    pods_by_namespace: dict[str, list[Obj]] = {}
    for pod in pods:
        pods_by_namespace.setdefault((pod.get("metadata") or {}).get("namespace") or "default", []).append(pod)
    by_component: dict[str, list[Obj]] = {}
    for workload in workloads:
        if workload.get("kind") not in _WORKLOAD_KINDS:
            continue
        component = ((workload.get("metadata") or {}).get("labels") or {}).get(COMPONENT_LABEL)
        if component:
            by_component.setdefault(component, []).append(workload)
    result = []
    for component in component_ids:
        mine = by_component.get(component, [])
        if not mine:
            result.append(ComponentHealth(component, "ready" if component in applied else "not installed", 0, 0))
            continue
        states = [readiness(workload) for workload in mine]
        ready = sum(state.ready for state in states)
        problems: list[PodProblem] = []
        for workload, state in zip(mine, states, strict=True):
            if state.ready:
                continue
            for pod in _owned_pods(workload, pods_by_namespace):
                problem = pod_problem(pod, events)
                if problem is not None:
                    problems.append(problem)
        if ready == len(mine):
            state_name = "ready"
        elif any(problem.reason in FAILING_REASONS for problem in problems):
            state_name = "failing"
        else:
            state_name = "progressing"
        result.append(ComponentHealth(component, state_name, ready, len(mine), tuple(problems)))
    return result


#: apimachinery's `resource.Quantity` grammar (kubernetes/apimachinery pkg/api/resource/quantity.go, the BNF of
#: `Quantity`'s doc comment; its suffixes in suffix.go `newSuffixer`, which adds `n` and `u` to the BNF's list):
#:   <quantity> ::= <signedNumber><suffix>, <number> ::= <digits> | <digits>.<digits> | <digits>. | .<digits>,
#:   <suffix> ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G | T | P | E | (e|E)<signed integer>.
#: No whitespace, no `K`, no `mi`: the API server refuses those, so they never reach `status`.
_QUANTITY = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei)|(n|u|m|k|M|G|T|P|E)?)")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
#: `ParseQuantity` (quantity.go) rounds a non-zero value up to a whole number of nanos, and caps a binary-suffixed
#: one at 2^63-1 ("The max is just a simple cap", for BinarySI only: 12E stays 12E).
_MAX = Decimal(2**63 - 1)
_NANO = Decimal("1e-9")
_EXACT = Context(prec=40)


def parse_quantity(value: str | int | float | None) -> float:
    """A Kubernetes resource quantity as a number: `500m` -> 0.5, `8Gi` -> 8589934592, `500u` -> 0.0005.

    Raises ValueError for a string outside apimachinery's grammar (e.g. `1K`, `1 `, `0.1mi`).
    """
    if value is None:
        return 0.0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.fullmatch(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    sign, number, exponent, binary, decimal = match.groups()
    amount = Decimal(number)
    if exponent:
        amount = amount.scaleb(int(exponent[1:]))
    elif binary:
        amount *= 2 ** _BINARY[binary]
    elif decimal:
        amount = amount.scaleb(_DECIMAL[decimal])
    if binary and amount >= _MAX:
        amount = _MAX
    elif amount.adjusted() < 30:  # beyond, nothing rounds (and the context's precision would not hold it)
        amount = amount.quantize(_NANO, rounding=ROUND_UP, context=_EXACT)
    return float(-amount if sign == "-" else amount)


def _quantity_or_zero(value: str | int | float | None) -> float:
    """`status` must never fail on a number it only displays: an unparsable one (a non-conforming server) counts 0."""
    try:
        return parse_quantity(value)
    except ValueError:
        return 0.0


@dataclass(frozen=True)
class NodeUsage:
    name: str
    cpu_capacity: float
    memory_capacity: float
    cpu_requested: float
    memory_requested: float
    gpus_allocatable: int
    gpus_in_use: int
    gpu_pods: tuple[str, ...] = field(default=())


def node_usage(nodes: list[Obj], pods: list[Obj]) -> list[NodeUsage]:
    """Capacity and what running pods request, per node, with the pods that hold GPUs."""
    result = []
    for node in nodes:
        name = node["metadata"]["name"]
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        cpu = memory = 0.0
        gpus = 0
        gpu_pods = []
        for pod in pods:
            spec = pod.get("spec") or {}
            if spec.get("nodeName") != name or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            pod_gpus = 0
            for container in spec.get("containers") or []:
                requests = (container.get("resources") or {}).get("requests") or {}
                limits = (container.get("resources") or {}).get("limits") or {}
                cpu += _quantity_or_zero(requests.get("cpu"))
                memory += _quantity_or_zero(requests.get("memory"))
                pod_gpus += int(_quantity_or_zero(limits.get("nvidia.com/gpu") or requests.get("nvidia.com/gpu")))
            if pod_gpus:
                gpus += pod_gpus
                gpu_pods.append(f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}")
        result.append(
            NodeUsage(
                name,
                _quantity_or_zero(allocatable.get("cpu")),
                _quantity_or_zero(allocatable.get("memory")),
                cpu,
                memory,
                int(_quantity_or_zero(allocatable.get("nvidia.com/gpu"))),
                gpus,
                tuple(gpu_pods),
            )
        )
    return result
