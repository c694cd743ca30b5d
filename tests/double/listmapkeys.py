"""Server-side apply's associative-list keys: an applied element that omits a key field the served version has no
default for is refused, as kube-apiserver's structured-merge-diff refuses it.

Server-side apply turns the applied object into a typed value before anything else (apiserver
pkg/endpoints/handlers/fieldmanager/structuredmerge.go: `failed to create typed patch object: %v`). A list with
`x-kubernetes-list-type: map` identifies its elements by their `x-kubernetes-list-map-keys`; an element without one
of them is an error unless the schema gives that field a default (structured-merge-diff typed/helpers.go,
`keyedAssociativeListItemToPathElement`; defaults were only consulted from v4.0.2, kubernetes-sigs/
structured-merge-diff#177). The error is not a Status, so the apiserver answers 500 with no reason
(apiserver pkg/endpoints/handlers/responsewriters/status.go `ErrorToAPIStatus`), and kubectl prints
`Error from server: failed to create typed patch object: ...` (kubernetes-sigs/structured-merge-diff#130 and #183,
kubernetes/kubernetes#92332, cert-manager/cert-manager#4020).

The list-map keys of the built-in kinds that are not required fields (kubernetes/api core/v1/types.go
`+listMapKey`, the same at kubernetes-1.19.3 through 1.22): `protocol` of a container's `ports` (keys
containerPort, protocol) and of a Service's `spec.ports` (keys port, protocol). Ephemeral containers' ports carry no
list-map keys (EphemeralContainerCommon.Ports), and the other keys (`name`, topologySpreadConstraints' topologyKey
and whenUnsatisfiable, conditions' `type`) are required, so a valid object never omits them. The defaults came:

- ContainerPort.protocol `+default="TCP"` in Kubernetes v1.20.0 (kubernetes/kubernetes#96480 "Add defaults
  openapi", commit d3e641e8 "Add default for protocol and test that it works"; v1.20.0 ships structured-merge-diff
  v4.0.2, which reads it);
- ServicePort.protocol `+default="TCP"` in v1.21.0 (kubernetes/kubernetes#98576 "Declare TCP default for service
  port protocol"), cherry-picked into v1.20.6 (kubernetes/api: the tag kubernetes-1.20.6 is the first 1.20 with it);
  the release-1.19 cherry-pick dropped that commit (kubernetes/kubernetes#100713), so no 1.19 has it.

Before v4.0.2 (Kubernetes <= 1.19) the message has no "(and doesn't have default value)" suffix
(structured-merge-diff v4.0.1 typed/helpers.go; the 1.16-1.19 reports in #130 and #92332 show it without).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.double import errors

Obj = dict[str, Any]

#: Where each built-in kind keeps its pod spec (a Pod's own spec, a template's, a CronJob's job template's).
POD_SPEC_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("spec",),
    ("", "PodTemplate"): ("template", "spec"),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
#: Containers whose `ports` is a list-map keyed (containerPort, protocol); ephemeralContainers' is not keyed.
CONTAINER_LISTS = ("initContainers", "containers")


def _version(k8s_version: str) -> tuple[int, int, int]:
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", k8s_version)
    if not m:
        raise ValueError(f"bad Kubernetes version {k8s_version!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def container_port_protocol_defaulted(k8s_version: str) -> bool:
    """Whether server-side apply knows ContainerPort.protocol's default (kubernetes/kubernetes#96480, v1.20.0)."""
    return _version(k8s_version) >= (1, 20, 0)


def service_port_protocol_defaulted(k8s_version: str) -> bool:
    """Whether server-side apply knows ServicePort.protocol's default (#98576: v1.21.0, and v1.20.6 on 1.20)."""
    version = _version(k8s_version)
    return version >= (1, 21, 0) or (version[:2] == (1, 20) and version >= (1, 20, 6))


def _omission(ports: Any, keys: tuple[str, ...]) -> tuple[int, str] | None:
    """(index, key) of the first element of a keyed `ports` list omitting a key: SMD stops at the first one."""
    if not isinstance(ports, list):
        return None
    for index, port in enumerate(ports):
        if not isinstance(port, dict):
            return None  # another error of its own, not simulated
        for key in keys:  # the list's key order (containerPort before protocol; port before protocol)
            if key not in port:
                return index, key
    return None


def _message(path: str, index: int, key: str, suffix: bool) -> str:
    text = f"{path}: element {index}: associative list with keys has an element that omits key field {json.dumps(key)}"
    return text + (" (and doesn't have default value)" if suffix else "")


def undefaulted_key_errors(group: str, kind: str, obj: Obj, k8s_version: str) -> list[str]:
    """Each `PATH: element N: ...` error server-side apply of `obj` raises on `k8s_version` (document order).

    PATH is structured-merge-diff's: `.field` for a field, `[name="x"]` for a keyed element (fieldpath/element.go
    `PathElement.String`, value.ToString quoting strings with Go's %q).
    """
    suffix = _version(k8s_version) >= (1, 20, 0)  # structured-merge-diff v4.0.2 (Kubernetes v1.20.0)
    out: list[str] = []
    pod_path = POD_SPEC_PATHS.get((group, kind))
    if pod_path is not None and not container_port_protocol_defaulted(k8s_version):
        spec: Any = obj
        for key in pod_path:
            spec = spec.get(key) if isinstance(spec, dict) else None
        if isinstance(spec, dict):
            prefix = "".join(f".{key}" for key in pod_path)
            for group_name in CONTAINER_LISTS:
                for container in spec.get(group_name) or []:
                    if not isinstance(container, dict):
                        continue
                    found = _omission(container.get("ports"), ("containerPort", "protocol"))
                    if found:
                        where = f"{prefix}.{group_name}[name={json.dumps(container.get('name', ''))}].ports"
                        out.append(_message(where, *found, suffix))
    if (group, kind) == ("", "Service") and not service_port_protocol_defaulted(k8s_version):
        found = _omission((obj.get("spec") or {}).get("ports"), ("port", "protocol"))
        if found:
            out.append(_message(".spec.ports", *found, suffix))
    return out


def check_apply(group: str, kind: str, obj: Obj, k8s_version: str) -> None:
    """Refuse an applied object as kube-apiserver does: 500, no reason, SMD's one error or its `errors:` list."""
    found = undefaulted_key_errors(group, kind, obj, k8s_version)
    if not found:
        return
    # typed/helpers.go ValidationErrors.Error: one error alone, several as "errors:" then "  " + each on its line
    text = found[0] if len(found) == 1 else "\n".join(["errors:", *(f"  {e}" for e in found)])
    raise errors.ApiError(500, "", f"failed to create typed patch object: {text}")
