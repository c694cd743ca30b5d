"""The ReplicaSet controller: creates or deletes pods to match `spec.replicas`, through admission (a webhook refusal
becomes `ReplicaFailure`/`FailedCreate`), and reports replicas ready and available
(kubernetes/kubernetes pkg/controller/replicaset/replica_set.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.cluster import Obj
from tests.double.controllers.common import (
    ALPHABET,
    POD,
    RS,
    condition,
    pod_ready,
)
from tests.double.controllers.pods import admit_pod, pod_from_template

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    for rs in ctrl.c.list(RS):
        if "deletionTimestamp" in rs["metadata"]:
            continue
        spec = rs.get("spec") or {}
        replicas = spec.get("replicas", 1)
        pods = [p for p in ctrl.owned(POD, rs) if "deletionTimestamp" not in p["metadata"]]
        for extra in pods[replicas:]:
            ctrl.c.delete_object(POD, extra)
        pods = pods[:replicas]
        delay = ctrl.sim(rs).get("delay", 0.0)
        for _ in range(replicas - len(pods)):
            name = f"{rs['metadata']['name']}-{''.join(ctrl.c.rng.choices(ALPHABET, k=5))}"
            pod = pod_from_template(ctrl, rs, "ReplicaSet", spec.get("template") or {}, name, {})
            created = admit_pod(ctrl, rs, "ReplicaSet", pod, delay)
            if created is None:
                break
            pods.append(created)
        ready = sum(1 for p in pods if pod_ready(p))
        status: Obj = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        failure = ctrl.sim(rs).get("create_error")
        if failure:
            previous = (rs.get("status") or {}).get("conditions")
            status["conditions"] = [condition(previous, "ReplicaFailure", "True", "FailedCreate", failure)]
        ctrl.set_status(RS, rs, status)
