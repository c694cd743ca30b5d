"""minikube's storage-provisioner: every PersistentVolumeClaim is `Bound` to a volume of its own `pvc_bind_delay`
after it appeared (kubernetes/minikube pkg/storage/storage_provisioner.go, the hostpath provisioner).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.controllers.common import (
    PVC,
)
from tests.double.merge import clone

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    for pvc in ctrl.c.list(PVC):
        if (pvc.get("status") or {}).get("phase") == "Bound" or "deletionTimestamp" in pvc["metadata"]:
            continue
        if now - ctrl.sim(pvc)["seen"] < ctrl.c.scenario.pvc_bind_delay:
            ctrl.due(ctrl.sim(pvc)["seen"] + ctrl.c.scenario.pvc_bind_delay)
            continue
        spec = pvc.get("spec") or {}
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        volume = f"pvc-{pvc['metadata']['uid']}"
        if spec.get("volumeName") != volume:
            new = clone(pvc)
            new["spec"]["volumeName"] = volume
            new["spec"].setdefault("storageClassName", "standard")
            pvc = ctrl.c.put(PVC, new, "MODIFIED")
        ctrl.set_status(
            PVC,
            pvc,
            {
                "phase": "Bound",
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "capacity": {"storage": storage},
            },
        )
