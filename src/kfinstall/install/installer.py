"""Install components, each as soon as its dependencies are ready: the parts below, put together.

The official install is a loop that re-applies everything every 10-20 seconds until nothing fails; the
tutorial is strictly one component after the other. Here each component is applied the moment the components
it depends on are ready, independent components go side by side (a bounded number of kubectl processes at a
time), and the races are handled where they arise instead of by blind re-applying. One job per module:
- `schedule.py`: the dependency-graph scheduler (one thread per component in flight, longest chains first);
- `apply.py`: server-side apply, retried while the failure is a race (CRDs and Namespaces of a component go
  first and its CRDs are waited for, so its custom resources do not bounce off `no matches for kind`);
- `waits.py`: CRDs established, webhook endpoints, readiness on one shared watch of the cluster;
- `unchanged.py`: components applied before with the same content and ready now are skipped;
- `diagnose.py`: at a component's deadline, what is not ready and why;
- `restarts.py`: pods crash-looping for what just became ready are restarted instead of sitting out the back-off;
- `cancel.py`: one failure (or an interrupt) stops every component's thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kfinstall import runner
from kfinstall.errors import Interrupted, KfError
from kfinstall.install import diagnose
from kfinstall.install.apply import Applier
from kfinstall.install.cancel import Cancel, Cancelled
from kfinstall.install.events import Event, Reporter
from kfinstall.install.restarts import Restarter, needs_of
from kfinstall.install.schedule import run_in_order
from kfinstall.install.unchanged import unchanged_and_ready
from kfinstall.install.waits import Waits, webhook_services
from kfinstall.install.work import ComponentWork, LazyWork, Work
from kfinstall.kube.kinds import provided_kinds
from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.presence import Presence
from kfinstall.release.pins import RuntimeDependency


@dataclass(frozen=True)
class _Throttled(Kubectl):
    """kubectl whose calls wait for one of a few slots: the bound on concurrent kubectl processes.

    Components in flight are not bounded (a component waiting for its pods holds no process between polls),
    so a slow component never keeps an independent one from being applied.
    """

    slots: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(4), compare=False, hash=False)

    def run(self, *args: str, input: str | None = None, timeout: float | None = 120) -> runner.Result:
        with self.slots:
            return super().run(*args, input=input, timeout=timeout)


@dataclass
class Installer:
    kubectl: Kubectl
    report: Reporter
    timeout: float = 600.0
    concurrency: int = 4
    poll_interval: float = 0.3
    on_applied: Callable[[ComponentWork], None] = lambda work: None
    on_ready: Callable[[ComponentWork], None] = lambda work: None
    #: Whether a component (maybe still building) was applied before with the same content: only then is it
    #: checked for readiness instead of applied.
    is_unchanged: Callable[[Work], bool] = lambda work: False
    #: Ids of the components found unchanged and ready, so not applied again (filled by `run`).
    skipped: list[str] = field(default_factory=list)
    #: Asked whenever the API server does not answer: raises ClusterGone once the cluster was deleted, so a
    #: deleted cluster ends the install at once instead of being retried as a restart until the timeout.
    presence: Presence | None = None
    #: Per component: its workloads that crash-loop until another of its workloads is ready (pins
    #: `runtime_needs`); with `depends_on`, what `restarts.py` restarts pods for.
    runtime_needs: Mapping[str, Sequence[RuntimeDependency]] = field(default_factory=dict)
    #: Per component: the dependencies it is applied after once they are served, not ready (pins `after_served`).
    after_served: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Called with each component (built) before anything of it is applied, with a check that raises once the
    #: install is cancelled: `up` waits there for the component's cached images to be loaded.
    before_apply: Callable[[ComponentWork, Callable[[], None]], None] = lambda work, check: None
    #: Components served: applied, CRDs established, their webhooks' Services with ready endpoints.
    _served: set[str] = field(default_factory=set)
    _cancel: Cancel = field(default_factory=Cancel)
    #: Components found ready, and when (epoch seconds; None: skipped as unchanged and ready, i.e. ready before
    #: this install): what a dependent's crash loop may have waited on.
    _ready_at: dict[str, float | None] = field(default_factory=dict)
    _works: Sequence[Work] = ()
    _provided: set[tuple[str, str]] | None = None

    def provided(self) -> set[tuple[str, str]]:
        """(apiVersion, kind) served by the CRDs of this install (waits for every build: only asked on failures)."""
        if self._provided is None:
            self._provided = provided_kinds(obj for work in self._works for obj in work.resolve().objects)
        return self._provided

    def run(self, works: Sequence[Work]) -> None:
        """Install `works` in dependency order, in parallel where the graph allows; raise the first failure
        (a build's failure included, as soon as it happens)."""
        self._works = works
        # One thread per component in flight; the kubectl processes they start are bounded by `concurrency`.
        self.kubectl = _Throttled(self.kubectl.context, threading.Semaphore(max(1, self.concurrency)))
        self._waits = Waits(self.kubectl, self.report, self._cancel, self._still_there,
                            timeout=self.timeout, poll_interval=self.poll_interval)  # fmt: skip
        self._applier = Applier(self.kubectl, self.report, self._cancel, self._still_there, self._waits,
                                self.provided, timeout=self.timeout)  # fmt: skip
        pool = ThreadPoolExecutor(max_workers=max(1, len(works)), thread_name_prefix="component")
        restarter = Restarter(self._waits, self.kubectl, self.report, needs_of(works, self.runtime_needs),
                              lambda: dict(self._ready_at))  # fmt: skip
        try:
            done = []
            for work in unchanged_and_ready(works, self.is_unchanged, self._waits, pool):
                self.report(Event("skipped", "unchanged and ready", work.id))
                self.on_ready(work)
                self.skipped.append(work.id)
                self._ready_at[work.id] = None
                done.append(work.id)
            if len(done) < len(works):  # something to install: watch for crash loops to cut short
                restarter.start()
            planned = {work.id for work in works}
            for work in works:  # what each row waits for (a dependency left out of the install is none)
                if work.id not in done:
                    deps = tuple(dep for dep in work.depends_on if dep in planned and dep not in done)
                    waits_for = f"waiting for {', '.join(deps)}" if deps else "ready to go"
                    self.report(Event("pending", waits_for, work.id, depends_on=deps))
            run_in_order(works, self._failing_visibly, pool, done, self._served, self.after_served)
        except BaseException:  # a failure, or an interrupt (runner is stopping the kubectl processes)
            self._cancel.set()  # the components' threads stop at their next wait
            raise
        finally:
            restarter.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            self._waits.stop()

    def _failing_visibly(self, source: Work) -> None:
        """`_install`, its row ending `failed` with the first line of the reason when it fails (not when it only
        stopped because another component failed, or an interrupt)."""
        try:
            self._install(source)
        except (Cancelled, Interrupted):
            raise
        except KfError as error:
            first = (error.message.splitlines() or ["failed"])[0]
            self.report(Event("failed", first.removeprefix(f"{source.id}: ").rstrip(":"), source.id))
            raise

    def _install(self, source: Work) -> None:
        """One component: Namespaces, CRDs and workloads; its CRDs established; its custom resources; ready."""
        if isinstance(source, LazyWork) and not source.future.done():
            self.report(Event("building", "", source.id))
        work = source.resolve()
        self.before_apply(work, self._cancel.check)
        deadline = time.monotonic() + self.timeout
        first, later = work.first_objects, work.later_objects
        if first:
            self._applier.apply(work, first, deadline)
        if any(obj.get("kind") == "CustomResourceDefinition" for obj in work.objects):
            self._waits.crds(work, deadline)
        if later:
            self._applier.apply(work, later, deadline)
        self.on_applied(work)
        if any(work.id in edges for edges in self.after_served.values()):
            self._serve(work, deadline)
        self._waits.ready(work, deadline, self._timeout_error)
        self._ready_at[work.id] = time.time()
        self.on_ready(work)

    def _serve(self, work: ComponentWork, deadline: float) -> None:
        """Mark the component served once its admission webhooks answer (its CRDs are established already): what a
        dependent applied after it needs at apply time. A webhook with failurePolicy Fail and no endpoints refuses
        objects (`failed calling webhook`), and istio's sidecar injector refuses pods, so a dependent applied
        earlier would only bounce; its Services with ready endpoints are what the API server calls."""
        services = {(name, namespace) for namespace, name in webhook_services(work)}  # as `endpoints` takes them
        if services:
            self._waits.endpoints(services, deadline)  # at the deadline the ready wait says what is missing
        self._served.add(work.id)

    def _timeout_error(self, work: ComponentWork, not_ready: list[str]) -> KfError:
        return diagnose.timeout_error(self.kubectl, work, not_ready, self.timeout)

    def _still_there(self) -> None:
        """Raise ClusterGone if the cluster was deleted (asked at most every few seconds, see Presence)."""
        if self.presence is not None:
            self.presence.check()
