"""CrashLoopBackOff: the container status and the kubelet's `BackOff` event of a container that crashed, and the
`needs` knob (a pod crashes at each start while a workload it needs is not ready, restarted after the kubelet's
back-off; kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_manager.go `doBackOff`).
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from tests.double.cluster import Obj, now_iso
from tests.double.controllers.common import (
    DEPLOY,
    DS,
    RS,
    STS,
    short_hash,
    workload_ready,
)

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def crashed(
    ctrl: Controllers, st: Obj, pod: Obj, container: str, restarts: int, backoff: str, crashed_iso: str
) -> None:
    """Render a container waiting in CrashLoopBackOff after `restarts` crashes (status and the kubelet's event)."""
    meta = pod["metadata"]
    st["restartCount"] = restarts
    ctrl.event(
        pod,
        "Pod",
        "BackOff",
        f"Back-off restarting failed container {container} in pod {meta['name']}_{meta['namespace']}({meta['uid']})",
        component="kubelet",
    )
    st["state"] = {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off {backoff} restarting failed container={container} "
            f"pod={meta['name']}_{meta['namespace']}({meta['uid']})",
        }
    }
    st["lastState"] = last_crash(pod, container, restarts, crashed_iso)
    st["containerID"] = f"docker://{short_hash((meta['uid'], container), 64)}"


def last_crash(pod: Obj, container: str, restarts: int, crashed_iso: str) -> Obj:
    return {
        "terminated": {
            "containerID": f"docker://{short_hash((pod['metadata']['uid'], container, restarts), 64)}",
            "exitCode": 1,
            "reason": "Error",
            "startedAt": crashed_iso,
            "finishedAt": crashed_iso,
        }
    }


def needs_unmet(ctrl: Controllers, pod: Obj, sim: dict[str, Any], ready_at: float, now: float) -> bool:
    """Whether a started pod is crash-looping because a workload it `needs` is not ready (kubelet back-off).

    The first start is at `ready_at`; each start that finds a need missing or unready is a crash, and the next
    start is `Scenario.backoff(restarts)` later: at once after the first crash (so that start crashes too, in the
    same instant: the double's containers crash the moment they start), then 10 s, 20 s ... A deleted pod's
    replacement is a new pod with a new sim: no back-off (the kubelet's key holds the pod's UID). The needs are
    checked only at starts; once met, the pod stays up.
    """
    if sim.get("needs_met"):
        return False
    attempt = sim.get("attempt_at", ready_at)
    if now < attempt:
        ctrl.due(attempt)
        return True
    workload = _workload_of(ctrl, pod)
    needs = ctrl.c.scenario.needs_for(*workload) if workload else []
    if all(_needed_ready(ctrl, pattern) for pattern in needs):
        sim["needs_met"] = True
        sim["started_iso"] = now_iso()
        return False
    restarts = sim["restarts"] = sim.get("restarts", 0) + 1
    backoff = ctrl.c.scenario.backoff(restarts)
    if backoff <= 0 and restarts == 1:  # restarted at once (Scenario.backoff), it finds the same needs unmet
        restarts = sim["restarts"] = 2
        backoff = ctrl.c.scenario.backoff(restarts)
    backoff = max(backoff, 0.01)
    sim["attempt_at"] = attempt + backoff if attempt + backoff > now else now + backoff
    sim["crashed_iso"] = now_iso()
    ctrl.due(sim["attempt_at"])
    return True


def _workload_of(ctrl: Controllers, pod: Obj) -> tuple[str, str] | None:
    """(namespace, name) of the Deployment, StatefulSet or DaemonSet a pod belongs to."""
    meta = pod["metadata"]
    ns = meta.get("namespace", "")
    ref = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if ref is None:
        return None
    if ref.get("kind") in ("StatefulSet", "DaemonSet"):
        return ns, ref["name"]
    if ref.get("kind") == "ReplicaSet":
        rs = ctrl.c.get(RS, ns, ref["name"])
        owner = next(
            (r for r in (rs or {}).get("metadata", {}).get("ownerReferences") or [] if r.get("controller")), None
        )
        if owner is not None and owner.get("kind") == "Deployment":
            return ns, owner["name"]
    return None


def _needed_ready(ctrl: Controllers, pattern: str) -> bool:
    """Some workload matches the "namespace/name" pattern and every match has all its desired replicas ready."""
    matched = [
        (gk, obj)
        for gk in (DEPLOY, STS, DS)
        for obj in ctrl.c.list(gk)
        if fnmatch.fnmatchcase(f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}", pattern)
    ]
    return bool(matched) and all(workload_ready(gk, obj) for gk, obj in matched)
