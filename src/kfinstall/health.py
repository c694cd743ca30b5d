"""What `status` reports, computed from a few cluster-wide lists: pure, so it is fast and testable.

`status` must answer quickly, so it lists workloads, pods and nodes across all namespaces once each and
groups them here, instead of asking kubectl once per component.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from kfinstall.manifest import COMPONENT_LABEL
from kfinstall.readiness import PodProblem, pod_problem, readiness

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
    def hint(self) -> str:
        if self.problems:
            return self.problems[0].hint
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


_MEMORY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def parse_quantity(value: str | int | float | None) -> float:
    """A Kubernetes resource quantity as a number: `500m` -> 0.5, `8Gi` -> 8589934592."""
    if value is None:
        return 0.0
    text = str(value)
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    for suffix in sorted(_MEMORY_UNITS, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * _MEMORY_UNITS[suffix]
    return float(text)


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
                cpu += parse_quantity(requests.get("cpu"))
                memory += parse_quantity(requests.get("memory"))
                pod_gpus += int(parse_quantity(limits.get("nvidia.com/gpu") or requests.get("nvidia.com/gpu")))
            if pod_gpus:
                gpus += pod_gpus
                gpu_pods.append(f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}")
        result.append(
            NodeUsage(
                name,
                parse_quantity(allocatable.get("cpu")),
                parse_quantity(allocatable.get("memory")),
                cpu,
                memory,
                int(parse_quantity(allocatable.get("nvidia.com/gpu"))),
                gpus,
                tuple(gpu_pods),
            )
        )
    return result
