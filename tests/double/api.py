"""REST semantics of the resource endpoints: get, list, create, update, patch (apply/merge/json), delete."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.double import errors, immutable, listmapkeys, merge, names, typed
from tests.double.catalog import ResourceType
from tests.double.cluster import Cluster, Obj
from tests.double.merge import clone
from tests.double.selectors import SelectorError, field_selector, label_selector


def render(obj: Obj, rt: ResourceType) -> Obj:
    """A copy of a stored object as served under `rt`'s group/version (only CRDs are converted; see README)."""
    out = clone(obj)
    if (rt.group, rt.kind, rt.version) == CRD_V1 and str(obj.get("apiVersion", "")).endswith("/v1beta1"):
        out["spec"] = crd_spec_v1(out.get("spec") or {})
    out["apiVersion"] = rt.group_version
    out["kind"] = rt.kind
    return out


CRD_V1 = ("apiextensions.k8s.io", "CustomResourceDefinition", "v1")


def crd_spec_v1(spec: Obj) -> Obj:
    """An apiextensions v1beta1 CRD spec as v1 shows it: per-version schema, subresources and printer columns."""
    spec = dict(spec)
    versions = spec.pop("versions", None) or [{"name": spec.get("version"), "served": True, "storage": True}]
    spec.pop("version", None)
    validation = spec.pop("validation", None)
    subresources = spec.pop("subresources", None)
    columns = spec.pop("additionalPrinterColumns", None)
    converted = []
    for version in versions:
        version = dict(version)
        if validation and "schema" not in version:
            version["schema"] = validation
        if subresources and "subresources" not in version:
            version["subresources"] = subresources
        if columns and "additionalPrinterColumns" not in version:
            version["additionalPrinterColumns"] = [
                {**{k: v for k, v in c.items() if k != "JSONPath"}, "jsonPath": c.get("JSONPath")} for c in columns
            ]
        converted.append(version)
    spec["versions"] = converted
    spec.setdefault("conversion", {"strategy": "None"})
    return spec


def predicate(rt: ResourceType, labels: str | None, fields: str | None) -> Any:
    try:
        lp = label_selector(labels)
        fp = field_selector(fields, rt.kind)
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from None
    return lambda obj: lp(obj.get("metadata", {}).get("labels") or {}) and fp(obj)


def parse_body(raw: bytes) -> Any:
    if not raw:
        raise errors.bad_request("the body of the request was empty")
    try:
        return json.loads(raw)
    except ValueError:
        import yaml

        try:
            return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error decoding YAML: {exc}") from None


