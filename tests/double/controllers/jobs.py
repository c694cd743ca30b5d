"""The Job controller: one pod (`restartPolicy: Never` unless set), `Complete` once it succeeded (with
`SuccessCriteriaMet` from 1.29, `ready` from 1.24; kubernetes/kubernetes pkg/controller/job/job_controller.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.cluster import now_iso
from tests.double.controllers.common import (
    ALPHABET,
    JOB,
    POD,
    condition,
    pod_ready,
)
from tests.double.controllers.pods import admit_pod, pod_from_template
from tests.double.merge import clone

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    for job in ctrl.c.list(JOB):
        meta = job["metadata"]
        if "deletionTimestamp" in meta:
            continue
        pods = ctrl.owned(POD, job)
        status = dict(job.get("status") or {})
        if any(c.get("type") == "Complete" for c in status.get("conditions") or []):
            continue
        if not pods:
            template = clone((job.get("spec") or {}).get("template") or {})
            template.setdefault("spec", {}).setdefault("restartPolicy", "Never")
            labels = {"controller-uid": meta["uid"], "job-name": meta["name"]}
            if ctrl.c.scenario.minor >= 27:
                labels.update(
                    {
                        "batch.kubernetes.io/controller-uid": meta["uid"],
                        "batch.kubernetes.io/job-name": meta["name"],
                    }
                )
            name = f"{meta['name']}-{''.join(ctrl.c.rng.choices(ALPHABET, k=5))}"
            pod = pod_from_template(ctrl, job, "Job", template, name, labels)
            created = admit_pod(ctrl, job, "Job", pod, ctrl.delay(job))
            if created is None:
                continue
            pods = [created]
        status.setdefault("startTime", now_iso())
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        if succeeded:
            status.pop("active", None)
            status["succeeded"] = succeeded
            status["completionTime"] = now_iso()
            status["conditions"] = [condition(None, "Complete", "True", probe=True)]
            if ctrl.c.scenario.minor >= 29:
                status["conditions"].insert(0, condition(None, "SuccessCriteriaMet", "True", probe=True))
        else:
            status["active"] = len(pods)
        if ctrl.c.scenario.minor >= 24:
            status["ready"] = sum(1 for p in pods if pod_ready(p))
        ctrl.set_status(JOB, job, status)
