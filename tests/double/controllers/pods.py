"""Creating pods as the workload controllers do: from the owner's template with the API server's defaults, through
admission (webhooks such as istio's sidecar injector apply to them; a refusal is recorded on the owner, with a
`FailedCreate` event; kubernetes/kubernetes pkg/controller/controller_utils.go).

A refused owner is not retried at once: the ReplicaSet, StatefulSet, DaemonSet and Job controllers hand a failed
sync back to their work queue with `AddRateLimited` (e.g. pkg/controller/replicaset/replica_set.go
`processNextWorkItem`), whose `DefaultControllerRateLimiter` waits 5 ms doubling per consecutive failure up to
1000 s (client-go util/workqueue/default_rate_limiters.go `ItemExponentialFailureRateLimiter`), and `Forget`s the
count once a sync succeeds. A pod refused for a minute by a webhook without endpoints is so created up to about a
minute after the webhook serves, not the moment it does (`Scenario.create_retry`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tests.double import errors
from tests.double.cluster import Obj
from tests.double.controllers.common import (
    POD,
    qos,
)
from tests.double.merge import clone

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def pod_from_template(
    ctrl: Controllers, owner: Obj, kind: str, template: Obj, name: str, labels: dict[str, str]
) -> Obj:
    tmeta = template.get("metadata") or {}
    spec = clone(template.get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": owner["metadata"]["namespace"],
            "labels": {**(tmeta.get("labels") or {}), **labels},
            **({"annotations": dict(tmeta["annotations"])} if tmeta.get("annotations") else {}),
            "ownerReferences": [ctrl.owner_ref(owner, owner.get("apiVersion", "apps/v1"), kind)],
        },
        "spec": spec,
    }


def admit_pod(ctrl: Controllers, owner: Obj, kind: str, pod: Obj, delay: float) -> Obj | None:
    """Create a pod through admission like the controller-manager does; a webhook refusal is retried later."""
    ns = pod["metadata"]["namespace"]
    if not ctrl.ns_active(ns):
        return None
    sim = ctrl.sim(owner)
    now = time.monotonic()
    if now < sim.get("retry_at", 0.0):  # still in the work queue's back-off after a refused create
        ctrl.due(sim["retry_at"])
        return None
    rt = ctrl.c.type_for_kind("", "Pod")
    assert rt is not None
    try:
        ctrl.c.admit(rt, ns, pod, "CREATE")
    except errors.ApiError as exc:
        sim["create_error"] = exc.message
        sim["create_failures"] = failures = sim.get("create_failures", 0) + 1
        sim["retry_at"] = now + ctrl.c.scenario.create_retry(failures)
        ctrl.due(sim["retry_at"])
        ctrl.event(
            owner,
            kind,
            "FailedCreate",
            f"Error creating: {exc.message}",
            component="replicaset-controller" if kind == "ReplicaSet" else f"{kind.lower()}-controller",
        )
        return None
    for key in ("create_error", "create_failures", "retry_at"):  # the queue's Forget
        sim.pop(key, None)
    return new_pod(ctrl, pod, delay)


def new_pod(ctrl: Controllers, pod: Obj, delay: float) -> Obj:
    pod["status"] = {"phase": "Pending", "qosClass": qos(pod["spec"])}
    created = ctrl.create(POD, pod)
    created = ctrl.set_status(POD, created, {"phase": "Pending", "qosClass": qos(pod["spec"])})
    ctrl.sim(created)["delay"] = delay
    return created
