"""Restart pods that sit out the kubelet's CrashLoopBackOff for something that has just become ready.

A container that exits because what it needs is not serving yet (KFP's api server without MySQL, Katib's
db-manager without katib-mysql: the pins' `runtime_needs`) is started again by the kubelet after a back-off that
begins at 10 s and doubles up to 5 min (kubernetes/kubernetes pkg/kubelet/kubelet.go `backOffPeriod`,
`MaxContainerBackOff`; pkg/kubelet/kuberuntime/kuberuntime_manager.go `doBackOff`). Once the need is ready the
pod can still wait minutes for its next start, and the component with it. Deleting the pod ends the wait: its
controller makes a new pod at once, and the kubelet keys the back-off by the pod's UID (`GetStableKey`: name,
namespace, UID, container), so the new pod's containers start with none. Nothing is lost by it: the deleted pod's
containers were not running, only waiting.

Which pods are restarted, so that the restart is only ever a shortcut of what the kubelet would do anyway:
- only pods of kfinstall's labelled workloads, and only of the workloads that wait on what became ready: a
  component's `runtime_needs` (another workload of the same component) or a component it `depends_on` (the whole
  dependency, ready as the installer judges it);
- only pods made before the need became ready, whose last crash came before it (a crash after it is not the
  need's fault), each at most once: a pod made after the need was ready, a replacement included, is never
  restarted, so a pod broken for another reason does not loop through deletions (the API server's timestamps
  are whole seconds: a pod made in the same second as the need's readiness is left to the kubelet);
- only while the kubelet still holds them back (the back-off left is what the restart saves).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kfinstall.install.events import Event, Reporter
from kfinstall.kube.readiness import crash_back_off, pod_ready, readiness, rfc3339_seconds
from kfinstall.kube.watch import WatchSnapshot

if TYPE_CHECKING:
    from kfinstall.install.waits import Waits
    from kfinstall.install.work import Work
    from kfinstall.kube.kubectl import Kubectl
    from kfinstall.release.pins import RuntimeDependency

Obj = dict[str, Any]

log = logging.getLogger("kfinstall.install.restarts")


@dataclass(frozen=True)
class Need:
    """Pods of `component`'s `workloads` (by name; empty: all of them) wait on `on_workload` of `on_component`, or
    on the whole of `on_component` when `on_workload` is None."""

    component: str
    workloads: frozenset[str]
    on_component: str
    on_workload: str | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.on_component, self.on_workload)

    @property
    def what(self) -> str:
        """What the pods wait on, as the restart event names it."""
        return self.on_workload or self.on_component


def needs_of(works: Iterable[Work], runtime_needs: Mapping[str, Sequence[RuntimeDependency]]) -> list[Need]:
    """The needs of an install: every component on each component it depends on (among `works`), and each
    component's own `runtime_needs`."""
    works = list(works)
    planned = {work.id for work in works}
    needs = [
        Need(work.id, frozenset(), dependency)
        for work in works
        for dependency in work.depends_on
        if dependency in planned
    ]
    for component, dependencies in runtime_needs.items():
        if component in planned:
            needs.extend(Need(component, frozenset(d.workloads), component, d.needs) for d in dependencies)
    return needs


@dataclass(frozen=True)
class Restart:
    """One pod to delete, and why: what became ready, and the seconds of back-off the kubelet had left."""

    component: str
    namespace: str
    pod: str
    uid: str
    because: str
    saved: float

    @property
    def message(self) -> str:
        return f"restarted {self.pod}: {self.because} is ready, skipping {duration(self.saved)} of back-off"


def duration(seconds: float) -> str:
    """`2m40s`, `40s`, `0.4s`: the back-off as the kubelet's messages write it, to the second."""
    if seconds < 1:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


