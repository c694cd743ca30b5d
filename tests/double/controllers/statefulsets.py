"""The StatefulSet controller: pods `NAME-0`, `NAME-1`, … one at a time, each waiting for the one before to be ready
unless `podManagementPolicy: Parallel`; a template change replaces them (new `controller-revision-hash`); each
pod's PersistentVolumeClaims from `volumeClaimTemplates` (kubernetes/kubernetes
pkg/controller/statefulset/stateful_set_control.go, stateful_pod_control.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.cluster import Obj
from tests.double.controllers.common import (
    POD,
    PVC,
    STS,
    pod_ready,
)
from tests.double.controllers.pods import admit_pod, pod_from_template
from tests.double.merge import clone

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    for sts in ctrl.c.list(STS):
        meta = sts["metadata"]
        if "deletionTimestamp" in meta:
            continue
        spec = sts.get("spec") or {}
        template = spec.get("template") or {}
        revision = f"{meta['name']}-{ctrl.template_hash(sts)}"
        sim = ctrl.sim(sts)
        if sim.get("revision") != revision:
            if "revision" in sim:
                sim["delay"] = ctrl.delay_fresh(sts)
            sim["revision"] = revision
        replicas = spec.get("replicas", 1)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        pods = {p["metadata"]["name"]: p for p in ctrl.owned(POD, sts) if "deletionTimestamp" not in p["metadata"]}
        for name, pod in list(pods.items()):
            ordinal = int(name.rsplit("-", 1)[1])
            if ordinal >= replicas or pod["metadata"]["labels"].get("controller-revision-hash") != revision:
                ctrl.c.delete_object(POD, pod)
                del pods[name]
        for i in range(replicas):
            name = f"{meta['name']}-{i}"
            if name in pods:
                if not parallel and not pod_ready(pods[name]):
                    break
                continue
            _claims(ctrl, sts, i)
            labels = {"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": name}
            if ctrl.c.scenario.minor >= 28:
                labels["apps.kubernetes.io/pod-index"] = str(i)
            pod = pod_from_template(ctrl, sts, "StatefulSet", template, name, labels)
            pod["spec"].setdefault("hostname", name)
            created = admit_pod(ctrl, sts, "StatefulSet", pod, ctrl.delay(sts))
            if created is None or not parallel:
                break
            pods[name] = created
        pods = {p["metadata"]["name"]: p for p in ctrl.owned(POD, sts) if "deletionTimestamp" not in p["metadata"]}
        ready = sum(1 for p in pods.values() if pod_ready(p))
        status: Obj = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(pods),
            "currentReplicas": len(pods),
            "updatedReplicas": len(pods),
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        if ready:
            status["readyReplicas"] = ready
        if ctrl.c.scenario.minor >= 22:
            status["availableReplicas"] = ready
        ctrl.set_status(STS, sts, status)


def _claims(ctrl: Controllers, sts: Obj, ordinal: int) -> None:
    ns = sts["metadata"]["namespace"]
    for tpl in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
        name = f"{tpl['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"
        if ctrl.c.get(PVC, ns, name) is None:
            claim = clone(tpl)
            claim["apiVersion"], claim["kind"] = "v1", "PersistentVolumeClaim"
            claim["metadata"] = {
                "name": name,
                "namespace": ns,
                "labels": dict((sts["spec"].get("selector") or {}).get("matchLabels") or {}),
            }
            claim.pop("status", None)
            claim["spec"].setdefault("storageClassName", "standard")
            ctrl.create(PVC, claim)
