"""`kfinstall status`: is my Kubeflow OK, and if not, why? Three kubectl calls, whatever the size of the install.

The facts come from one list of labelled workloads, one list of pods and nodes across all namespaces, and
the install record; `health` turns them into per-component states with reasons. The calls run concurrently.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from kfinstall import cluster, health, state
from kfinstall.errors import KfError
from kfinstall.kube import Kubectl
from kfinstall.manifest import COMPONENT_LABEL

#: Exit codes: all ready; something not ready; nothing installed or no cluster.
EXIT_READY, EXIT_NOT_READY, EXIT_NOTHING = 0, 1, 2


@dataclass(frozen=True)
class StatusReport:
    cluster_state: str  # running | stopped | paused | missing | unreachable | external
    context: str
    kubernetes_version: str | None = None
    record: state.InstallRecord | None = None
    components: tuple[health.ComponentHealth, ...] = ()
    nodes: tuple[health.NodeUsage, ...] = ()
    message: str = ""

    @property
    def exit_code(self) -> int:
        if self.record is None or self.cluster_state not in ("running", "external"):
            return EXIT_NOTHING
        return EXIT_READY if all(c.state == "ready" for c in self.components) else EXIT_NOT_READY

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": {"state": self.cluster_state, "context": self.context, "kubernetes": self.kubernetes_version},
            "install": None if self.record is None else asdict(self.record),
            "components": [
                {
                    "id": c.id,
                    "state": c.state,
                    "ready": c.ready,
                    "total": c.total,
                    "problems": [asdict(problem) for problem in c.problems],
                    "hint": c.hint,
                }
                for c in self.components
            ],
            "nodes": [asdict(node) for node in self.nodes],
            "ok": self.exit_code == EXIT_READY,
            "message": self.message,
        }


@dataclass(frozen=True)
class StatusQuery:
    context: str | None
    minikube_profile: str | None = field(default=None)


def collect(query: StatusQuery) -> StatusReport:
    """Gather everything `status` shows."""
    context = query.context or query.minikube_profile or "kubeflow"
    if query.context is None and query.minikube_profile is not None:
        profile = cluster.profile_state(query.minikube_profile)
        if profile.status != "running":
            return StatusReport(
                profile.status, context, profile.kubernetes_version, message=_cluster_message(profile.status, context)
            )
        cluster_state = "running"
    else:
        cluster_state = "external"
    kubectl = Kubectl(context)
    with ThreadPoolExecutor(max_workers=3) as pool:
        workloads_call = pool.submit(
            kubectl.items, "deployments.apps,statefulsets.apps,daemonsets.apps", "-A", "-l", COMPONENT_LABEL
        )
        pods_nodes_call = pool.submit(kubectl.items, "nodes,pods", "-A")
        record_call = pool.submit(state.read, kubectl)
        version_call = pool.submit(kubectl.run, "version", "-o", "json")
        try:
            workloads = workloads_call.result()
            pods_and_nodes = pods_nodes_call.result()
            record = record_call.result()
        except KfError as error:
            return StatusReport("unreachable", context, message=error.message)
        version = version_call.result()
    nodes = [item for item in pods_and_nodes if item.get("kind") == "Node"]
    pods = [item for item in pods_and_nodes if item.get("kind") == "Pod"]
    server_version = _server_version(version.stdout) if version.ok else None
    if record is None:
        return StatusReport(
            cluster_state,
            context,
            server_version,
            nodes=tuple(health.node_usage(nodes, pods)),
            message="Kubeflow is not installed on this cluster: run `kfinstall up`",
        )
    ids = list(record.components)
    components = health.component_health(ids, workloads, pods)
    return StatusReport(
        cluster_state, context, server_version, record, tuple(components), tuple(health.node_usage(nodes, pods))
    )


def _server_version(text: str) -> str | None:
    import json

    try:
        return (json.loads(text).get("serverVersion") or {}).get("gitVersion")
    except ValueError:
        return None


def _cluster_message(status: str, profile: str) -> str:
    if status == "missing":
        return f"there is no minikube profile {profile!r}: run `kfinstall up`"
    return f"minikube profile {profile!r} is {status}: start it with `kfinstall up` (it resumes)"