@dataclass
class Restarts:
    """Which pods to restart, from successive views of the cluster (pure: the views and the clock come in).

    When a need became ready: a component, when the installer found it ready (`ready_components`); a workload, when
    a view first showed it ready. The first synced view is the baseline: a workload ready in it, like a component
    ready before the install (skipped as unchanged), became ready before kfinstall looked, so nothing is known of
    which crashes it caused, and it restarts nothing.
    """

    needs: Sequence[Need]
    #: When each workload need was first seen ready (epoch seconds; None: in the baseline). Absent: not ready.
    _ready_at: dict[tuple[str, str | None], float | None] = field(default_factory=dict)
    _restarted: set[str] = field(default_factory=set)
    _baseline: bool = True

    def look(self, view: WatchSnapshot, ready_components: Mapping[str, float | None], now: float) -> list[Restart]:
        """The pods to restart now (each once), given the view, when the installer found each component ready
        (None: before the install), and the time."""
        if not view.synced:
            return []
        for key in {need.key for need in self.needs if need.on_workload is not None}:
            if not _workload_ready(key, view):
                self._ready_at.pop(key, None)
            elif key not in self._ready_at:
                self._ready_at[key] = None if self._baseline else now
        self._baseline = False
        restarts = []
        for need in self.needs:
            ready_at = self._ready_at.get(need.key) if need.on_workload else ready_components.get(need.on_component)
            if ready_at is None:
                continue
            for pod in _pods_of(need, view):
                metadata = pod.get("metadata") or {}
                uid = str(metadata.get("uid", ""))
                created = rfc3339_seconds(metadata.get("creationTimestamp"))
                # made before the need was ready (its whole-second timestamp, plus the second it may have cut)
                if uid in self._restarted or created is None or created + 1 > ready_at or pod_ready(pod):
                    continue
                held = crash_back_off(pod)
                if held is None or held.crashed_at > ready_at or held.restart_at <= now:
                    continue
                self._restarted.add(uid)
                restarts.append(
                    Restart(need.component, metadata.get("namespace", ""), metadata.get("name", ""), uid,
                            need.what, held.restart_at - now)
                )  # fmt: skip
        return restarts


def _workload_ready(key: tuple[str, str | None], view: WatchSnapshot) -> bool:
    component, workload = key
    return any(readiness(obj).ready for obj in view.workloads.get(component, []) if obj["metadata"]["name"] == workload)


def _pods_of(need: Need, view: WatchSnapshot) -> list[Obj]:
    """The pods of the need's workloads: in a workload's namespace, carrying its selector's `matchLabels` (as
    `waits.pod_problems` matches them)."""
    selectors = []
    for obj in view.workloads.get(need.component, []):
        if need.workloads and obj["metadata"]["name"] not in need.workloads:
            continue
        match = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if match:
            selectors.append((obj["metadata"].get("namespace") or "default", match))
    return [
        pod
        for (namespace, _), pod in view.pods.items()
        if any(
            namespace == where and match.items() <= ((pod.get("metadata") or {}).get("labels") or {}).items()
            for where, match in selectors
        )
    ]


class Restarter:
    """`Restarts` on the install's shared watch, in a thread of its own: deletes the pods it names, each shown as a
    `restarted` event of its component (and in the log)."""

    def __init__(
        self, waits: Waits, kubectl: Kubectl, report: Reporter, needs: Sequence[Need],
        ready_components: Callable[[], Mapping[str, float | None]],
    ) -> None:  # fmt: skip
        self._waits = waits
        self._kubectl = kubectl
        self._report = report
        self._restarts = Restarts(needs)
        self._ready_components = ready_components
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._restarts.needs and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="restarts", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        """Look at every new view until stopped; a failure here only ends the shortcut (the kubelet's own restarts
        still come), never the install, and never shows a traceback."""
        try:
            self._looking()
        except Exception as error:  # Interrupted too (a KfError): runner stops every command on a signal
            log.info("restarts stopped: %s", error)

    def _looking(self) -> None:
        watch = self._waits.view()
        view = watch.snapshot()
        while not self._stop.is_set():
            for restart in self._restarts.look(view, self._ready_components(), time.time()):
                if self._stop.is_set():
                    return
                self._restart(restart)
            view = watch.wait_newer(view.generation, timeout=1.0)

    def _restart(self, restart: Restart) -> None:
        result = self._kubectl.delete_pod(restart.namespace, restart.pod)
        if not result.ok:  # the kubelet's own restart still comes; nothing to stop the install for
            log.info("restart of %s/%s failed: %s", restart.namespace, restart.pod, result.stderr.strip())
            return
        log.info("%s (%s/%s)", restart.message, restart.namespace, restart.pod)
        self._report(Event("restarted", restart.message, restart.component))
