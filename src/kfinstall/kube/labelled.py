"""The objects kfinstall labelled on a cluster, listed across every type, and deleted by exact identity.

An upgrade prunes with these (install/upgrade.py decides what), as `down --keep-cluster` removes with the same
list (commands/down.py): only objects carrying the `kfinstall.dev/component` label `up` put on them, each deleted
by kind, namespace and name, never by kind or namespace as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kfinstall.errors import KfError
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests.objects import COMPONENT_LABEL

Obj = dict[str, Any]

#: Resource types never worth listing: nothing kfinstall applies is one of them, and they can be huge.
_SKIPPED = frozenset({"events", "events.events.k8s.io"})


def resource_types(kubectl: Kubectl) -> list[str]:
    """Every resource type that can be listed and deleted (custom resources included), fully qualified."""
    result = kubectl.run("api-resources", "--verbs=list,delete", "-o", "name", timeout=60)
    if not result.ok:
        raise KfError(f"cannot list the cluster's resource types: {result.output}", "is the cluster running?")
    return [name for name in result.stdout.split() if name not in _SKIPPED]


def labelled_objects(kubectl: Kubectl) -> list[Obj]:
    """Everything carrying kfinstall's component label, in one `kubectl get` across all types and namespaces."""
    result = kubectl.run("get", ",".join(resource_types(kubectl)), "-A", "-l", COMPONENT_LABEL, "-o", "json",
                         timeout=300)  # fmt: skip
    try:
        items = list(json.loads(result.stdout).get("items") or []) if result.stdout.strip() else []
    except ValueError:
        items = None
    if items is None or (not result.ok and not items):
        raise KfError(f"cannot list kfinstall's objects: {result.output}", "is the cluster running?")
    return items


def delete(kubectl: Kubectl, manifests: Sequence[Obj], what: str, timeout: float = 300) -> None:
    """Delete exactly these objects (`{apiVersion, kind, metadata: {name, namespace}}`), waiting until they are
    gone; ones already gone are fine (a resumed upgrade deletes again what an interrupt left)."""
    if not manifests:
        return
    payload = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(manifests)})
    result = kubectl.run(
        "delete", "-f", "-", "--ignore-not-found", "--wait=true", f"--timeout={int(timeout)}s",
        input=payload, timeout=timeout + 30,
    )  # fmt: skip
    if not result.ok:
        raise KfError(f"deleting {what} failed: {result.output}", "run the same `kfinstall up` again: it resumes")


@dataclass(frozen=True)
class Ref:
    """One live object by exact identity, with the component whose label it carries."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    component: str

    @classmethod
    def of(cls, obj: Obj) -> Ref:
        metadata = obj.get("metadata") or {}
        component = (metadata.get("labels") or {}).get(COMPONENT_LABEL, "")
        return cls(str(obj.get("apiVersion", "")), str(obj.get("kind", "")), str(metadata.get("name", "")),
                   metadata.get("namespace") or None, component)  # fmt: skip

    def manifest(self) -> Obj:
        metadata: Obj = {"name": self.name}
        if self.namespace:
            metadata["namespace"] = self.namespace
        return {"apiVersion": self.api_version, "kind": self.kind, "metadata": metadata}

    def __str__(self) -> str:
        group = self.api_version.rpartition("/")[0]
        kind = f"{self.kind.lower()}.{group}" if group else self.kind.lower()
        return f"{kind}/{self.name}" + (f" -n {self.namespace}" if self.namespace else "")