class Api:
    """Resource operations with admission, on top of a Cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def get(self, rt: ResourceType, ns: str, name: str) -> Obj:
        with self.c.lock:
            obj = self.c.get((rt.group, rt.kind), ns, name)
            if obj is None:
                raise errors.not_found(rt.group_resource, name)
            return render(obj, rt)

    def list(self, rt: ResourceType, ns: str | None, labels: str | None, fields: str | None) -> Obj:
        pred = predicate(rt, labels, fields)
        with self.c.lock:
            items = [render(o, rt) for o in self.c.list((rt.group, rt.kind), ns) if pred(o)]
            rv = str(self.c.rv)
        items.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        for item in items:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        return {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.group_version,
            "metadata": {"resourceVersion": rv},
            "items": items,
        }

    def _check_body(self, rt: ResourceType, ns: str, body: Any, name: str | None) -> Obj:
        if not isinstance(body, dict):
            raise errors.bad_request("the object provided is not a JSON object")
        meta = body.setdefault("metadata", {})
        if body.get("kind") and body["kind"] != rt.kind:
            raise errors.bad_request(f"the object provided is unrecognized (must be of type {rt.kind}): kind mismatch")
        if name is not None and meta.get("name") not in (None, name):
            raise errors.bad_request("the name of the object does not match the name on the URL")
        if name is not None:
            meta["name"] = name
        if rt.namespaced:
            if meta.get("namespace") not in (None, "", ns):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        body["apiVersion"] = rt.group_version
        body["kind"] = rt.kind
        if not meta.get("name") and not meta.get("generateName"):
            raise errors.ApiError(
                422,
                "Invalid",
                f'{rt.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
            )
        names.validate(rt.group, rt.kind, body, self.c.scenario.minor)
        _validate_quantities(rt, body)
        return body

    def create(self, rt: ResourceType, ns: str, body: Any, manager: str, dry_run: bool = False) -> Obj:
        body = self._check_body(rt, ns, body, None)
        with self.c.lock:
            name = body["metadata"].get("name")
            if name and self.c.get((rt.group, rt.kind), ns, name) is not None:
                raise errors.already_exists(rt.group_resource, name)
            self.c.admit(rt, ns, body, "CREATE")
            if dry_run:
                return render(body, rt)
            return render(self.c.new_object((rt.group, rt.kind), body, manager=manager), rt)

    def update(
        self,
        rt: ResourceType,
        ns: str,
        name: str,
        body: Any,
        manager: str,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        body = self._check_body(rt, ns, body, name)
        with self.c.lock:
            current = self.c.get((rt.group, rt.kind), ns, name)
            if current is None:
                if subresource:
                    raise errors.not_found(rt.group_resource, name)
                return self.create(rt, ns, body, manager, dry_run)
            rv = body["metadata"].get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.group_resource, name)
            if not subresource:
                immutable.check(rt.group, rt.kind, current, body)
                self.c.admit(rt, ns, body, "UPDATE")
            if dry_run:
                return render(body, rt)
            new = self.c.replace((rt.group, rt.kind), current, body, manager=manager, subresource=subresource)
            return render(new, rt)

    def patch(
        self,
        rt: ResourceType,
        ns: str,
        name: str,
        content_type: str,
        raw: bytes,
        manager: str,
        force: bool,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> tuple[int, Obj]:
        body = parse_body(raw)
        gk = (rt.group, rt.kind)
        if subresource == "scale":
            return 200, self.scale(rt, ns, name, content_type, body, manager)
        with self.c.lock:
            current = self.c.get(gk, ns, name)
            if content_type.startswith("application/apply-patch"):
                return self._apply(rt, ns, name, body, manager, current, subresource, dry_run, force)
            if current is None:
                raise errors.not_found(rt.group_resource, name)
            base = render(current, rt)
            try:
                if content_type.startswith("application/json-patch"):
                    new = merge.json_patch(base, body)
                else:
                    new = merge.json_merge_patch(base, body)
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                raise errors.ApiError(
                    422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
                ) from None
            new = self._check_body(rt, ns, new, name)
            if not subresource:
                immutable.check(rt.group, rt.kind, current, new)
                self.c.admit(rt, ns, new, "UPDATE")
            if dry_run:
                return 200, render(new, rt)
            stored = self.c.replace(gk, current, new, manager=manager, subresource=subresource)
            return 200, render(stored, rt)

    def scale(
        self, rt: ResourceType, ns: str, name: str, content_type: str | None = None, body: Any = None, manager: str = ""
    ) -> Obj:
        """The `scale` subresource: an autoscaling/v1 Scale view of spec.replicas; a patch or PUT sets it."""
        gk = (rt.group, rt.kind)
        with self.c.lock:
            current = self.c.get(gk, ns, name)
            if current is None:
                raise errors.not_found(rt.group_resource, name)
            view = _scale_view(current)
            if body is None:
                return view
            if content_type is None:
                wanted = body
            elif content_type.startswith("application/json-patch"):
                wanted = merge.json_patch(view, body)
            else:
                wanted = merge.json_merge_patch(view, body)
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.ApiError(
                    422,
                    "Invalid",
                    f'Scale.autoscaling "{name}" is invalid: spec.replicas: '
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                )
            new = clone(current)
            new["spec"]["replicas"] = replicas
            return _scale_view(self.c.replace(gk, current, new, manager=manager, subresource="scale"))

    def _apply(
        self,
        rt: ResourceType,
        ns: str,
        name: str,
        body: Any,
        manager: str,
        current: Obj | None,
        subresource: str | None,
        dry_run: bool,
        force: bool = False,
    ) -> tuple[int, Obj]:
        gk = (rt.group, rt.kind)
        if isinstance(body, dict):  # the typed patch object is built first (fieldmanager/structuredmerge.go)
            listmapkeys.check_apply(rt.group, rt.kind, body, self.c.scenario.k8s_version)
            crd = self.c.get(("apiextensions.k8s.io", "CustomResourceDefinition"), "", f"{rt.plural}.{rt.group}")
            typed.check_apply(
                rt.group, rt.version, rt.kind, ns if rt.namespaced else "", name, body, self.c.scenario.minor, crd
            )
        applied = self._check_body(rt, ns, clone(body), name)
        managed = None
        if current is not None:
            conflicts = merge.apply_conflicts(applied, current, current["metadata"].get("managedFields") or [], manager)
            if conflicts and not force:
                message = merge.conflict_message(conflicts)
                causes = [
                    {
                        "reason": "FieldManagerConflict",
                        "message": f'conflict with "{e.get("manager")}" using {e.get("apiVersion", "v1")}',
                        "field": "." + ".".join(p),
                    }
                    for e, p in conflicts
                ]
                raise errors.ApiError(409, "Conflict", message, {"causes": causes})
            if conflicts:
                managed = merge.release(current["metadata"].get("managedFields") or [], conflicts)
        configs = self.c.applied_configs(gk, ns, name) if current is not None else {}
        previous = configs.get(manager)
        others = [cfg for m, cfg in configs.items() if m != manager]
        new = merge.server_side_apply(render(current, rt) if current else None, applied, previous, others)
        new = self._check_body(rt, ns, new, name)
        if current is not None and not subresource:
            immutable.check(rt.group, rt.kind, current, new)
        self.c.admit(rt, ns, new, "UPDATE" if current is not None else "CREATE")
        if dry_run:
            return 200, render(new, rt)
        if current is None:
            stored = self.c.new_object(gk, new, manager=manager, operation="Apply")
            self.c.applied_configs(gk, ns, name)[manager] = applied
            return 201, render(stored, rt)
        stored = self.c.replace(
            gk,
            current,
            new,
            manager=manager,
            operation="Apply",
            applied=applied,
            subresource=subresource,
            managed=managed,
        )
        configs[manager] = applied
        return 200, render(stored, rt)

    def delete(self, rt: ResourceType, ns: str, name: str, dry_run: bool = False, orphan: bool = False) -> Obj:
        with self.c.lock:
            current = self.c.get((rt.group, rt.kind), ns, name)
            if current is None:
                raise errors.not_found(rt.group_resource, name)
            if self.c.scenario.webhooks:
                self.c.call_webhooks(rt, ns, current, "DELETE")
            if dry_run:
                return render(current, rt)
            if orphan:
                self.c.orphan_dependents(current)
            return render(self.c.delete_object((rt.group, rt.kind), current), rt)

    def delete_collection(self, rt: ResourceType, ns: str | None, labels: str | None, fields: str | None) -> Obj:
        pred = predicate(rt, labels, fields)
        with self.c.lock:
            for obj in self.c.list((rt.group, rt.kind), ns):
                if pred(obj):
                    self.c.delete_object((rt.group, rt.kind), obj)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}


def _scale_view(obj: Obj) -> Obj:
    meta = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in selector.items()),
        },
    }


#: apimachinery's quantity scanner (kubernetes/apimachinery pkg/api/resource/quantity.go `parseQuantityString`):
#: sign, digits with an optional point, then suffix letters, an optional sign and digits; anything else is
#: ErrFormatWrong. The suffix must then be one of suffix.go's `newSuffixer` list or a decimal exponent (ErrSuffix).
_QUANTITY_SCAN = re.compile(r"[+-]?\d*(?:\.\d*)?([eEinumkKMGTP]*[-+]?\d*)")
_QUANTITY_SUFFIX = re.compile(r"|[numkMGTPE]|[KMGTPE]i|[eE][-+]?\d+")
_QUANTITY_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


def _quantity_error(value: Any) -> str | None:
    """What apimachinery's `ParseQuantity` says of `value`, or None when it parses (JSON numbers always do)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None
    text = str(value)
    scanned = _QUANTITY_SCAN.fullmatch(text)
    if not text or scanned is None:
        return _QUANTITY_FORMAT_WRONG
    if _QUANTITY_SUFFIX.fullmatch(scanned.group(1)) is None:
        return "unable to parse quantity's suffix"
    return None


