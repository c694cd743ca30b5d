"""The install record: what `up` applied, kept in the cluster itself.

Keeping it in the cluster (a ConfigMap in kube-system, which exists on every cluster from the start) means
the record lives and dies with the cluster: a re-run on the same cluster skips what is applied, unchanged and
ready; a fresh cluster starts from nothing; `status` and `down` on another machine see the same truth.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from kfinstall.errors import KfError
from kfinstall.kube import Kubectl

NAMESPACE = "kube-system"
NAME = "kfinstall-install"
FIELD_MANAGER = "kfinstall-record"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class ComponentRecord:
    """One applied component: the hash of what was applied, and when it was applied and became ready."""

    hash: str
    applied_at: str
    ready_at: str | None = None


@dataclass
class InstallRecord:
    release: str
    commit: str | None
    profile: str
    kfinstall_version: str
    started_at: str
    finished_at: str | None = None
    minikube_profile: str | None = None
    default_password: bool = True
    email: str = "user@example.com"
    components: dict[str, ComponentRecord] = field(default_factory=dict)
    #: Component ids in install (dependency) order: `down` removes them in reverse.
    order: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> InstallRecord:
        data: dict[str, Any] = json.loads(text)
        components = {key: ComponentRecord(**value) for key, value in (data.pop("components", {}) or {}).items()}
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known, components=components)


def read(kubectl: Kubectl) -> InstallRecord | None:
    """The record on the cluster, or None when kfinstall never installed there."""
    result = kubectl.run("get", "configmap", NAME, "-n", NAMESPACE, "-o", "json", "--ignore-not-found")
    if not result.ok:
        raise KfError(f"cannot read the install record: {result.output}", "is the cluster running? `kfinstall status`")
    if not result.stdout.strip():
        return None
    data = json.loads(result.stdout).get("data") or {}
    try:
        return InstallRecord.from_json(data.get("install.json", ""))
    except (ValueError, TypeError):
        return None


class RecordWriter:
    """Writes the record after each step; safe to call from the threads that install components in parallel."""

    def __init__(self, kubectl: Kubectl, record: InstallRecord, *, coalesce: float = 0.0) -> None:
        """`coalesce` > 0: progress (`applied`, `ready`) is written at most that many seconds later, in one write
        for everything that happened meanwhile: during a parallel install a write per step would take a kubectl
        process from the components each time. `save` and `flush` write at once."""
        self.kubectl = kubectl
        self.record = record
        self.coalesce = coalesce
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def flush(self) -> None:
        """Write now if progress is waiting to be written."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            self.save()

    def _progress(self) -> None:
        if self.coalesce <= 0:
            self.save()
            return
        with self._lock:
            if self._timer is not None:
                return
            self._timer = threading.Timer(self.coalesce, self._write_later)
            self._timer.daemon = True
            self._timer.start()

    def _write_later(self) -> None:
        with self._lock:
            if self._timer is None:
                return  # flushed meanwhile
            self._timer = None
        with contextlib.suppress(KfError):  # the next write (or the final one, which raises) carries it too
            self.save()

    def save(self) -> None:
        """Write the whole record now (this write carries any progress still waiting)."""
        with self._write_lock:  # writes in order; a component thread only waits for `_lock`, never for a write
            with self._lock:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                payload = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": NAME,
                        "namespace": NAMESPACE,
                        "labels": {"app.kubernetes.io/managed-by": "kfinstall"},
                    },
                    "data": {"install.json": self.record.to_json()},
                }
            result = self.kubectl.apply(json.dumps(payload), field_manager=FIELD_MANAGER, timeout=60)
        if not result.ok:
            raise KfError(f"cannot write the install record: {result.output}", "is the cluster running?")

    def applied(self, component: str, content_hash: str) -> None:
        with self._lock:
            self.record.components[component] = ComponentRecord(content_hash, now())
        self._progress()

    def ready(self, component: str) -> None:
        """Record that `component` is ready; one already recorded ready (unchanged since) costs no write."""
        with self._lock:
            entry = self.record.components[component]
            if entry.ready_at is not None:
                return
            entry.ready_at = now()
        self._progress()


def delete(kubectl: Kubectl) -> None:
    kubectl.run("delete", "configmap", NAME, "-n", NAMESPACE, "--ignore-not-found")
