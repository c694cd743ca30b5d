"""Built manifests as data: parse kustomize's output, label every object with its component, hash it.

Labels are how later commands (`status`, `down`) find what `up` created, and how `down` can promise never to
touch anything else. The hash of the labelled objects is what makes a re-run skip unchanged components.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
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


def with_port_protocols(objects: Iterable[Obj]) -> list[Obj]:
    """`objects` with `protocol: TCP` on every container port and Service port that names none (copies of those).

    `protocol` is a key of both lists (containers' `ports` keyed containerPort+protocol, a Service's port+protocol),
    and server-side apply refuses an element that omits a key the server publishes no default for: Kubernetes <
    1.20 for container ports, < 1.20.6 / 1.21 for Service ports (`failed to create typed patch object: .spec.ports:
    element 0: associative list with keys has an element that omits key field "protocol"`;
    kubernetes-sigs/structured-merge-diff#130, kubernetes/kubernetes#96480 and #98576). TCP is what every version
    defaults it to on write (kubernetes/kubernetes pkg/apis/core/v1/defaults.go: SetDefaults_Service, and
    SetDefaults_ContainerPort until it became k8s.io/api core/v1 types.go's `+default="TCP"`), so the stored object
    is the same; adding it whatever the server keeps the built objects, and so their hash, independent of the
    cluster they go to.
    """
    result = []
    for obj in objects:
        if _ports_without_protocol(obj):
            obj = json.loads(json.dumps(obj))
            for port in _ports_without_protocol(obj):
                port["protocol"] = "TCP"
        result.append(obj)
    return result


def _ports_without_protocol(obj: Obj) -> list[Obj]:
    """The container ports (of a workload's pod) or Service ports of `obj` that name no protocol."""
    ports: list[Any] = []
    if obj.get("kind") == "Service" and obj.get("apiVersion") == "v1":
        ports = (obj.get("spec") or {}).get("ports") or []
    elif (path := _POD_SPEC_PATHS.get(obj.get("kind", ""))) is not None:
        spec: Any = obj
        for key in path:
            spec = spec.get(key) if isinstance(spec, dict) else None
        containers = [
            container
            for group in ("initContainers", "containers")  # ephemeral containers' ports are no keyed list
            for container in (spec.get(group) or [] if isinstance(spec, dict) else [])
        ]
        ports = [port for c in containers if isinstance(c, dict) for port in c.get("ports") or []]
    return [port for port in ports if isinstance(port, dict) and "protocol" not in port]


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


_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
#: The container lists of a pod spec, each with its own `image`.
_CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")


def _pod_spec(obj: Obj) -> Obj | None:
    """The pod spec of a workload (None for kinds that run no pods, or a malformed one)."""
    path = _POD_SPEC_PATHS.get(obj.get("kind", ""))
    if path is None:
        return None
    spec: Any = obj
    for key in path:
        spec = spec.get(key) if isinstance(spec, dict) else None
    return spec if isinstance(spec, dict) else None


def _containers(spec: Obj) -> Iterator[Obj]:
    for group in _CONTAINER_GROUPS:
        for container in spec.get(group) or []:
            if isinstance(container, dict) and isinstance(container.get("image"), str) and container["image"]:
                yield container


def images(objects: Iterable[Obj]) -> list[str]:
    """Every container image the workloads in `objects` run, once each, in order of appearance."""
    seen: dict[str, None] = {}
    for obj in objects:
        spec = _pod_spec(obj)
        for container in _containers(spec) if spec is not None else ():
            seen.setdefault(container["image"], None)
    return list(seen)


def substitute_images(objects: Iterable[Obj], substitute: Callable[[str], str]) -> list[Obj]:
    """`objects` with every container image of every pod spec replaced by `substitute(image)`.

    This is how a release's `image_substitutions` (images the registries deleted) reach the cluster: the pod specs
    of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, PodTemplates, Jobs and
    CronJobs, in their init, regular and ephemeral containers. Image names held as strings elsewhere (a ConfigMap
    such as the Jupyter web app's spawner config, a controller's env or args naming images it starts later) are data
    the release's own programs read: they stay as built, since no source says what to put there. Objects without a
    change are returned as they are; changed ones are copies (the input is never modified).
    """
    result = []
    for obj in objects:
        spec = _pod_spec(obj)
        if spec is None or all(substitute(c["image"]) == c["image"] for c in _containers(spec)):
            result.append(obj)
            continue
        copy = json.loads(json.dumps(obj))
        for container in _containers(_pod_spec(copy) or {}):
            container["image"] = substitute(container["image"])
        result.append(copy)
    return result
