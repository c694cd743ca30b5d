"""What a component's built objects ask the scheduler for: CPU and memory of their pods, storage of their volumes.

Pure (objects in, numbers out), so `plan` and `check` judge an install by the manifests themselves rather than
by a figure someone estimated. A pod counts as the scheduler counts it: kubernetes/kubernetes
`staging/src/k8s.io/component-helpers/resource/helpers.go` `PodRequests` / `aggregateContainerResourcesByFn`:
the sum of the containers (and of restartable, i.e. sidecar, init containers), or the largest init container
(plus the sidecars started before it) when that is more, then pod-level `spec.resources.requests` (cpu, memory)
in their place when set, then `spec.overhead` added. A container with limits but no requests asks for its limits
(the API server's defaulting: kubernetes/kubernetes `pkg/apis/core/v1/defaults.go` `SetDefaults_Pod`, "if a
container has limits but no requests, default requests to limits"), so the built objects are read that way too.

How many pods: Deployments, ReplicaSets, ReplicationControllers and StatefulSets `spec.replicas` (1 when unset),
DaemonSets once (one minikube node), Jobs `spec.parallelism` (1 when unset; at most `spec.completions`), bare
Pods once. CronJobs do not run at install time and are not counted; neither are the pods other objects make
later (a Notebook, an InferenceService). Istio's injected `istio-proxy` is counted where the build's own injector
would add it (manifests/sidecars.py: the namespaces and the injector configuration are in the same build), when
an `Injection` is given. Storage: each PersistentVolumeClaim's `spec.resources.requests.storage`, and each StatefulSet's
`volumeClaimTemplates` once per replica.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfinstall.kube.health import parse_quantity
from kfinstall.manifests.sidecars import NO_INJECTION, Injection

Obj = dict[str, Any]

#: Kinds whose pods run `spec.replicas` times (the workload controllers of kubernetes/kubernetes pkg/controller).
_REPLICATED = {"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"}
_TEMPLATED = {*_REPLICATED, "DaemonSet", "Job"}


@dataclass(frozen=True)
class Requests:
    """CPU in cores, memory and storage in bytes."""

    cpu: float = 0.0
    memory: float = 0.0
    storage: float = 0.0

    def __add__(self, other: Requests) -> Requests:
        return Requests(self.cpu + other.cpu, self.memory + other.memory, self.storage + other.storage)

    def __sub__(self, other: Requests) -> Requests:
        return Requests(self.cpu - other.cpu, self.memory - other.memory, self.storage - other.storage)

    def times(self, count: int) -> Requests:
        return Requests(self.cpu * count, self.memory * count, self.storage * count)

    def as_dict(self) -> dict[str, float]:
        return {"cpu": round(self.cpu, 3), "memory_bytes": int(self.memory), "storage_bytes": int(self.storage)}


def total(parts: Iterable[Requests]) -> Requests:
    result = Requests()
    for part in parts:
        result = result + part
    return result


def _container(container: Obj) -> tuple[float, float]:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    cpu = requests.get("cpu", limits.get("cpu"))
    memory = requests.get("memory", limits.get("memory"))
    return parse_quantity(cpu), parse_quantity(memory)


def pod_requests(spec: Mapping[str, Any]) -> Requests:
    """One pod's CPU and memory as the scheduler counts them (PodRequests, see the module docstring)."""
    cpu = memory = 0.0
    for container in spec.get("containers") or []:
        c, m = _container(container)
        cpu, memory = cpu + c, memory + m
    sidecar_cpu = sidecar_memory = init_cpu = init_memory = 0.0
    for container in spec.get("initContainers") or []:
        c, m = _container(container)
        if container.get("restartPolicy") == "Always":  # a sidecar: runs beside the containers
            cpu, memory = cpu + c, memory + m
            sidecar_cpu, sidecar_memory = sidecar_cpu + c, sidecar_memory + m
            c, m = sidecar_cpu, sidecar_memory
        else:
            c, m = c + sidecar_cpu, m + sidecar_memory
        init_cpu, init_memory = max(init_cpu, c), max(init_memory, m)
    cpu, memory = max(cpu, init_cpu), max(memory, init_memory)
    pod_level = (spec.get("resources") or {}).get("requests") or {}
    if "cpu" in pod_level:
        cpu = parse_quantity(pod_level["cpu"])
    if "memory" in pod_level:
        memory = parse_quantity(pod_level["memory"])
    overhead = spec.get("overhead") or {}
    return Requests(cpu + parse_quantity(overhead.get("cpu")), memory + parse_quantity(overhead.get("memory")))


def pod_count(obj: Obj) -> int:
    """How many pods of its template an object runs on a one-node cluster (0: none at install time)."""
    kind, spec = obj.get("kind", ""), obj.get("spec") or {}
    if kind in _REPLICATED:
        replicas = spec.get("replicas")
        return 1 if replicas is None else int(replicas)
    if kind == "DaemonSet":
        return 1
    if kind == "Job":
        parallelism = spec.get("parallelism")
        count = 1 if parallelism is None else int(parallelism)
        completions = spec.get("completions")
        return count if completions is None else min(count, int(completions))
    return 1 if kind == "Pod" else 0


def object_requests(obj: Obj, injection: Injection = NO_INJECTION) -> Requests:
    """What one built object asks for: its pods (× their count), with the proxy Istio injects, and its volumes."""
    kind, spec = obj.get("kind", ""), obj.get("spec") or {}
    if kind == "PersistentVolumeClaim":
        return Requests(storage=parse_quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage")))
    if kind == "Pod":
        return pod_requests(_injected(injection, obj, obj.get("metadata") or {}, spec))
    if kind not in _TEMPLATED:
        return Requests()
    count = pod_count(obj)
    template = spec.get("template") or {}
    pod = _injected(injection, obj, template.get("metadata") or {}, template.get("spec") or {})
    result = pod_requests(pod).times(count)
    if kind == "StatefulSet":
        for claim in spec.get("volumeClaimTemplates") or []:
            storage = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
            result = result + Requests(storage=parse_quantity(storage) * count)
    return result


def injected_pods(obj: Obj, injection: Injection) -> int:
    """How many of the object's pods get Istio's proxy (0 for objects that make no pods)."""
    kind, spec = obj.get("kind", ""), obj.get("spec") or {}
    if kind == "Pod":
        meta, pod_spec, count = obj.get("metadata") or {}, spec, 1
    elif kind in _TEMPLATED:
        template = spec.get("template") or {}
        meta, pod_spec, count = template.get("metadata") or {}, template.get("spec") or {}, pod_count(obj)
    else:
        return 0
    return count if injection.proxy_for(_namespace(obj), meta, pod_spec) is not None else 0


def _namespace(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def _injected(injection: Injection, obj: Obj, meta: Mapping[str, Any], spec: Mapping[str, Any]) -> Mapping[str, Any]:
    proxy = injection.proxy_for(_namespace(obj), meta, dict(spec))
    if proxy is None:
        return spec
    return {**spec, "containers": [*(spec.get("containers") or []), proxy]}


def requests_of(objects: Iterable[Obj], injection: Injection = NO_INJECTION) -> Requests:
    """The sum over a component's built objects (with Istio's proxies where `injection` adds them)."""
    return total(object_requests(obj, injection) for obj in objects)
