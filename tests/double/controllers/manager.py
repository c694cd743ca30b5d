"""The controller manager: one background thread that runs the simulated controllers in a fixed order.

It is woken by every change and at the earliest time a simulated delay ends, and each pass runs under the cluster
lock. Each controller compares what it would write with what is stored and writes only differences, so a quiet
cluster stays quiet (no resourceVersion churn) and watches see the transitions kubectl waits for. The controllers are
modules of functions over this object (`reconcile(ctrl, now)`), which holds what they share: the cluster, the node's
image store, the helpers that write status and events, and the workloads' start delays.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.double.cluster import GK, Cluster, Obj, now_iso
from tests.double.controllers import (
    addons,
    crds,
    daemonsets,
    deployments,
    endpoints,
    finalizers,
    gpus,
    jobs,
    kubelet,
    minikube,
    namespaces,
    pvcs,
    replicasets,
    statefulsets,
)
from tests.double.controllers.common import EVENT, NS, short_hash
from tests.double.images import ImageStore

#: The order of one pass: CRDs and namespaces first, then the workload controllers top-down (so a new Deployment
#: has its ReplicaSet and pods in the same pass), then the kubelet, storage, endpoints, the Kubeflow operators and
#: the GPUs the device plugin registers.
RECONCILE_ORDER = (
    crds,
    namespaces,
    finalizers,
    deployments,
    replicasets,
    statefulsets,
    daemonsets,
    jobs,
    kubelet,
    pvcs,
    endpoints,
    addons,
    gpus,
)


class Controllers:
    """The reconcile loop over a Cluster, and what the controllers share."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ip = 2
        self._events_sent: set[tuple[str, str, str]] = set()
        #: The earliest time a simulated delay ends (the loop sleeps until then or until something changes).
        self._due = 0.0
        #: The node's images and the kubelet's puller (used only with the scenario's image_pull_delays).
        self.images = ImageStore()
        #: uid -> (resourceVersion, hash) of the last stored version of a workload whose template was hashed.
        self._template_hashes: dict[str, tuple[str, str]] = {}
        #: uid -> (resourceVersion, served types) of a CRD version a pass found established and served unchanged.
        self.crds_settled: dict[str, tuple[str, Any]] = {}

    # ------------------------------------------------------------------------------------------------ loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="double-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.c.changed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def due(self, when: float) -> None:
        """Something changes by itself at `when` (a delay ends): wake up then, not before."""
        self._due = min(self._due, when)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.c.changed.wait(max(0.005, min(1.0, self._due - time.monotonic())))
            self.c.changed.clear()
            try:
                with self.c.lock:
                    self._due = float("inf")
                    self.reconcile()
            except Exception:
                import traceback

                traceback.print_exc()
                time.sleep(0.2)

    def reconcile(self) -> None:
        now = time.monotonic()
        for controller in RECONCILE_ORDER:
            controller.reconcile(self, now)

    def bootstrap(self) -> None:
        """What a fresh minikube cluster has (tests/double/controllers/minikube.py), settled before the API listens."""
        minikube.bootstrap(self)

    # ------------------------------------------------------------------------------------------------ helpers

    def next_ip(self) -> str:
        """The pod IP the next scheduled pod gets (10.244.0.3 onwards, minikube's pod CIDR)."""
        ip = f"10.244.0.{self._ip % 250 + 3}"
        self._ip += 1
        return ip

    def sim(self, obj: Obj) -> dict[str, Any]:
        return self.c.sim.setdefault(obj["metadata"]["uid"], {"seen": time.monotonic()})

    def set_status(self, gk: GK, obj: Obj, status: Obj) -> Obj:
        if obj.get("status") == status:
            return obj
        new = dict(obj)
        new["metadata"] = dict(obj["metadata"])
        new["status"] = status
        return self.c.put(gk, new, "MODIFIED")

    def create(self, gk: GK, obj: Obj) -> Obj:
        return self.c.new_object(gk, obj, manager="kube-controller-manager")

    def event(
        self,
        involved: Obj,
        kind: str,
        reason: str,
        message: str,
        etype: str = "Warning",
        component: str = "default-scheduler",
    ) -> None:
        key = (involved["metadata"]["uid"], reason, message)
        if key in self._events_sent:
            return
        self._events_sent.add(key)
        meta = involved["metadata"]
        ns = meta.get("namespace") or "default"
        if self.c.get(NS, "", ns) is None:
            return
        stamp = now_iso()
        self.create(
            EVENT,
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{meta['name']}.{short_hash([key, time.time()], 16)}", "namespace": ns},
                "involvedObject": {
                    "kind": kind,
                    "namespace": ns,
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "apiVersion": involved.get("apiVersion", "v1"),
                    "resourceVersion": meta.get("resourceVersion", ""),
                },
                "reason": reason,
                "message": message,
                "source": {"component": component},
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "count": 1,
                "type": etype,
                "reportingComponent": component if self.c.scenario.minor >= 20 else "",
                "reportingInstance": "",
            },
        )

    @staticmethod
    def owner_ref(owner: Obj, api_version: str, kind: str) -> Obj:
        return {
            "apiVersion": api_version,
            "kind": kind,
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def owned(self, gk: GK, owner: Obj) -> list[Obj]:
        """Objects of a kind that name `owner` in their ownerReferences, in creation order."""
        uid = owner["metadata"]["uid"]
        out = []
        for dgk, key in self.c.dependents.get(uid, ()):
            obj = self.c.store[dgk].get(key) if dgk == gk else None
            if obj is not None and any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or []):
                out.append(obj)
        return sorted(out, key=lambda o: (o["metadata"]["creationTimestamp"], o["metadata"]["name"]))

    def template_hash(self, obj: Obj) -> str:
        """short_hash of a workload's `spec.template`, once per stored version: every write stores a new object
        with a new resourceVersion, so one version's template never changes."""
        meta = obj["metadata"]
        uid, rv = meta["uid"], meta["resourceVersion"]
        cached = self._template_hashes.get(uid)
        if cached is None or cached[0] != rv:
            cached = (rv, short_hash((obj.get("spec") or {}).get("template") or {}))
            self._template_hashes[uid] = cached
        return cached[1]

    def ns_active(self, ns: str) -> bool:
        obj = self.c.get(NS, "", ns)
        return obj is not None and "deletionTimestamp" not in obj["metadata"]

    # ------------------------------------------------------------------------------------------------ delays

    def delay(self, obj: Obj) -> float:
        """A workload's start delay (`ready_delay`/`ready_delays`), drawn once per workload."""
        sim = self.sim(obj)
        if "delay" not in sim:
            meta = obj["metadata"]
            sim["delay"] = self.c.scenario.delay_for(meta.get("namespace", ""), meta["name"], self.c.rng)
        return sim["delay"]

    def delay_fresh(self, obj: Obj) -> float:
        """A new draw for each rollout of a workload (its first one uses the workload's own delay)."""
        sim = self.sim(obj)
        if "delay" not in sim:
            return self.delay(obj)
        meta = obj["metadata"]
        return self.c.scenario.delay_for(meta.get("namespace", ""), meta["name"], self.c.rng)
