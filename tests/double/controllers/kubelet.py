"""The scheduler and the kubelet of the one node, one pass over the pods in creation order.

Scheduling: a pod fits when its requests (tests/double/controllers/common.py `pod_requests`) fit the node's
allocatable minus what the scheduled pods request, else it stays `Pending` with `PodScheduled=False`
`Unschedulable` and a `FailedScheduling` event (kubernetes/kubernetes
pkg/scheduler/framework/plugins/noderesources/fit.go). The kubelet then mounts its Secret and ConfigMap volumes
(`FailedMount` while one is missing), has its images pulled (tests/double/controllers/pulls.py) and writes the
container statuses and conditions (pkg/kubelet/status/generate.go), including pull failures, crash loops and
unmet `needs` (tests/double/controllers/crashloop.py) and the ends of Job pods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.double.cluster import Obj, now_iso
from tests.double.controllers.common import (
    POD,
    condition,
    go_duration,
    parse_quantity,
    pod_requests,
    qos,
    short_hash,
)
from tests.double.controllers.crashloop import crashed, last_crash, needs_unmet
from tests.double.controllers.pulls import pull_failed, pull_images
from tests.double.merge import clone

#: A container of a `crash_loop` image counts one more restart every this many seconds (the knob's documented pace).
CRASH_PERIOD = 1.0

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    s = ctrl.c.scenario
    node = ctrl.c.get(("", "Node"), "", s.node_name)
    allocatable = {k: parse_quantity(v) for k, v in ((node or {}).get("status") or {}).get("allocatable", {}).items()}
    pods = sorted(ctrl.c.list(POD), key=lambda p: int(p["metadata"]["resourceVersion"]))
    ctrl.images.advance(now, s.serialize_image_pulls)
    used: dict[str, float] = {}
    for pod in pods:
        sim = ctrl.sim(pod)
        if "scheduled_at" in sim and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            for k, v in pod_requests(pod["spec"]).items():
                used[k] = used.get(k, 0.0) + v
    for pod in pods:
        if "deletionTimestamp" in pod["metadata"]:
            continue
        sim = ctrl.sim(pod)
        if "scheduled_at" not in sim:
            requests = pod_requests(pod["spec"])
            short = [
                k
                for k in ("cpu", "memory", "nvidia.com/gpu")
                if requests.get(k, 0) > 0 and used.get(k, 0) + requests[k] > allocatable.get(k, 0) + 1e-9
            ]
            if short:
                _unschedulable(ctrl, pod, short)
                continue
            for k, v in requests.items():
                used[k] = used.get(k, 0.0) + v
            sim["scheduled_at"] = now
            sim["scheduled_iso"] = now_iso()
            sim["ip"] = ctrl.next_ip()
            if pod["spec"].get("nodeName") != s.node_name:
                new = clone(pod)
                new["spec"]["nodeName"] = s.node_name
                pod = ctrl.c.put(POD, new, "MODIFIED")
        if "mounted_at" not in sim:
            missing = _missing_volume(ctrl, pod)
            if missing is None:
                sim["mounted_at"] = now
            else:
                volume, kind, name = missing
                ctrl.event(
                    pod,
                    "Pod",
                    "FailedMount",
                    f'MountVolume.SetUp failed for volume "{volume}" : {kind} "{name}" not found',
                    component="kubelet",
                )
        if "mounted_at" in sim:
            pull_images(ctrl, pod, sim, now)
        ctrl.set_status(POD, pod, _pod_status(ctrl, pod, sim, now))
    ctrl.due(ctrl.images.next_change(s.serialize_image_pulls))


def _missing_volume(ctrl: Controllers, pod: Obj) -> tuple[str, str, str] | None:
    """The first secret/configMap volume whose object does not exist (the kubelet cannot mount it)."""
    ns = pod["metadata"]["namespace"]
    for volume in pod["spec"].get("volumes") or []:
        secret, config_map = volume.get("secret"), volume.get("configMap")
        if (
            secret
            and not secret.get("optional")
            and ctrl.c.get(("", "Secret"), ns, secret.get("secretName", "")) is None
        ):
            return volume.get("name", ""), "secret", secret.get("secretName", "")
        if (
            config_map
            and not config_map.get("optional")
            and ctrl.c.get(("", "ConfigMap"), ns, config_map.get("name", "")) is None
        ):
            return volume.get("name", ""), "configmap", config_map.get("name", "")
    return None


def _unschedulable(ctrl: Controllers, pod: Obj, short: list[str]) -> None:
    reasons = ", ".join(f"1 Insufficient {k}" for k in sorted(short))
    message = f"0/1 nodes are available: {reasons}."
    if ctrl.c.scenario.minor >= 24:
        message += " preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    previous = (pod.get("status") or {}).get("conditions")
    ctrl.set_status(
        POD,
        pod,
        {
            "phase": "Pending",
            "conditions": [condition(previous, "PodScheduled", "False", "Unschedulable", message, probe=True)],
            "qosClass": qos(pod["spec"]),
        },
    )
    ctrl.event(pod, "Pod", "FailedScheduling", message)


def _pod_status(ctrl: Controllers, pod: Obj, sim: dict[str, Any], now: float) -> Obj:
    s = ctrl.c.scenario
    spec = pod["spec"]
    previous = (pod.get("status") or {}).get("conditions")
    mounted = "mounted_at" in sim
    # with the image pull model, a pod whose images had to be pulled starts its delay once they are present
    pulled = not sim.get("pull_wait") or "pulled_at" in sim
    ready_at = max(
        sim["scheduled_at"] + sim.get("delay", 0.0),
        sim.get("mounted_at", 0.0),
        sim.get("pulled_at", 0.0) + sim.get("delay", 0.0),
    )
    containers = spec.get("containers") or []
    bad = [c for c in containers if s.image_fails(c.get("image", ""))]
    # an init container whose image cannot be pulled holds the whole pod back (PodInitializing)
    init_bad = [c for c in spec.get("initContainers") or [] if s.image_fails(c.get("image", ""))]
    crashing = [c for c in containers if s.image_crashes(c.get("image", ""))]
    job_like = spec.get("restartPolicy") in ("Never", "OnFailure")
    phase = "Pending"
    statuses = []
    started = mounted and pulled and now >= ready_at and not init_bad
    if mounted and pulled and not started:
        ctrl.due(ready_at)
    waiting_on_needs = started and not job_like and not bad and needs_unmet(ctrl, pod, sim, ready_at, now)
    finished = job_like and started and now >= ready_at + s.job_complete_delay and not bad and not crashing
    codes = {c["name"]: s.exit_code_for(c.get("image", "")) for c in containers}
    failed = finished and spec.get("restartPolicy") == "Never" and any(codes.values())
    succeeded = finished and not failed
    if job_like and started and not finished:
        ctrl.due(ready_at + s.job_complete_delay)
    for c in containers:
        image = c.get("image", "")
        st: Obj = {
            "name": c["name"],
            "image": image,
            "imageID": "",
            "ready": False,
            "restartCount": 0,
            "started": False,
        }
        if c in bad and mounted and now < sim["scheduled_at"] + 0.05:
            ctrl.due(sim["scheduled_at"] + 0.05)
        if c in bad and mounted and now >= sim["scheduled_at"] + 0.05:
            st["state"] = {"waiting": pull_failed(ctrl, pod, image, sim["scheduled_at"] + 0.05, now)}
        elif not started:
            st["state"] = {"waiting": {"reason": "PodInitializing" if init_bad else "ContainerCreating"}}
        elif c in crashing:
            restarts = 1 + int((now - ready_at) / CRASH_PERIOD)
            ctrl.due(ready_at + restarts * CRASH_PERIOD)
            crashed(ctrl, st, pod, c["name"], restarts, "10s", sim["scheduled_iso"])
        elif waiting_on_needs:
            restarts = sim["restarts"]
            backoff = go_duration(s.backoff(restarts))
            crashed(ctrl, st, pod, c["name"], restarts, backoff, sim["crashed_iso"])
        elif finished:
            st["state"] = {
                "terminated": {
                    "exitCode": codes[c["name"]],
                    "reason": "Error" if codes[c["name"]] else "Completed",
                    "startedAt": sim["scheduled_iso"],
                    "finishedAt": sim.setdefault("finished_iso", now_iso()),
                }
            }
            st["containerID"] = f"docker://{short_hash((pod['metadata']['uid'], c['name']), 64)}"
        else:
            sim.setdefault("started_iso", now_iso())
            st.update(ready=True, started=True)
            st["state"] = {"running": {"startedAt": sim["started_iso"]}}
            if sim.get("restarts"):  # it crash-looped for a need before this start
                st["restartCount"] = sim["restarts"]
                st["lastState"] = last_crash(pod, c["name"], sim["restarts"], sim["crashed_iso"])
            st["containerID"] = f"docker://{short_hash((pod['metadata']['uid'], c['name']), 64)}"
            st["imageID"] = f"docker-pullable://{image.split(':')[0]}@sha256:{short_hash(image, 64)}"
        statuses.append(st)
    all_ready = bool(statuses) and all(st["ready"] for st in statuses)
    if succeeded:
        phase = "Succeeded"
    elif failed:
        phase = "Failed"
    elif started and not bad:
        phase = "Running"
    not_ready = [st["name"] for st in statuses if not st["ready"]]
    if finished:
        ready_cond = ("False", "PodCompleted" if succeeded else "PodFailed", None)
    elif all_ready:
        ready_cond = ("True", None, None)
    else:
        ready_cond = ("False", "ContainersNotReady", f"containers with unready status: [{' '.join(not_ready)}]")
    initialized = ("True", "PodCompleted" if finished else None)
    if init_bad:
        names = " ".join(c["name"] for c in init_bad)
        initialized = ("False", "ContainersNotInitialized", f"containers with incomplete status: [{names}]")
    conds = [
        condition(previous, "Initialized", *initialized, probe=True),
        condition(previous, "Ready", *ready_cond, probe=True),
        condition(previous, "ContainersReady", *ready_cond, probe=True),
        condition(previous, "PodScheduled", "True", probe=True),
    ]
    status: Obj = {
        "phase": phase,
        "conditions": conds,
        "hostIP": "192.168.49.2",
        "podIP": sim["ip"],
        "podIPs": [{"ip": sim["ip"]}],
        "startTime": sim["scheduled_iso"],
        "containerStatuses": statuses,
        "qosClass": qos(spec),
    }
    if init_bad:
        first = sim.get("scheduled_at", now) + 0.05
        if mounted and now < first:
            ctrl.due(first)
        status["initContainerStatuses"] = [
            {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {
                    "waiting": pull_failed(ctrl, pod, c.get("image", ""), first, now)
                    if mounted and now >= first
                    else {"reason": "PodInitializing"}
                },
            }
            for c in init_bad
        ]
    return status
