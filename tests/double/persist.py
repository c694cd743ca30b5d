"""The cluster's state across an in-place Kubernetes upgrade: what etcd keeps while the control plane is replaced.

`minikube start --kubernetes-version=NEWER` on an existing profile upgrades the cluster in place: the node
container stays, kubeadm upgrades the control plane, and etcd keeps every object (kubernetes/minikube
pkg/minikube/bootstrapper/kubeadm/kubeadm.go `UpdateCluster`/`restartPrimaryControlPlane` reuse the node's
/var/lib/minikube/etcd). The double keeps its state in memory, so the fake minikube asks it to `save` before it
stops it (`POST /_double/save`) and starts the new version with `serve --restore FILE`, which `load`s it. What a
restarted node does not keep is left out: pods (the kubelet starts them again from their controllers), the node
object (the new kubelet registers itself), events and leases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.double.cluster import Cluster

#: Group/kinds a restarted node does not bring back (module docstring).
NOT_KEPT = frozenset({("", "Pod"), ("", "Node"), ("", "Event"), ("events.k8s.io", "Event"),
                      ("coordination.k8s.io", "Lease")})  # fmt: skip


def save(cluster: Cluster, path: Path) -> int:
    """Write every kept object and the server-side apply configurations to `path`; returns how many objects."""
    with cluster.lock:
        objects = [[gk[0], gk[1], obj] for gk, obj in cluster.iter_all() if gk not in NOT_KEPT]
        applied = [[list(key), configs] for key, configs in cluster.applied.items()]
        data: dict[str, Any] = {"rv": cluster.rv, "objects": objects, "applied": applied}
        text = json.dumps(data)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return len(objects)


def load(cluster: Cluster, path: Path) -> int:
    """Put the objects `save` wrote back into a freshly started cluster (objects it already made at boot stay as
    they are); returns how many were restored."""
    data = json.loads(path.read_text())
    restored = 0
    with cluster.lock:
        cluster.rv = max(cluster.rv, int(data["rv"]))
        for group, kind, obj in data["objects"]:
            metadata = obj.get("metadata") or {}
            if cluster.get((group, kind), metadata.get("namespace", ""), metadata["name"]) is not None:
                continue
            cluster.put((group, kind), obj, "ADDED")
            restored += 1
        for key, configs in data["applied"]:
            cluster.applied.setdefault(tuple(key), {}).update(configs)
    return restored