def _validate_quantities(rt: ResourceType, body: Obj) -> None:
    """A Pod's or pod template's container resources are `resource.Quantity` fields: a value that does not parse
    fails the request body's decoding, which kube-apiserver answers 400 BadRequest (kubernetes/kubernetes
    staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go `transformDecodeError`: `KIND in version "V"
    cannot be handled as a KIND: ERR`). So no invalid quantity is ever stored, and readers may rely on that."""
    if rt.group not in ("", "apps", "batch"):
        return
    spec = body.get("spec") or {}
    if rt.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    if rt.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"):
        spec = (spec.get("template") or {}).get("spec") or {}
    elif rt.kind != "Pod":
        return
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        resources = (container or {}).get("resources") or {}
        for field in ("requests", "limits"):
            for value in (resources.get(field) or {}).values():
                error = _quantity_error(value)
                if error is not None:
                    version = rt.group_version.rpartition("/")[2]
                    message = f'{rt.kind} in version "{version}" cannot be handled as a {rt.kind}: {error}'
                    raise errors.bad_request(message)


def token_request(api: Api, namespace: str, name: str, body: Obj) -> Obj:
    """POST serviceaccounts/NAME/token (TokenRequest, authentication.k8s.io/v1), as the API server answers it
    (kubernetes/kubernetes pkg/registry/core/serviceaccount/storage/token.go `TokenREST.Create`): the
    ServiceAccount must exist; `spec.expirationSeconds` defaults to 3600 (pkg/apis/authentication/v1/defaults.go)
    and may not be under 600 (pkg/apis/authentication/validation/validation.go `ValidateTokenRequest`); no
    audience means the API server's own (`--api-audiences`, which defaults to the `--service-account-issuer`);
    the token is a JWT with the claims of pkg/serviceaccount/claims.go (`iss` the issuer, `sub`
    system:serviceaccount:NS:NAME, `aud`, `exp`, `iat`, `nbf`, `kubernetes.io`), signed RS256 with the double's key
    (tests/double/signing.py), which /openid/v1/jwks publishes."""
    import time
    import uuid

    with api.c.lock:
        account = api.c.get(("", "ServiceAccount"), namespace, name)
    if account is None:
        raise errors.not_found("serviceaccounts", name)
    spec = dict(body.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or 3600)
    if seconds < 600:
        raise errors.ApiError(
            422, "Invalid", f'TokenRequest.authentication.k8s.io "{name}" is invalid: spec.expirationSeconds: '
            f"Invalid value: {seconds}: may not specify a duration less than 10 minutes",
        )  # fmt: skip
    issuer = api.c.scenario.service_account_issuer
    audiences = list(spec.get("audiences") or [issuer])
    now = int(time.time())
    claims = {
        "aud": audiences, "exp": now + seconds, "iat": now, "iss": issuer, "jti": str(uuid.uuid4()), "nbf": now,
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "kubernetes.io": {"namespace": namespace,
                          "serviceaccount": {"name": name, "uid": account["metadata"].get("uid", "")}},
    }  # fmt: skip
    from tests.double import signing

    token = signing.sign(claims)
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + seconds))
    return {
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": spec.get("boundObjectRef")},
        "status": {"token": token, "expirationTimestamp": expires},
    }  # fmt: skip
