"""The simulated cluster's state: object store, resource types, watches, admission (namespaces, webhooks).

One re-entrant lock guards everything; the HTTP handlers and the controllers (tests/double/controllers/) both take
it, so every request sees a consistent cluster. Objects are stored as plain dicts with the apiVersion they were
written in; reads rewrite apiVersion to the version asked for (the double does no schema conversion).
"""

from __future__ import annotations

import base64
import collections
import copy
import datetime as dt
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.double import errors, istio, merge
from tests.double.catalog import STATUS_OWNED, Catalog, ResourceType
from tests.double.merge import clone
from tests.double.scenario import Scenario
from tests.double.selectors import match_label_selector_object

Obj = dict[str, Any]
GK = tuple[str, str]  # (group, kind)
Key = tuple[str, str]  # (namespace or "", name)

#: Kinds whose metadata.generation tracks spec changes (custom resources always do).
GENERATION_GROUPS = {"apps", "batch", "policy", "autoscaling", "networking.k8s.io", "apiextensions.k8s.io"}
#: The status an object of these kinds has from its create on (else `{}`), see `new_object`.
INITIAL_STATUS: dict[GK, Obj] = {("", "Pod"): {"phase": "Pending"}, ("", "PersistentVolumeClaim"): {"phase": "Pending"}}
#: Annotations asking cert-manager's cainjector to fill a webhook configuration's caBundle.
CA_INJECT_ANNOTATIONS = ("cert-manager.io/inject-ca-from", "cert-manager.io/inject-ca-from-secret")
#: How many watch events are kept to resume watches from a resourceVersion.
HISTORY = 50_000


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Watcher:
    gk: GK
    namespace: str | None
    predicate: Callable[[Obj], bool]
    events: queue.Queue[tuple[str, Obj] | None] = field(default_factory=queue.Queue)


@dataclass
class Event:
    rv: int
    type: str
    gk: GK
    obj: Obj


