"""One shared, continuously updated view of an install's labelled workloads and of the cluster's endpoints.

Instead of every component in flight polling `kubectl get` a few times a second, `ClusterWatch` keeps one view
current with one background kubectl per resource (Deployments, StatefulSets, DaemonSets by label; Endpoints), so a
workload's readiness is seen within milliseconds of the API server reporting it, at no cost between changes.

Each resource is watched the way client-go's informers do it: a list (`kubectl get --raw <path>`) that replaces the
resource's view at once and gives a resourceVersion, then a watch from exactly that version
(`kubectl get --raw '<path>?watch=true&resourceVersion=RV'`, which kubectl streams line by line). Not
`kubectl get --watch --output-watch-events`: it prints its initial list as ADDED events, indistinguishable from
the changes that follow, so neither "the view is complete" (`synced`) nor "an object not listed again is gone"
could be known. A watch that ends (API server restart, `resync` timeout, kubectl killed) is started again with a
new list, after a short backoff (0.2 s doubling to 2 s while the API server does not answer).

Caveat for the log file: `runner.start` logs every line, and a raw event is the whole object (status, managed
fields) — still far less than polling, which logged a component's whole list every 0.3 s.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from kfinstall import runner
from kfinstall.errors import Interrupted
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests.objects import COMPONENT_LABEL

Obj = dict[str, Any]
Key = tuple[str, str]

log = logging.getLogger("kfinstall.kube.watch")

#: Seconds between restarts of a watch that failed: doubling from the first to the second.
BACKOFF = (0.2, 2.0)
#: A watch that ran at least this long counted as healthy: the next restart waits the shortest backoff again.
_HEALTHY_AFTER = 1.0
#: How long one list may take (kubectl's own request timeout; the process is stopped a little later).
LIST_TIMEOUT = 20.0


@dataclass(frozen=True)
class _Resource:
    """One watched resource: its API path and the kind its objects have (raw list items carry no kind)."""

    name: str
    path: str
    kind: str
    api_version: str
    labelled: bool


_WORKLOADS = (
    _Resource("deployments.apps", "/apis/apps/v1/deployments", "Deployment", "apps/v1", True),
    _Resource("statefulsets.apps", "/apis/apps/v1/statefulsets", "StatefulSet", "apps/v1", True),
    _Resource("daemonsets.apps", "/apis/apps/v1/daemonsets", "DaemonSet", "apps/v1", True),
)
_ENDPOINTS = _Resource("endpoints", "/api/v1/endpoints", "Endpoints", "v1", False)
#: Pods (opt-in, `pods=True`): `up` shows a pod's problem (ImagePullBackOff, CrashLoopBackOff, unschedulable) on its
#: component's row as soon as the kubelet or the scheduler writes it to the pod's status.
_PODS = _Resource("pods", "/api/v1/pods", "Pod", "v1", False)


@dataclass(frozen=True)
class WatchSnapshot:
    """The view at one moment.

    `workloads`: labelled Deployments/StatefulSets/DaemonSets by the value of their component label (the shape of
    the installer's `_Snapshot.workloads`); `endpoints`: by (namespace, name); `generation` grows with every
    change; `synced`: every resource has delivered its first complete list — before that, an object missing from
    the view may exist, so "not created yet" must not be concluded from an unsynced view.
    """

    generation: int
    workloads: dict[str, list[Obj]] = field(default_factory=dict)
    endpoints: dict[Key, Obj] = field(default_factory=dict)
    synced: bool = False
    #: Every pod by (namespace, name), when the watch was made with `pods=True` (else empty).
    pods: dict[Key, Obj] = field(default_factory=dict)


class _JsonStream:
    """Complete JSON documents out of output lines: one per line as kubectl --raw prints them, or spread over
    several lines (pretty-printed). Lines outside a document (kubectl's warnings on stderr) are left out."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = json.JSONDecoder()

    def feed(self, line: str) -> list[Obj]:
        if not self._buffer and not line.lstrip().startswith("{"):
            return []  # a diagnostic line, e.g. `Warning: v1 Endpoints is deprecated`
        if self._buffer and line.startswith("{"):
            log.warning("dropping an incomplete JSON document from kubectl: %.200s", self._buffer)
            self._buffer = ""
        self._buffer += line + "\n"
        documents: list[Obj] = []
        while self._buffer.strip():
            text = self._buffer.lstrip()
            try:
                document, end = self._decoder.raw_decode(text)
            except json.JSONDecodeError:
                break  # incomplete: wait for more lines
            self._buffer = text[end:]
            if isinstance(document, dict):
                documents.append(document)
        if not self._buffer.strip():
            self._buffer = ""
        return documents


class ClusterWatch:
    """One shared, continuously updated view of the labelled workloads (and endpoints) of an install.

    ```
    with ClusterWatch(kubectl).start() as watch:
        view = watch.snapshot()
        while not done(view):
            view = watch.wait_newer(view.generation, timeout=1.0)
    ```
    While a resource's watch is down (between a drop and the next list) its part of the view keeps its last
    state, and `synced` stays true once it has been true: the view is then older, never incomplete.
    """

    def __init__(
        self,
        kubectl: Kubectl,
        *,
        label: str = COMPONENT_LABEL,
        endpoints: bool = True,
        pods: bool = False,
        resync: float = 300.0,
    ) -> None:
        self.kubectl = kubectl
        self.label = label
        #: Seconds after which the API server ends a watch (it is then listed and watched again): a safety net.
        self.resync = resync
        self._resources = (*_WORKLOADS, *((_ENDPOINTS,) if endpoints else ()), *((_PODS,) if pods else ()))
        self._cond = threading.Condition()
        self._objects: dict[str, dict[Key, Obj]] = {resource.name: {} for resource in self._resources}
        self._synced: set[str] = set()
        self._generation = 0
        #: Pod changes are counted apart and wake no waiter: pods change far more often than workloads, and a
        #: waiter woken at each would redo its checks (kubectl calls) many times a second; it sees them at its next
        #: wake (a workload's change, or its poll interval).
        self._pod_changes = 0
        self._cached: WatchSnapshot | None = None
        self._cached_pods = 0
        self._stopping = threading.Event()
        self._processes: dict[int, runner.Background] = {}
        self._threads: list[threading.Thread] = []
        #: Resources whose last list failed (the API server did not answer, or the context is gone).
        self._failing: set[str] = set()

    # Lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> ClusterWatch:
        """Start listing and watching in the background (idempotent; a stopped watch stays stopped); kubectl missing
        raises here."""
        runner.require("kubectl")
        with self._cond:
            if self._threads or self._stopping.is_set():
                return self
            for resource in self._resources:
                thread = threading.Thread(
                    target=self._supervise, args=(resource,), name=f"clusterwatch-{resource.name}", daemon=True
                )
                self._threads.append(thread)
                thread.start()  # under the lock: `stop` never joins a thread not started yet
        return self

    def stop(self) -> None:
        """Stop every kubectl this watch started and its threads; idempotent. Waiters of `wait_newer` return."""
        self._stopping.set()
        with self._cond:
            processes = list(self._processes.values())
            self._cond.notify_all()
        stoppers = [threading.Thread(target=process.stop, daemon=True) for process in processes]
        for stopper in stoppers:
            stopper.start()
        for thread in [*stoppers, *self._threads]:
            if thread is not threading.current_thread():
                thread.join(timeout=15)

    def __enter__(self) -> ClusterWatch:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def failing(self) -> bool:
        """Did the last list of some resource fail? Waiters then ask whether the cluster is still there."""
        with self._cond:
            return bool(self._failing)

    def processes(self) -> list[runner.Background]:
        """The kubectl processes running for this watch right now (lists and watches)."""
        with self._cond:
            return list(self._processes.values())

    # The view --------------------------------------------------------------------------------------------

    def snapshot(self) -> WatchSnapshot:
        """The current view; never waits for the network."""
        with self._cond:
            if self._cached is None or (self._cached.generation, self._cached_pods) != (
                self._generation,
                self._pod_changes,
            ):
                self._cached, self._cached_pods = self._build(), self._pod_changes
            return self._cached

    def wait_newer(self, generation: int, timeout: float) -> WatchSnapshot:
        """The view once its generation is past `generation`, or as it is after `timeout` seconds (or a stop)."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation > generation or self._stopping.is_set(), timeout)
        return self.snapshot()

    def _build(self) -> WatchSnapshot:
        workloads: dict[str, list[Obj]] = {}
        for resource in _WORKLOADS:
            for _, obj in sorted(self._objects.get(resource.name, {}).items()):
                owner = ((obj.get("metadata") or {}).get("labels") or {}).get(self.label, "")
                workloads.setdefault(owner, []).append(obj)
        endpoints = dict(self._objects.get(_ENDPOINTS.name, {}))
        synced = len(self._synced) == len(self._resources)
        return WatchSnapshot(self._generation, workloads, endpoints, synced, dict(self._objects.get(_PODS.name, {})))

    def _changed(self) -> None:
        """Called with the condition held: a new generation, and every waiter wakes."""
        self._generation += 1
        self._cond.notify_all()

    def _replace(self, resource: _Resource, items: list[Obj]) -> None:
        objects = {_key(obj): _with_kind(obj, resource) for obj in items}
        with self._cond:
            self._objects[resource.name] = objects
            self._synced.add(resource.name)
            self._changed()

    def _apply(self, resource: _Resource, event: Obj) -> None:
        kind, obj = event.get("type"), event.get("object")
        if not isinstance(obj, dict) or kind not in ("ADDED", "MODIFIED", "DELETED"):
            if kind == "ERROR":
                log.info("watch of %s: %s", resource.name, (obj or {}).get("message", obj))
            return  # BOOKMARK, ERROR (the stream ends after it and is started again)
        with self._cond:
            objects = self._objects[resource.name]
            if kind == "DELETED":
                if objects.pop(_key(obj), None) is None:
                    return
            else:
                objects[_key(obj)] = _with_kind(obj, resource)
            if resource is _PODS:
                self._pod_changes += 1
            else:
                self._changed()

    # Background ------------------------------------------------------------------------------------------

    def _supervise(self, resource: _Resource) -> None:
        """List, watch from the list's version, and again when the watch ends, until stopped."""
        backoff = BACKOFF[0]
        while not self._stopping.is_set():
            started = time.monotonic()
            healthy = False
            try:
                version = self._list(resource)
                if version is not None:
                    exit_code = self._watch(resource, version)
                    healthy = time.monotonic() - started >= _HEALTHY_AFTER
                    if not self._stopping.is_set():
                        log.info("watch of %s ended (exit %s); listing again", resource.name, exit_code)
            except Interrupted:  # kfinstall is being stopped (runner refuses new processes): so is the view
                return
            except Exception:  # a thread that dies would leave the view silently stale
                log.exception("watch of %s failed", resource.name)
            if healthy:
                backoff = BACKOFF[0]
            if self._stopping.wait(backoff):
                return
            if not healthy:
                backoff = min(backoff * 2, BACKOFF[1])

    def _list(self, resource: _Resource) -> str | None:
        """Replace the resource's view with a fresh list; its resourceVersion, or None if the list failed."""
        lines: list[str] = []
        exit_code = self._run(
            ("--request-timeout", f"{LIST_TIMEOUT:g}s", "get", "--raw", self._path(resource)),
            lines.append,
            limit=LIST_TIMEOUT + 10,
        )
        if exit_code != 0:
            if exit_code is not None:
                with self._cond:
                    self._failing.add(resource.name)
            return None
        with self._cond:
            self._failing.discard(resource.name)
        stream = _JsonStream()
        for document in (document for line in lines for document in stream.feed(line)):
            if isinstance(document.get("items"), list):
                self._replace(resource, document["items"])
                return str((document.get("metadata") or {}).get("resourceVersion") or "0")
        return None

    def _watch(self, resource: _Resource, version: str) -> int | None:
        """Apply the resource's events from `version` on as they arrive; returns when the watch ends."""
        stream = _JsonStream()

        def on_line(line: str) -> None:
            for event in stream.feed(line):
                self._apply(resource, event)

        query = {"watch": "true", "resourceVersion": version, "timeoutSeconds": str(max(1, round(self.resync)))}
        return self._run(("get", "--raw", self._path(resource, query)), on_line, limit=self.resync + 30)

    def _path(self, resource: _Resource, query: dict[str, str] | None = None) -> str:
        params = {**({"labelSelector": self.label} if resource.labelled else {}), **(query or {})}
        return resource.path + ("?" + urllib.parse.urlencode(params) if params else "")

    def _run(self, args: tuple[str, ...], on_line: Callable[[str], None], *, limit: float) -> int | None:
        """Run kubectl in the background until it ends (stopped after `limit` seconds, or by `stop`).

        Registered so `stop` can end it; one started while `stop` runs is stopped here. None: not run.
        """
        if self._stopping.is_set():
            return None
        base = ("--context", self.kubectl.context) if self.kubectl.context else ()
        process = runner.start("kubectl", *base, *args, on_line=on_line)
        with self._cond:
            late = self._stopping.is_set()
            if not late:
                self._processes[id(process)] = process
        if late:
            process.stop()
            return None
        guard = threading.Timer(limit, process.stop)  # a connection that hangs without closing
        guard.daemon = True
        guard.start()
        try:
            return process.wait()
        finally:
            guard.cancel()
            with self._cond:
                self._processes.pop(id(process), None)
            with contextlib.suppress(Exception):
                if process.is_alive():
                    process.stop()


def _key(obj: Obj) -> Key:
    metadata = obj.get("metadata") or {}
    return (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _with_kind(obj: Obj, resource: _Resource) -> Obj:
    """Items of a raw list carry no kind/apiVersion; readiness() needs the kind."""
    if obj.get("kind"):
        return obj
    return {"kind": resource.kind, "apiVersion": resource.api_version, **obj}
