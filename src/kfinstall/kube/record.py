"""The install record: what `up` applied, kept in the cluster itself.

Keeping it in the cluster (a ConfigMap in kube-system, which exists on every cluster from the start) means
the record lives and dies with the cluster: a re-run on the same cluster skips what is applied, unchanged and
ready; a fresh cluster starts from nothing; `status` and `down` on another machine see the same truth.

The record is read with pydantic (as the pins are) against its `schema_version`: a record of the wrong shape
(edited by hand, written by a broken tool) or from a newer kfinstall is *unreadable*, never a traceback, and it
must not block the way out: `status` says so and shows what the labels tell, `up` treats it as no record
(re-applies everything, then writes a good one), `down` deletes by label as always.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from kfinstall.errors import KfError
from kfinstall.kube.classify import classify_apply_failure
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests.login import DEFAULT_EMAIL

NAMESPACE = "kube-system"
NAME = "kfinstall-install"
FIELD_MANAGER = "kfinstall-record"
#: Pauses between tries of a record write the cluster answered with a race or an outage (a 503, a restart).
SAVE_RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0)
#: The shape of the record this kfinstall writes and reads. A record without the field predates it and has
#: version 1's shape. Bump it (and read the older shapes) when a field changes meaning or type.
SCHEMA_VERSION = 1


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
    email: str = DEFAULT_EMAIL
    components: dict[str, ComponentRecord] = field(default_factory=dict)
    #: Component ids in install (dependency) order: `down` removes them in reverse.
    order: list[str] = field(default_factory=list)
    #: While an upgrade runs (set when it starts, cleared when it finished pruning): the release it upgrades from
    #: and the components installed then, so that an interrupted upgrade resumes as one (install/upgrade.py).
    upgrading_from: str | None = None
    upgrading_components: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> InstallRecord:
        """The record in `text`; UnreadableRecord when it is not one of this kfinstall's shape."""
        try:
            data: Any = json.loads(text)
        except ValueError as error:
            raise UnreadableRecord(f"it is not JSON ({error})") from None
        if not isinstance(data, dict):
            raise UnreadableRecord(f"it is a JSON {type(data).__name__}, not an object")
        version = data.get("schema_version", 1)
        if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
            raise UnreadableRecord(
                f"it has schema version {version}, written by a newer kfinstall (this one reads {SCHEMA_VERSION})"
            )
        try:
            return _RECORD.validate_python(data)
        except ValidationError as error:
            raise UnreadableRecord(_describe(error)) from None


#: Lax as pydantic is by default for dataclasses (unknown keys ignored, so an older kfinstall reads a record with
#: fields added later), strict about the types of the fields it knows.
_RECORD: TypeAdapter[InstallRecord] = TypeAdapter(InstallRecord)


def _describe(error: ValidationError) -> str:
    """`components.katib: Input should be an object` for the first few problems (pydantic's own words)."""
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "the record"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


class UnreadableRecord(KfError):
    """The record exists but is not of this kfinstall's shape (`problem` says how)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(
            f"the install record (ConfigMap {NAMESPACE}/{NAME}) is unreadable: {problem}",
            "`kfinstall up` re-applies every component and writes a new record; "
            "`kfinstall down --keep-cluster` removes what kfinstall labelled and keeps the cluster",
        )


@dataclass(frozen=True)
class Reading:
    """What `read_lenient` found: the record, or None and (when there is a record kfinstall cannot read) why."""

    record: InstallRecord | None
    problem: str | None = None


def read_lenient(kubectl: Kubectl) -> Reading:
    """The record on the cluster; an unreadable one is reported in `problem` instead of raised."""
    try:
        return Reading(read(kubectl))
    except UnreadableRecord as error:
        return Reading(None, error.problem)


def read(kubectl: Kubectl) -> InstallRecord | None:
    """The record on the cluster, or None when kfinstall never installed there; UnreadableRecord when the
    ConfigMap is there but its `install.json` is not a record of this kfinstall's shape."""
    result = kubectl.run("get", "configmap", NAME, "-n", NAMESPACE, "-o", "json", "--ignore-not-found")
    if not result.ok:
        raise KfError(f"cannot read the install record: {result.output}", "is the cluster running? `kfinstall status`")
    if not result.stdout.strip():
        return None
    try:
        data = json.loads(result.stdout).get("data") or {}
    except (ValueError, AttributeError):
        raise UnreadableRecord("kubectl did not print the ConfigMap as a JSON object") from None
    text = data.get("install.json") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise UnreadableRecord("it has no install.json")
    return InstallRecord.from_json(text)


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
            for pause in SAVE_RETRY_PAUSES:  # a 503 or a restarting API server is no reason to lose the record
                if result.ok or not classify_apply_failure(result.output, result.exit_code).retryable:
                    break
                time.sleep(pause)
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
