"""The DaemonSet controller on the one node: one pod per revision of the template, bound to the node directly
(kubernetes/kubernetes pkg/controller/daemon/daemon_controller.go, update.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.cluster import Obj
from tests.double.controllers.common import (
    ALPHABET,
    DS,
    POD,
    pod_ready,
)
from tests.double.controllers.pods import admit_pod, pod_from_template

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    node_name = ctrl.c.scenario.node_name
    for ds in ctrl.c.list(DS):
        meta = ds["metadata"]
        if "deletionTimestamp" in meta:
            continue
        template = (ds.get("spec") or {}).get("template") or {}
        revision = ctrl.template_hash(ds)
        pods = [p for p in ctrl.owned(POD, ds) if "deletionTimestamp" not in p["metadata"]]
        for pod in pods:
            if pod["metadata"]["labels"].get("controller-revision-hash") != revision:
                ctrl.c.delete_object(POD, pod)
        pods = [p for p in pods if p["metadata"]["labels"].get("controller-revision-hash") == revision]
        sim = ctrl.sim(ds)
        if not pods:
            if sim.get("revision") not in (None, revision):
                sim["delay"] = ctrl.delay_fresh(ds)
            sim["revision"] = revision
            name = f"{meta['name']}-{''.join(ctrl.c.rng.choices(ALPHABET, k=5))}"
            pod = pod_from_template(
                ctrl,
                ds,
                "DaemonSet",
                template,
                name,
                {"controller-revision-hash": revision, "pod-template-generation": str(meta.get("generation", 1))},
            )
            pod["spec"]["nodeName"] = node_name
            created = admit_pod(ctrl, ds, "DaemonSet", pod, ctrl.delay(ds))
            if created is not None:
                pods = [created]
        ready = sum(1 for p in pods if pod_ready(p))
        status: Obj = {
            "currentNumberScheduled": len(pods),
            "desiredNumberScheduled": 1,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": meta.get("generation", 1),
            "updatedNumberScheduled": len(pods),
        }
        if ready:
            status["numberAvailable"] = ready
        if 1 - ready > 0:
            status["numberUnavailable"] = 1 - ready
        ctrl.set_status(DS, ds, status)
