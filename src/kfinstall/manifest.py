"""Built manifests as data: parse kustomize's output, label every object with its component, hash it.

Labels are how later commands (`status`, `down`) find what `up` created, and how `down` can promise never to
touch anything else. The hash of the labelled objects is what makes a re-run skip unchanged components.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: Label carrying the component id on every object kfinstall applies.
COMPONENT_LABEL = "kfinstall.dev/component"
#: Label carrying the Kubeflow release on every object kfinstall applies.
RELEASE_LABEL = "kfinstall.dev/release"

Obj = dict[str, Any]


def _loader() -> type:
    """A YAML loader that keeps strings as strings.

    PyYAML follows YAML 1.1, where `on`, `yes` and `2021-10-08` become booleans and dates; Kubernetes reads
    YAML 1.2-ish JSON-compatible data, where they stay strings. Dropping those resolvers keeps the round trip
    faithful, and the C loader keeps parsing a 600-object release fast.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class KubeLoader(base):  # type: ignore[misc, valid-type]
        pass

    KubeLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11_ONLY_TAGS]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    KubeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    return KubeLoader


#: YAML 1.1 types that JSON-compatible YAML does not have. `value` is the "value key" type of a lone `=`, which
#: PyYAML resolves but has no constructor for; kustomize prints `=` unquoted (the Prometheus operator's CRDs list
#: it among matcher types), so without dropping it a build would crash the parser.
_YAML11_ONLY_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}


def parse(text: str) -> list[Obj]:
    """The objects of a YAML stream, with empty documents and `List` wrappers flattened away."""
    import yaml

    return list(_flatten(yaml.load_all(text, Loader=_loader())))


def _flatten(docs: Iterable[Any]) -> Iterator[Obj]:
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
            yield from _flatten(doc["items"])
        else:
            yield doc


def labelled(objects: Iterable[Obj], component: str, release: str) -> list[Obj]:
    """Copies of `objects` carrying the component and release labels (nothing else changes)."""
    result = []
    for obj in objects:
        copy = json.loads(json.dumps(obj))
        metadata = copy.setdefault("metadata", {})
        labels = metadata.get("labels") or {}
        metadata["labels"] = {**labels, COMPONENT_LABEL: component, RELEASE_LABEL: release}
        result.append(copy)
    return result


def as_apply_input(objects: list[Obj]) -> str:
    """A stream of JSON documents for `kubectl apply -f -`: unambiguous to parse and far faster to write than YAML.

    Separate documents rather than one `List`: kubectl validates a List against the OpenAPI v2 document only,
    which not every API server still serves, while separate objects use whichever version the server has.
    """
    return "\n---\n".join(json.dumps(obj, separators=(",", ":")) for obj in objects) + "\n"


def content_hash(objects: list[Obj]) -> str:
    """A stable hash of what would be applied: equal hashes mean a re-apply would change nothing."""
    canonical = json.dumps(objects, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ObjectRef:
    """Enough to name an object to the user and to kubectl."""

    api_version: str
    kind: str
    name: str
    namespace: str | None

    def __str__(self) -> str:
        where = f" -n {self.namespace}" if self.namespace else ""
        return f"{self.kind.lower()}/{self.name}{where}"


def ref(obj: Obj) -> ObjectRef:
    metadata = obj.get("metadata") or {}
    return ObjectRef(
        obj.get("apiVersion", ""), obj.get("kind", ""), metadata.get("name", ""), metadata.get("namespace")
    )


_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def images(objects: Iterable[Obj]) -> list[str]:
    """Every container image the workloads in `objects` run, once each, in order of appearance."""
    seen: dict[str, None] = {}
    for obj in objects:
        path = _POD_SPEC_PATHS.get(obj.get("kind", ""))
        if path is None:
            continue
        spec: Any = obj
        for key in path:
            spec = spec.get(key) if isinstance(spec, dict) else None
        if not isinstance(spec, dict):
            continue
        for group in ("initContainers", "containers"):
            for container in spec.get(group) or []:
                image = container.get("image") if isinstance(container, dict) else None
                if isinstance(image, str) and image:
                    seen.setdefault(image, None)
    return list(seen)