class Cluster:
    """All state of one simulated cluster. Thread-safe; see the module docstring."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.lock = threading.RLock()
        self.rng = random.Random(scenario.seed)
        #: XORed into every UID drawn from `rng`. The apiserver's UIDs are random (k8s.io/apiserver
        #: pkg/registry/rest/create.go `FillObjectMetaSystemFields` -> k8s.io/apimachinery pkg/util/uuid `NewUUID`),
        #: so a control plane restarted on its etcd never reuses a kept object's UID; a double restarted from its
        #: saved objects (persist.py) with the same seed did, and owners (found by UID) adopted strangers. The draw
        #: stays, so the seeded sequence of names and delays is what it was.
        self._uid_salt = random.SystemRandom().getrandbits(128)
        self.catalog = Catalog.builtin(scenario.minor)
        self.crd_types: dict[str, list[ResourceType]] = {}
        self.store: dict[GK, dict[Key, Obj]] = collections.defaultdict(dict)
        self.applied: dict[tuple[str, str, str, str], dict[str, Obj]] = {}
        self.history: collections.deque[Event] = collections.deque(maxlen=HISTORY)
        self.watchers: list[Watcher] = []
        #: Called with (event type, group/kind, object) for every stored change, under the lock (e.g. the timeline).
        self.observers: list[Callable[[str, GK, Obj], None]] = []
        self.rv = 1000
        #: Set whenever something changes, so controllers react at once rather than on their next tick.
        self.changed = threading.Event()
        #: Per-object simulation state kept out of the objects (keyed by uid).
        self.sim: dict[str, dict[str, Any]] = {}
        #: Owner uid -> objects that named it in ownerReferences (garbage collection without a full scan).
        self.dependents: dict[str, set[tuple[GK, Key]]] = {}
        self._types_cache: list[ResourceType] | None = None

    # ----------------------------------------------------------------------------------------------- types

    def types(self) -> list[ResourceType]:
        """Every resource type served now: built-ins of the version plus established CRDs' kinds."""
        if self._types_cache is None:
            out = list(self.catalog.types)
            for crd_types in self.crd_types.values():
                out.extend(crd_types)
            self._types_cache = out
        return self._types_cache

    def set_crd_types(self, crd_name: str, types: list[ResourceType] | None) -> None:
        with self.lock:
            if types:
                self.crd_types[crd_name] = types
            else:
                self.crd_types.pop(crd_name, None)
            self._types_cache = None

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in self.types():
            if rt.group == group and rt.version == version and rt.plural == plural:
                return rt
        return None

    def type_for_kind(self, group: str, kind: str) -> ResourceType | None:
        """The first (preferred) served version of a kind."""
        for rt in self.types():
            if rt.group == group and rt.kind == kind:
                return rt
        return None

    # ----------------------------------------------------------------------------------------------- store

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def get(self, gk: GK, namespace: str, name: str) -> Obj | None:
        return self.store[gk].get((namespace or "", name))

    def list(self, gk: GK, namespace: str | None = None) -> list[Obj]:
        objs = self.store[gk].values()
        if namespace is None:
            return list(objs)
        return [o for o in objs if o["metadata"].get("namespace", "") == namespace]

    def iter_all(self) -> Iterator[tuple[GK, Obj]]:
        for gk, objs in list(self.store.items()):
            for obj in list(objs.values()):
                yield gk, obj

    def _emit(self, etype: str, gk: GK, obj: Obj) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        self.history.append(Event(rv, etype, gk, obj))
        for observe in self.observers:  # before any watch sees the change, so what they record precedes reactions
            observe(etype, gk, obj)
        for w in self.watchers:
            same_ns = w.namespace is None or obj["metadata"].get("namespace", "") == w.namespace
            if w.gk == gk and same_ns and w.predicate(obj):
                w.events.put((etype, obj))
        self.changed.set()

    def put(self, gk: GK, obj: Obj, etype: str) -> Obj:
        """Store a new version of an object (a new resourceVersion, a watch event)."""
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self.next_rv())
        key = (meta.get("namespace", ""), meta["name"])
        self.store[gk][key] = obj
        for ref in meta.get("ownerReferences") or []:
            self.dependents.setdefault(ref.get("uid", ""), set()).add((gk, key))
        self._emit(etype, gk, obj)
        return obj

    def remove(self, gk: GK, obj: Obj) -> None:
        """Delete an object for good, and (background propagation) everything it owns."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if self.store[gk].get(key) is not obj:
            return
        del self.store[gk][key]
        self.applied.pop((gk[0], gk[1], key[0], key[1]), None)
        gone = copy.copy(obj)
        gone["metadata"] = dict(meta, resourceVersion=str(self.next_rv()))
        self._emit("DELETED", gk, gone)
        uid = meta.get("uid")
        self.sim.pop(uid, None)
        if gk == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            group = obj["spec"]["group"]
            kind = obj["spec"]["names"]["kind"]
            for cr in list(self.store[(group, kind)].values()):
                self.remove((group, kind), cr)
            self.set_crd_types(meta["name"], None)
        for dgk, dkey in sorted(self.dependents.pop(uid, set())):
            dep = self.store[dgk].get(dkey)
            if dep is not None and any(ref.get("uid") == uid for ref in dep["metadata"].get("ownerReferences") or []):
                self.delete_object(dgk, dep)

    def orphan_dependents(self, obj: Obj) -> None:
        """propagationPolicy=Orphan: dependents lose their ownerReference to `obj` and stay."""
        uid = obj["metadata"]["uid"]
        for dgk, dkey in sorted(self.dependents.pop(uid, set())):
            dep = self.store[dgk].get(dkey)
            if dep is None:
                continue
            new = clone(dep)
            refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            self.put(dgk, new, "MODIFIED")

    def delete_object(self, gk: GK, obj: Obj) -> Obj:
        """Start deleting: finalizers and namespaces first get a deletionTimestamp, the rest goes at once."""
        meta = obj["metadata"]
        if gk == ("", "Namespace") or meta.get("finalizers"):
            if "deletionTimestamp" in meta:
                return obj
            new = clone(obj)
            new["metadata"]["deletionTimestamp"] = now_iso()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if gk == ("", "Namespace"):
                new["status"] = {"phase": "Terminating"}
            self.sim.setdefault(meta["uid"], {})["deleted_at"] = time.monotonic()
            return self.put(gk, new, "MODIFIED")
        self.remove(gk, obj)
        return obj

    # --------------------------------------------------------------------------------------------- writes

    def new_object(self, gk: GK, obj: Obj, *, manager: str | None = None, operation: str = "Update") -> Obj:
        """Fill in server-set metadata and store a new object (no admission: callers do it)."""
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(self.rng.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
        meta["uid"] = str(uuid.UUID(int=self.rng.getrandbits(128) ^ self._uid_salt, version=4))
        meta["creationTimestamp"] = now_iso()
        meta.pop("resourceVersion", None)
        meta.pop("deletionTimestamp", None)
        if gk[0] in GENERATION_GROUPS or self.is_custom(gk):
            meta["generation"] = 1
        reset_status = gk in STATUS_OWNED and gk != ("", "Namespace")
        if reset_status:
            obj.pop("status", None)
        if manager:
            meta["managedFields"] = [self._managed_entry(manager, operation, obj)]
        if reset_status:
            # The registry strategies reset status on create (kubernetes pkg/registry/apps/deployment/strategy.go
            # PrepareForCreate: `deployment.Status = apps.DeploymentStatus{}`, likewise the other kinds; the field
            # manager's reset fields keep it out of managedFields), and Go's `omitempty` never omits a struct, so a
            # real apiserver answers `"status": {}` from the first read. A Pod starts Pending (pkg/registry/core/pod/
            # strategy.go PrepareForCreate; its qosClass is not modelled), a PVC too (pkg/apis/core/v1/defaults.go
            # SetDefaults_PersistentVolumeClaim).
            obj["status"] = dict(INITIAL_STATUS.get(gk, {}))
        self.default(gk, obj)
        return self.put(gk, obj, "ADDED")

    def _managed_entry(self, manager: str, operation: str, config: Obj, subresource: str | None = None) -> Obj:
        fields = {k: v for k, v in config.items() if k not in ("apiVersion", "kind")}
        meta = {
            k: v
            for k, v in (fields.get("metadata") or {}).items()
            if k in ("labels", "annotations", "ownerReferences", "finalizers")
        }
        fields = {**fields, "metadata": meta} if meta else {k: v for k, v in fields.items() if k != "metadata"}
        entry: Obj = {
            "manager": manager,
            "operation": operation,
            "apiVersion": config.get("apiVersion", "v1"),
            "time": now_iso(),
            "fieldsType": "FieldsV1",
            "fieldsV1": merge.fields_v1(fields),
        }
        if subresource and self.scenario.minor >= 22:
            entry["subresource"] = subresource
        return entry

    def is_custom(self, gk: GK) -> bool:
        return any(rt.group == gk[0] and rt.kind == gk[1] for types in self.crd_types.values() for rt in types)

    def replace(
        self,
        gk: GK,
        current: Obj,
        new: Obj,
        *,
        manager: str | None = None,
        operation: str = "Update",
        applied: Obj | None = None,
        subresource: str | None = None,
        managed: list[Obj] | None = None,
    ) -> Obj:
        """Store `new` as the next version of `current`, keeping server-owned metadata; no-op when unchanged."""
        meta, cur_meta = new.setdefault("metadata", {}), current["metadata"]
        for key in (
            "uid",
            "creationTimestamp",
            "namespace",
            "name",
            "deletionTimestamp",
            "generation",
            "deletionGracePeriodSeconds",
        ):
            if key in cur_meta:
                meta[key] = cur_meta[key]
            else:
                meta.pop(key, None)
        if subresource != "status" and gk in STATUS_OWNED:
            if "status" in current:
                new["status"] = current["status"]
            else:
                new.pop("status", None)
        if subresource == "status":
            new = {**clone(current), "status": new.get("status", {})}
            meta = new["metadata"]
        self.default(gk, new, current)
        managed = list(managed if managed is not None else cur_meta.get("managedFields") or [])
        meta["managedFields"] = managed
        meta["resourceVersion"] = cur_meta["resourceVersion"]
        if _same(current, new):
            return current
        if "generation" in cur_meta and _spec_changed(current, new):
            meta["generation"] = cur_meta["generation"] + 1
        if manager:
            entry = self._managed_entry(manager, operation, applied or new, subresource)
            managed = [
                e
                for e in managed
                if not (
                    e.get("manager") == manager
                    and e.get("operation") == operation
                    and e.get("subresource") == entry.get("subresource")
                )
            ]
            managed.append(entry)
            meta["managedFields"] = managed
        return self.put(gk, new, "MODIFIED")

    def default(self, gk: GK, obj: Obj, current: Obj | None = None) -> None:
        """The few defaults kube-apiserver fills that the controllers and kfinstall read back (kept on updates)."""
        spec = obj.get("spec")
        if gk in (("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "ReplicaSet")) and isinstance(spec, dict):
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            if gk == ("apps", "Deployment"):
                spec.setdefault("progressDeadlineSeconds", 600)
        if gk == ("apps", "StatefulSet") and isinstance(spec, dict):  # `kubectl rollout status` insists on these
            spec.setdefault("podManagementPolicy", "OrderedReady")
            spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        if gk == ("apps", "DaemonSet") and isinstance(spec, dict):
            spec.setdefault("revisionHistoryLimit", 10)
            rolling = {"maxUnavailable": 1, **({"maxSurge": 0} if self.scenario.minor >= 21 else {})}
            spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": rolling})
        if gk == ("", "Service") and isinstance(spec, dict):
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if "clusterIP" not in spec:
                spec["clusterIP"] = f"10.{96 + (self.rv // 65536) % 8}.{(self.rv // 256) % 256}.{self.rv % 254 + 1}"
                if self.scenario.minor >= 20:
                    spec["clusterIPs"] = [spec["clusterIP"]]
            old_ports = ((current or {}).get("spec") or {}).get("ports") or []
            for port in spec.get("ports") or []:
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
                if spec["type"] in ("NodePort", "LoadBalancer") and "nodePort" not in port:
                    kept = [
                        p.get("nodePort")
                        for p in old_ports
                        if (p.get("port"), p.get("protocol", "TCP")) == (port.get("port"), port["protocol"])
                        and p.get("nodePort")
                    ]
                    port["nodePort"] = kept[0] if kept else self.rng.randint(30000, 32767)
        if gk[0] == "admissionregistration.k8s.io" and current is not None:
            # caBundle belongs to whoever injected it (SSA keeps it: webhooks is a list keyed by name).
            injected = {
                h.get("name"): (h.get("clientConfig") or {}).get("caBundle") for h in current.get("webhooks") or []
            }
            for hook in obj.get("webhooks") or []:
                client = hook.setdefault("clientConfig", {})
                if not client.get("caBundle") and injected.get(hook.get("name")):
                    client["caBundle"] = injected[hook.get("name")]
        if gk == ("", "Secret") and obj.get("stringData"):
            data = obj.setdefault("data", {})
            for key, value in obj.pop("stringData").items():
                data[key] = base64.b64encode(str(value).encode()).decode()
        if gk == ("", "Secret"):
            obj.setdefault("type", "Opaque")
        if gk == ("", "Namespace"):
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
            if self.scenario.minor >= 21:
                labels = obj["metadata"].setdefault("labels", {})
                labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]

    # --------------------------------------------------------------------------------------------- admission

    def admit(self, rt: ResourceType, namespace: str, obj: Obj, operation: str) -> None:
        """Namespace lifecycle, then webhooks: the checks that make Kubeflow installs race."""
        name = obj.get("metadata", {}).get("name", "")
        if rt.namespaced and operation == "CREATE":
            ns = self.get(("", "Namespace"), "", namespace)
            if ns is None:
                raise errors.not_found("namespaces", namespace)
            if "deletionTimestamp" in ns["metadata"]:
                raise errors.forbidden_terminating(rt.group_resource, name, namespace)
        if self.scenario.webhooks:
            self.call_webhooks(rt, namespace, obj, operation)

    def call_webhooks(self, rt: ResourceType, namespace: str, obj: Obj, operation: str) -> None:
        for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            for config in list(self.store[("admissionregistration.k8s.io", kind)].values()):
                v1beta1 = config.get("apiVersion", "").endswith("v1beta1")
                for hook in config.get("webhooks") or []:
                    if not self._hook_matches(hook, rt, namespace, obj, operation, v1beta1):
                        continue
                    policy = hook.get("failurePolicy") or ("Ignore" if v1beta1 else "Fail")
                    message = self._hook_unreachable(hook, v1beta1, config)
                    if message and policy == "Fail":
                        raise errors.internal(message)
                    if not message and kind.startswith("Mutating") and rt.kind == "Pod" and istio.is_injector(hook):
                        istio.inject(obj, namespace, self.get(("", "ConfigMap"), *istio.CONFIGMAP))

    def _hook_matches(
        self, hook: Obj, rt: ResourceType, namespace: str, obj: Obj, operation: str, v1beta1: bool
    ) -> bool:
        exact = (hook.get("matchPolicy") or ("Exact" if v1beta1 else "Equivalent")) == "Exact"
        for rule in hook.get("rules") or []:
            if not _in(rt.group, rule.get("apiGroups")) or not _in(operation, rule.get("operations")):
                continue
            if exact and not _in(rt.version, rule.get("apiVersions")):
                continue
            resources = rule.get("resources") or []
            if not any(r in ("*", "*/*", rt.plural) for r in resources):
                continue
            scope = rule.get("scope") or "*"
            if (scope == "Namespaced" and not rt.namespaced) or (scope == "Cluster" and rt.namespaced):
                continue
            break
        else:
            return False
        labels = obj.get("metadata", {}).get("labels") or {}
        if not match_label_selector_object(hook.get("objectSelector"), labels):
            return False
        if rt.kind == "Namespace" and rt.group == "":
            return match_label_selector_object(hook.get("namespaceSelector"), labels)
        if rt.namespaced:
            ns = self.get(("", "Namespace"), "", namespace)
            ns_labels = (ns or {}).get("metadata", {}).get("labels") or {}
            return match_label_selector_object(hook.get("namespaceSelector"), ns_labels)
        return True

    def _hook_unreachable(self, hook: Obj, v1beta1: bool, config: Obj) -> str | None:
        """The apiserver's error text when the webhook cannot be called, None when it can.

        Unreachable: no Service, or no ready endpoints (connection refused at the cluster IP). Untrusted: the
        configuration waits for cert-manager's CA injector (an `inject-ca-from` annotation) and has no caBundle yet.
        """
        svc_ref = (hook.get("clientConfig") or {}).get("service")
        if not svc_ref:
            return None
        ns, name = svc_ref.get("namespace", "default"), svc_ref.get("name", "")
        port = svc_ref.get("port", 443)
        timeout = hook.get("timeoutSeconds") or (30 if v1beta1 else 10)
        url = f"https://{name}.{ns}.svc:{port}{svc_ref.get('path') or ''}?timeout={timeout}s"
        prefix = f'failed calling webhook "{hook.get("name")}": '
        if self.scenario.minor >= 23:
            prefix += "failed to call webhook: "
        svc = self.get(("", "Service"), ns, name)
        if svc is None:
            return f'{prefix}Post "{url}": service "{name}" not found'
        endpoints = self.get(("", "Endpoints"), ns, name)
        ready = any(s.get("addresses") for s in (endpoints or {}).get("subsets") or [])
        if not ready:
            ip = svc.get("spec", {}).get("clusterIP", "10.96.0.1")
            return f'{prefix}Post "{url}": dial tcp {ip}:{port}: connect: connection refused'
        annotations = config.get("metadata", {}).get("annotations") or {}
        waits_for_ca = any(a in annotations for a in CA_INJECT_ANNOTATIONS)
        if self.scenario.ca_injection and waits_for_ca and not (hook.get("clientConfig") or {}).get("caBundle"):
            tls = "tls: failed to verify certificate: " if self.scenario.minor >= 27 else ""
            return f'{prefix}Post "{url}": {tls}x509: certificate signed by unknown authority'
        return None

    # --------------------------------------------------------------------------------------------- watches

    def watch(
        self, gk: GK, namespace: str | None, predicate: Callable[[Obj], bool], since: int | None
    ) -> tuple[Watcher, int]:
        """Register a watcher; replays history after `since`, or sends every current object as ADDED."""
        with self.lock:
            w = Watcher(gk, namespace, predicate)
            if since is None:
                for obj in self.list(gk, namespace):
                    if predicate(obj):
                        w.events.put(("ADDED", obj))
            else:
                if self.history and since < self.history[0].rv - 1 and len(self.history) == HISTORY:
                    raise errors.ApiError(410, "Expired", f"too old resource version: {since} ({self.history[0].rv})")
                for ev in self.history:
                    if ev.rv <= since or ev.gk != gk:
                        continue
                    if namespace is not None and ev.obj["metadata"].get("namespace", "") != namespace:
                        continue
                    if predicate(ev.obj):
                        w.events.put((ev.type, ev.obj))
            self.watchers.append(w)
            return w, self.rv

    def unwatch(self, w: Watcher) -> None:
        with self.lock:
            if w in self.watchers:
                self.watchers.remove(w)

    def close_watches(self) -> None:
        """End every watch stream (an apiserver restart does)."""
        with self.lock:
            for w in self.watchers:
                w.events.put(None)
            self.watchers.clear()

    # --------------------------------------------------------------------------------------------- applied

    def applied_configs(self, gk: GK, namespace: str, name: str) -> dict[str, Obj]:
        return self.applied.setdefault((gk[0], gk[1], namespace, name), {})


def _in(value: str, allowed: list[str] | None) -> bool:
    return bool(allowed) and ("*" in allowed or value in allowed)  # type: ignore[operator]


def _strip(obj: Obj) -> Obj:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in ("managedFields", "resourceVersion")}
    return {**obj, "metadata": meta, "apiVersion": None}


def _same(a: Obj, b: Obj) -> bool:
    return _strip(a) == _strip(b)


def _spec_changed(a: Obj, b: Obj) -> bool:
    def body(o: Obj) -> Obj:
        return {k: v for k, v in o.items() if k not in ("metadata", "status", "apiVersion", "kind")}

    return body(a) != body(b)
