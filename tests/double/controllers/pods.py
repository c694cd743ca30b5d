"""Creating pods as the workload controllers do: from the owner's template with the API server's defaults, through
admission (webhooks such as istio's sidecar injector apply to them; a refusal is recorded on the owner and retried
on a later pass, with a `FailedCreate` event; kubernetes/kubernetes pkg/controller/controller_utils.go).
"""

from __future__ import annotations

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
    rt = ctrl.c.type_for_kind("", "Pod")
    assert rt is not None
    try:
        ctrl.c.admit(rt, ns, pod, "CREATE")
    except errors.ApiError as exc:
        ctrl.sim(owner)["create_error"] = exc.message
        ctrl.event(
            owner,
            kind,
            "FailedCreate",
            f"Error creating: {exc.message}",
            component="replicaset-controller" if kind == "ReplicaSet" else f"{kind.lower()}-controller",
        )
        return None
    ctrl.sim(owner).pop("create_error", None)
    return new_pod(ctrl, pod, delay)


def new_pod(ctrl: Controllers, pod: Obj, delay: float) -> Obj:
    pod["status"] = {"phase": "Pending", "qosClass": qos(pod["spec"])}
    created = ctrl.create(POD, pod)
    created = ctrl.set_status(POD, created, {"phase": "Pending", "qosClass": qos(pod["spec"])})
    ctrl.sim(created)["delay"] = delay
    return created
