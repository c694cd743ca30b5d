"""The Deployment controller: one ReplicaSet per pod template (named by its hash, older ones deleted), the
`Available`/`Progressing` conditions with their reasons and messages, `ProgressDeadlineExceeded` after
`progressDeadlineSeconds` (or the `progress_deadline` knob), and a ReplicaSet's `ReplicaFailure` copied up
(kubernetes/kubernetes pkg/controller/deployment/sync.go, progress.go, util/deployment_util.go).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tests.double.cluster import Obj
from tests.double.controllers.common import (
    DEPLOY,
    POD,
    RS,
    condition,
    pod_ready,
)
from tests.double.merge import clone

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    for dep in ctrl.c.list(DEPLOY):
        meta = dep["metadata"]
        if "deletionTimestamp" in meta:
            continue
        spec = dep.get("spec") or {}
        template = spec.get("template") or {}
        tpl_hash = ctrl.template_hash(dep)
        rs_name = f"{meta['name']}-{tpl_hash}"
        replicas = spec.get("replicas", 1)
        rses = ctrl.owned(RS, dep)
        current = next((r for r in rses if r["metadata"]["name"] == rs_name), None)
        for old in rses:
            if old is not current:
                ctrl.c.delete_object(RS, old)
        if current is None:
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels["pod-template-hash"] = tpl_hash
            selector = clone(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = tpl_hash
            tpl = clone(template)
            tpl.setdefault("metadata", {})["labels"] = labels
            current = ctrl.create(
                RS,
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs_name,
                        "namespace": meta["namespace"],
                        "labels": labels,
                        "annotations": {"deployment.kubernetes.io/revision": str(len(rses) + 1)},
                        "ownerReferences": [ctrl.owner_ref(dep, "apps/v1", "Deployment")],
                    },
                    "spec": {"replicas": replicas, "selector": selector, "template": tpl},
                },
            )
            ctrl.sim(current)["delay"] = ctrl.delay_fresh(dep)
        elif current["spec"].get("replicas") != replicas:
            new = clone(current)
            new["spec"]["replicas"] = replicas
            current = ctrl.c.put(RS, new, "MODIFIED")
        pods = [p for p in ctrl.owned(POD, current) if "deletionTimestamp" not in p["metadata"]]
        ready = sum(1 for p in pods if pod_ready(p))
        available_needed = replicas - _max_unavailable(spec, replicas)
        complete = ready >= replicas and len(pods) == replicas
        if not complete:
            ctrl.due(ctrl.sim(current)["seen"] + _deadline(ctrl, spec) + 0.01)
        previous = (dep.get("status") or {}).get("conditions")
        rs_ref = f'ReplicaSet "{rs_name}"'
        conds = [
            condition(
                previous,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                update_time=True,
            )
            if ready >= available_needed
            else condition(
                previous,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                update_time=True,
            ),
            condition(
                previous,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f"{rs_ref} has successfully progressed.",
                update_time=True,
            )
            if complete
            else condition(
                previous,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f"{rs_ref} has timed out progressing.",
                update_time=True,
            )
            if time.monotonic() - ctrl.sim(current)["seen"] > _deadline(ctrl, spec)
            else condition(
                previous, "Progressing", "True", "ReplicaSetUpdated", f"{rs_ref} is progressing.", update_time=True
            ),
        ]
        status: Obj = {"observedGeneration": meta.get("generation", 1)}
        if pods:
            status["replicas"] = len(pods)
            status["updatedReplicas"] = len(pods)
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        if replicas - ready > 0:
            status["unavailableReplicas"] = replicas - ready
        rs_failure = next(
            (c for c in (current.get("status") or {}).get("conditions") or [] if c["type"] == "ReplicaFailure"),
            None,
        )
        if rs_failure:
            conds.append(condition(previous, "ReplicaFailure", "True", "FailedCreate", rs_failure.get("message")))
        status["conditions"] = conds
        ctrl.set_status(DEPLOY, dep, status)


def _deadline(ctrl: Controllers, spec: Obj) -> float:
    override = ctrl.c.scenario.progress_deadline
    return float(override if override is not None else spec.get("progressDeadlineSeconds", 600))


def _max_unavailable(spec: Obj, replicas: int) -> int:
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return int(replicas * int(value[:-1]) / 100)
    return int(value)
