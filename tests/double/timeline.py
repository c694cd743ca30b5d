"""The readiness timeline: when each Deployment, StatefulSet and DaemonSet became ready or stopped being ready.

The cluster's own truth about readiness, for tests that judge an installer's ordering (a dependency was ready before
its dependents were applied) without guessing it from the installer's requests. One entry per transition, written as
the change is stored (not per controller pass), with the request log's clock (`time.time()`):
`{"time", "kind", "namespace", "name", "ready", "labels"}`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from tests.double.cluster import GK, Obj
from tests.double.controllers.common import DEPLOY, DS, STS, workload_ready

WORKLOADS = (DEPLOY, STS, DS)


def rolled_out(gk: GK, obj: Obj) -> bool:
    """All desired replicas ready (the status the simulated controllers wrote) for the current spec: a status of an
    older generation does not count, and a workload being deleted is not ready."""
    generation = obj["metadata"].get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    return (generation is None or (observed is not None and observed >= generation)) and workload_ready(gk, obj)


class Timeline:
    """Readiness transitions of workloads, in memory and (with a path) appended to a JSON-lines file."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._ready: dict[tuple[str, str, str], bool] = {}
        self._file = open(path, "a", buffering=1) if path is not None else None  # noqa: SIM115

    def observe(self, etype: str, gk: GK, obj: Obj) -> None:
        """A stored change (Cluster.observers): record it if it flips a workload's readiness."""
        if gk not in WORKLOADS:
            return
        meta = obj["metadata"]
        key = (gk[1], meta.get("namespace", ""), meta["name"])
        ready = etype != "DELETED" and rolled_out(gk, obj)
        with self._lock:
            was = self._ready.pop(key, False) if etype == "DELETED" else self._ready.get(key, False)
            if etype != "DELETED":
                self._ready[key] = ready
            if ready == was:
                return
            entry = {
                "time": time.time(),
                "kind": key[0],
                "namespace": key[1],
                "name": key[2],
                "ready": ready,
                "labels": dict(meta.get("labels") or {}),
            }
            self._entries.append(entry)
            if self._file is not None:
                self._file.write(json.dumps(entry) + "\n")

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
