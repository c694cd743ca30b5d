"""What the simulated controllers share: the kinds they handle, quantities, conditions, readiness and names.

Pure functions over objects (no cluster, no clock but `now_iso` in conditions), so tests/double/test_units.py can
check them alone and tests/double/timeline.py can judge readiness the way the controllers write it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from tests.double.cluster import GK, Obj, now_iso

POD: GK = ("", "Pod")
NS: GK = ("", "Namespace")
DEPLOY: GK = ("apps", "Deployment")
RS: GK = ("apps", "ReplicaSet")
STS: GK = ("apps", "StatefulSet")
DS: GK = ("apps", "DaemonSet")
JOB: GK = ("batch", "Job")
SVC: GK = ("", "Service")
EP: GK = ("", "Endpoints")
PVC: GK = ("", "PersistentVolumeClaim")
CRD: GK = ("apiextensions.k8s.io", "CustomResourceDefinition")
EVENT: GK = ("", "Event")

#: The characters of generated name suffixes (pod-template-hash, pod names).
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


#: Byte b of a digest as the suffix character ALPHABET[b % len(ALPHABET)] (`bytes.translate`, one C call).
_SUFFIX_CHARS = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(256))


def short_hash(data: Any, n: int = 10) -> str:
    """n suffix characters from the SHA-256 of `data` as sorted-key JSON (a tuple hashes as the list it encodes as).

    The controllers hash the same pod names and images on every pass, so hashable data is answered from a cache."""
    if isinstance(data, (str, tuple)):
        try:
            return _short_hash_cached(data, n)
        except TypeError:  # a tuple holding a list or dict
            pass
    return _short_hash(data, n)


def _short_hash(data: Any, n: int) -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()
    return digest[:n].translate(_SUFFIX_CHARS).decode()


_short_hash_cached = functools.lru_cache(maxsize=65536)(_short_hash)


def parse_quantity(value: Any) -> float:
    """A Kubernetes quantity as a float (cpu in cores, memory in bytes)."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    suffixes = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "Pi": 2**50,
        "Ei": 2**60,
        "n": 1e-9,
        "u": 1e-6,
        "m": 1e-3,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "P": 1e15,
        "E": 1e18,
    }
    for suffix in sorted(suffixes, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * suffixes[suffix]
    return float(text)


def _container_requests(container: Obj) -> dict[str, float]:
    resources = container.get("resources") or {}
    requests = dict(resources.get("limits") or {})  # a limit alone also sets the request
    requests.update(resources.get("requests") or {})
    return {k: parse_quantity(v) for k, v in requests.items() if k in ("cpu", "memory", "nvidia.com/gpu")}


def pod_requests(spec: Obj) -> dict[str, float]:
    """What the scheduler counts: the containers' sum, or the largest init container if that is more."""
    total: dict[str, float] = {}
    for container in spec.get("containers") or []:
        for name, qty in _container_requests(container).items():
            total[name] = total.get(name, 0.0) + qty
    for container in spec.get("initContainers") or []:
        for name, qty in _container_requests(container).items():
            total[name] = max(total.get(name, 0.0), qty)
    return total


def condition(
    previous: list[Obj] | None,
    ctype: str,
    status: str,
    reason: str | None = None,
    message: str | None = None,
    probe: bool = False,
    update_time: bool = False,
) -> Obj:
    """A status condition keeping lastTransitionTime when the status did not change."""
    old = next((c for c in previous or [] if c.get("type") == ctype), None)
    stamp = old["lastTransitionTime"] if old and old.get("status") == status and "lastTransitionTime" in old else None
    out: Obj = {"type": ctype, "status": status}
    if probe:
        out["lastProbeTime"] = None
    if update_time:
        out["lastUpdateTime"] = (old or {}).get("lastUpdateTime") if stamp else None
        out["lastUpdateTime"] = out["lastUpdateTime"] or now_iso()
    out["lastTransitionTime"] = stamp or now_iso()
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def workload_ready(gk: GK, obj: Obj) -> bool:
    """All desired replicas ready, from the status the simulated controllers wrote (a deleted one is not)."""
    if "deletionTimestamp" in obj["metadata"]:
        return False
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    if gk == DS:
        return bool(status) and status.get("numberReady", 0) >= status.get("desiredNumberScheduled", 1)
    return status.get("readyReplicas", 0) >= spec.get("replicas", 1)


def go_duration(seconds: float) -> str:
    """A duration as Go's time.Duration prints it (the kubelet's `back-off 5m0s`): 300ms, 10s, 1m20s, 5m0s."""
    if seconds < 1:
        return f"{round(seconds * 1000, 6):g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    return f"{int(minutes)}m{text}" if minutes else text


def pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def qos(spec: Obj) -> str:
    containers = spec.get("containers") or []
    if not any(
        (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") for c in containers
    ):
        return "BestEffort"
    guaranteed = all(
        (c.get("resources") or {}).get("limits", {}).get(r) is not None
        and str((c.get("resources") or {}).get("requests", {}).get(r, c["resources"]["limits"][r]))
        == str(c["resources"]["limits"][r])
        for c in containers
        for r in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"
