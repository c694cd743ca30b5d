"""Apply components and wait for them, each as soon as its dependencies are ready.

The official install is a loop that re-applies everything every 10-20 seconds until nothing fails; the
tutorial is strictly one component after the other. Here each component is applied the moment the components
it depends on are ready, independent components go side by side (a bounded number of kubectl processes at a
time), and the races are handled where they arise instead of by blind re-applying:
- CRDs and Namespaces of a component are applied first and the CRDs waited for, so its custom resources do not
  bounce off `no matches for kind`;
- whatever still fails for a reason that heals by itself (a webhook not serving yet, the apiserver restarting)
  is retried with a short backoff until the component's deadline; anything else stops the install at once;
- every component waits on one shared watch of the cluster (`clusterwatch`), so a dependency's readiness is seen
  within milliseconds and the next component applied at once, without a poll per component.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from kfinstall import runner
from kfinstall.errors import KfError
from kfinstall.install.events import Event, Reporter
from kfinstall.kube.classify import classify_apply_failure
from kfinstall.kube.health import FAILING_REASONS
from kfinstall.kube.kinds import never_served, provided_kinds
from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.presence import Presence
from kfinstall.kube.readiness import WAITED_KINDS, PodProblem, endpoints_ready, pod_problem, readiness
from kfinstall.kube.watch import ClusterWatch, WatchSnapshot
from kfinstall.manifests.objects import COMPONENT_LABEL, as_apply_input
from kfinstall.release.selection import chain_lengths

Obj = dict[str, Any]

_KIND_RESOURCES = {
    "CustomResourceDefinition": "customresourcedefinitions.apiextensions.k8s.io",
    "Deployment": "deployments.apps",
    "StatefulSet": "statefulsets.apps",
    "DaemonSet": "daemonsets.apps",
}
#: Seconds one `kubectl apply` may take before it is killed and retried.
APPLY_CALL_TIMEOUT = 120.0
_WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
#: The service a refusing webhook is called at, as the API server names it: (name, namespace).
_WEBHOOK_URL = re.compile(r"https://([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)\.svc\b")


@dataclass(frozen=True)
class ComponentWork:
    """A component ready to install: its labelled objects and their hash."""

    id: str
    depends_on: tuple[str, ...]
    objects: tuple[Obj, ...]
    content_hash: str
    extra_ready_checks: tuple[Callable[[Kubectl], str | None], ...] = field(default=())

    def resolve(self) -> ComponentWork:
        return self

    def build_failure(self) -> BaseException | None:
        return None

    @property
    def first_objects(self) -> list[Obj]:
        """Everything but the custom resources of the component's own CRDs, Namespaces and CRDs leading.

        Applied at once, so the workloads start rolling out while the CRDs are being established (kubectl
        applies a stream in order, so nothing races its namespace); the custom resources follow once the
        CRDs are established (`later_objects`).
        """
        leading = ("Namespace", "CustomResourceDefinition")
        own = self._own_custom_kinds()
        first = [obj for obj in self.objects if _group_kind(obj) not in own]
        return sorted(first, key=lambda obj: leading.index(obj["kind"]) if obj.get("kind") in leading else 2)

    @property
    def later_objects(self) -> list[Obj]:
        """The custom resources of the component's own CRDs: they can only be applied once those are established."""
        own = self._own_custom_kinds()
        return [obj for obj in self.objects if _group_kind(obj) in own]

    def _own_custom_kinds(self) -> set[tuple[str, str]]:
        return {
            ((obj.get("spec") or {}).get("group", ""), ((obj.get("spec") or {}).get("names") or {}).get("kind", ""))
            for obj in self.objects
            if obj.get("kind") == "CustomResourceDefinition"
        }


@dataclass(frozen=True)
class LazyWork:
    """A component whose build is still running: scheduling needs only its id and dependencies, so independent
    components are applied while it builds; its objects are awaited when it is its turn."""

    id: str
    depends_on: tuple[str, ...]
    future: Future[ComponentWork] = field(compare=False, hash=False)

    def resolve(self) -> ComponentWork:
        """The built component (waiting for it); its build's KfError if the build failed."""
        return self.future.result()

    def build_failure(self) -> BaseException | None:
        """The build's error once it has failed (None while it runs or after it succeeded)."""
        return self.future.exception() if self.future.done() and not self.future.cancelled() else None


Work = ComponentWork | LazyWork


def _group_kind(obj: Obj) -> tuple[str, str]:
    api_version = str(obj.get("apiVersion", ""))
    return (api_version.rpartition("/")[0], str(obj.get("kind", "")))


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


@dataclass(frozen=True)
class _Snapshot:
    """One look at the cluster: labelled workloads by component id, endpoints by (namespace, name)."""

    workloads: dict[str, list[Obj]]
    endpoints: dict[tuple[str, str], Obj]


def _pull_failing(pod: Obj) -> bool:
    """A container of `pod` waits for an image that could not be pulled."""
    status = pod.get("status") or {}
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    reasons = {((status.get("state") or {}).get("waiting") or {}).get("reason") for status in statuses}
    return bool(reasons & {"ErrImagePull", "ImagePullBackOff"})


def _webhook_services(work: ComponentWork) -> set[tuple[str, str]]:
    """(namespace, name) of the services behind the component's admission webhooks."""
    return {
        (service["namespace"], service["name"])
        for obj in work.objects
        if obj.get("kind") in _WEBHOOK_KINDS
        for hook in obj.get("webhooks") or []
        if (service := (hook.get("clientConfig") or {}).get("service"))
    }


class Cancelled(KfError):
    """A component's thread stopped because the install is cancelled (after another's failure, or an interrupt)."""

    exit_code = 130


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
    _cancel: threading.Event = field(default_factory=threading.Event)
    _works: Sequence[Work] = ()
    _provided: set[tuple[str, str]] | None = None
    #: The shared view components wait on (started by the first component that waits; stopped by `run`).
    _watch: ClusterWatch | None = None
    _watch_lock: threading.Lock = field(default_factory=threading.Lock)
    #: The last progress reported per component, so an unchanged wait is not reported again at every change.
    _last_waiting: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    #: Asked whenever the API server does not answer: raises ClusterGone once the cluster was deleted, so a
    #: deleted cluster ends the install at once instead of being retried as a restart until the timeout.
    presence: Presence | None = None

    @property
    def provided(self) -> set[tuple[str, str]]:
        """(apiVersion, kind) served by the CRDs of this install (waits for every build: only asked on failures)."""
        if self._provided is None:
            self._provided = provided_kinds(obj for work in self._works for obj in work.resolve().objects)
        return self._provided

    def run(self, works: Sequence[Work]) -> None:
        """Install `works` in dependency order, in parallel where the graph allows; raise the first failure
        (a build's failure included, as soon as it happens)."""
        self._works = works
        pending: dict[str, Work] = {work.id: work for work in works}
        chain = chain_lengths(works)  # among components ready to go, those with the longest chains go first
        done: set[str] = set()
        running: dict[Future[None], str] = {}
        failure: BaseException | None = None
        # One thread per component in flight; the kubectl processes they start are bounded by `concurrency`.
        self.kubectl = _Throttled(self.kubectl.context, threading.Semaphore(max(1, self.concurrency)))
        pool = ThreadPoolExecutor(max_workers=max(1, len(works)), thread_name_prefix="component")
        try:
            for work_id in self._skip_unchanged(works, pool):
                del pending[work_id]
                done.add(work_id)
            while (pending or running) and failure is None:
                failure = next((error for work in pending.values() if (error := work.build_failure())), None)
                if failure is not None:
                    break
                for work_id, work in sorted(pending.items(), key=lambda item: -chain[item[0]]):
                    if all(
                        dep in done or (dep not in pending and dep not in running.values()) for dep in work.depends_on
                    ):
                        del pending[work_id]
                        running[pool.submit(self._install, work)] = work_id
                if not running:
                    break
                finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    work_id = running.pop(future)
                    error = future.exception()
                    if error is None:
                        done.add(work_id)
                    elif failure is None:
                        failure = error
        except KeyboardInterrupt:  # runner is stopping the kubectl processes; the components' threads see _cancel
            self._cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            if failure is not None:
                self._cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            if self._watch is not None:
                self._watch.stop()
        if failure is not None:
            raise failure

    def _view(self) -> ClusterWatch:
        """The shared watch of labelled workloads and endpoints, started on first use (a no-op re-run needs none)."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = ClusterWatch(self.kubectl).start()
            return self._watch

    # Unchanged components ----------------------------------------------------------------------------

    def _skip_unchanged(self, works: Sequence[Work], pool: ThreadPoolExecutor) -> list[str]:
        """The ids of components applied before with the same content and ready now: nothing to do for them.

        A re-run of `up` on an installed cluster is mostly this check, so it costs one cluster-wide list of the
        labelled workloads (and one of endpoints when webhooks are involved), not a few calls per component;
        only the README's wait lines still ask the cluster themselves, side by side.
        """
        candidates = [work.resolve() for work in works if self.is_unchanged(work)]
        if not candidates:
            return []
        snapshot = self._snapshot(candidates, pool)
        if snapshot is None:
            return []  # the API server did not answer: install them as usual (re-applying changes nothing)
        verdicts = list(pool.map(lambda work: not self._not_ready(work, snapshot), candidates))
        skipped = []
        for work, ready in zip(candidates, verdicts, strict=True):
            if ready:
                self.report(Event("skipped", "unchanged and ready", work.id))
                self.on_ready(work)
                self.skipped.append(work.id)
                skipped.append(work.id)
        return skipped

    def _snapshot(self, works: Sequence[ComponentWork], pool: ThreadPoolExecutor) -> _Snapshot | None:
        """Labelled CRDs, labelled workloads and (for webhooks) all endpoints: up to three calls, side by side."""
        kinds = {obj["kind"] for work in works for obj in work.objects if obj.get("kind") in WAITED_KINDS}
        calls: list[Future[list[Obj] | None]] = []
        if "CustomResourceDefinition" in kinds:
            calls.append(pool.submit(self._crd_conditions))
        resources = ",".join(sorted(_KIND_RESOURCES[kind] for kind in kinds if kind != "CustomResourceDefinition"))
        if resources:
            calls.append(pool.submit(self._poll, resources, "-A", "-l", COMPONENT_LABEL))
        endpoints_call = pool.submit(self._poll, "endpoints", "-A") if any(map(_webhook_services, works)) else None
        workloads: dict[str, list[Obj]] = {}
        for call in calls:
            items = call.result()
            if items is None:
                return None
            for item in items:
                owner = ((item.get("metadata") or {}).get("labels") or {}).get(COMPONENT_LABEL, "")
                workloads.setdefault(owner, []).append(item)
        endpoints: dict[tuple[str, str], Obj] = {}
        if endpoints_call is not None:
            items = endpoints_call.result()
            if items is None:
                return None
            endpoints = {(item["metadata"].get("namespace", ""), item["metadata"]["name"]): item for item in items}
        return _Snapshot(workloads, endpoints)

    def _crd_conditions(self, *names: str) -> list[Obj] | None:
        """The named CRDs (default: all labelled ones) reduced to what readiness needs. Kubeflow's CRDs are ~10 MB
        of JSON in all (their schemas), so they are printed through a JSONPath of name, component and Established,
        not as objects: a second less per look on a loaded machine. None: the API server did not answer."""
        line = (
            '{.metadata.name}{"\\t"}{.metadata.labels.kfinstall\\.dev/component}{"\\t"}'
            '{.status.conditions[?(@.type=="Established")].status}{"\\n"}'
        )
        # one name prints the object itself, several names or a selector print a List
        template = line if len(names) == 1 else "{range .items[*]}" + line + "{end}"
        which = (*names, "--ignore-not-found") if names else ("-l", COMPONENT_LABEL)
        result = self.kubectl.run("get", _KIND_RESOURCES["CustomResourceDefinition"], *which,
                                  "-o", f"jsonpath={template}", timeout=30)  # fmt: skip
        if not result.ok:
            return None
        items = []
        for line in result.stdout.splitlines():
            name, _, rest = line.partition("\t")
            component, _, established = rest.partition("\t")
            if name:
                items.append({
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": name, "labels": {COMPONENT_LABEL: component}},
                    "status": {"conditions": [{"type": "Established", "status": established or "Unknown"}]},
                })  # fmt: skip
        return items

    # One component -------------------------------------------------------------------------------------

    def _install(self, source: Work) -> None:
        if isinstance(source, LazyWork) and not source.future.done():
            self.report(Event("building", "", source.id))
        work = source.resolve()
        deadline = time.monotonic() + self.timeout
        first, later = work.first_objects, work.later_objects
        if first:
            self._apply(work, first, deadline)
        if any(obj.get("kind") == "CustomResourceDefinition" for obj in work.objects):
            self._wait_crds(work, deadline)
        if later:
            self._apply(work, later, deadline)
        self.on_applied(work)
        self._wait_ready(work, deadline)
        self.on_ready(work)

    def _apply(self, work: ComponentWork, objects: list[Obj], deadline: float) -> None:
        self.report(Event("applying", f"{len(objects)} objects", work.id))
        payload = as_apply_input(objects)
        delay = 0.2
        while True:
            self._check_cancel()
            # A hung call (an apiserver that accepted the connection and went away) must not eat the whole
            # deadline: it is killed after APPLY_CALL_TIMEOUT and retried like any other timeout.
            remaining = min(APPLY_CALL_TIMEOUT, max(5.0, deadline - time.monotonic()))
            result = self.kubectl.apply(payload, field_manager=f"kfinstall-{work.id}", timeout=remaining)
            if result.ok:
                return
            failure = classify_apply_failure(result.output, result.exit_code)
            if not failure.retryable or failure.reason == "API server unavailable":
                self._still_there()  # `context "x" does not exist` or `connection refused`: deleted, or restarting?
            if not failure.retryable:
                raise KfError(
                    f"{work.id}: the cluster rejected it: {failure.first_error}",
                    "this will not heal by retrying; the full kubectl output is in the log file",
                )
            missing = never_served(failure.errors, self.provided)
            if missing:
                raise KfError(
                    f"{work.id}: this cluster does not serve {', '.join(missing)}, and no component of this install "
                    "provides it",
                    "the cluster's Kubernetes version is probably outside the release's range (see `kfinstall check`)",
                )
            if time.monotonic() + delay > deadline:
                raise KfError(
                    f"{work.id}: still failing after {self.timeout:g}s ({failure.reason}): {failure.first_error}",
                    "check the cluster with `kfinstall status`; raise --timeout if it is just slow",
                )
            self.report(Event("retrying", failure.reason, work.id))
            services = set(_WEBHOOK_URL.findall(result.output))  # the webhooks that refused, if any
            if services and self._wait_endpoints(services, deadline):
                delay = 0.2  # the webhook just got a pod: try again now, not after a grown backoff
                continue
            self._sleep(delay)
            delay = min(delay * 2, 2.0)

    def _wait_endpoints(self, services: set[tuple[str, str]], deadline: float) -> bool:
        """Wait until the webhook services have ready endpoints; False when they had them already (or never do
        before the deadline), i.e. when waiting for them is not what the apply needs (a missing CA, say)."""
        watch = self._view()
        view = watch.snapshot()
        waited = False
        while time.monotonic() < deadline:
            self._check_cancel()
            if watch.failing:
                self._still_there()
            if view.synced:
                found = [view.endpoints.get((namespace, name)) for name, namespace in services]
                if all(endpoints is not None and endpoints_ready(endpoints) for endpoints in found):
                    return waited
                waited = True
            left = max(0.0, deadline - time.monotonic())
            view = watch.wait_newer(view.generation, timeout=min(self.poll_interval, left))
        return False

    def _wait_crds(self, work: ComponentWork, deadline: float) -> None:
        names = [obj["metadata"]["name"] for obj in work.objects if obj.get("kind") == "CustomResourceDefinition"]
        while names:
            self._check_cancel()
            items = self._crd_conditions(*names)
            if items is None:
                self._still_there()
            if items is not None and len(items) == len(names) and all(readiness(item).ready for item in items):
                return
            if time.monotonic() > deadline:
                raise KfError(
                    f"{work.id}: its CRDs were not established in {self.timeout:g}s", "see `kfinstall status`"
                )
            self._sleep(self.poll_interval)

    def _wait_ready(self, work: ComponentWork, deadline: float) -> None:
        """Wait on the shared view: a change is seen within milliseconds; the README's wait lines and webhook
        endpoints are asked again at most every `poll_interval` once the workloads are ready."""
        watch = self._view()
        view = watch.snapshot()
        while True:
            self._check_cancel()
            if watch.failing:
                self._still_there()
            not_ready = self._not_ready(work, view, crds_ready=True) if view.synced else ["the cluster's first answer"]
            if not not_ready:
                self.report(Event("ready", "", work.id))
                return
            if time.monotonic() > deadline:
                raise self._timeout_error(work, not_ready)
            view = watch.wait_newer(view.generation, timeout=self.poll_interval)

    def _not_ready(
        self, work: ComponentWork, snapshot: _Snapshot | WatchSnapshot, *, crds_ready: bool = False
    ) -> list[str]:
        """What in `work` is not ready yet (empty: all ready), reporting progress when it changed.

        Workloads and endpoints are read from `snapshot`; `crds_ready`: the component's CRDs were waited for
        already (a watch view holds no CRDs).
        """
        expected = {
            (obj["kind"], (obj.get("metadata") or {}).get("namespace"), obj["metadata"]["name"])
            for obj in work.objects
            if obj.get("kind") in WAITED_KINDS
        }
        waiting: list[str] = []
        ready_count = 0
        if expected:
            items = snapshot.workloads.get(work.id, [])
            found = {
                (item.get("kind"), item["metadata"].get("namespace"), item["metadata"]["name"]): item for item in items
            }
            for key in sorted(expected, key=str):
                if crds_ready and key[0] == "CustomResourceDefinition":
                    ready_count += 1
                    continue
                item = found.get(key)
                state = readiness(item) if item is not None else None
                if state is not None and state.ready:
                    ready_count += 1
                else:
                    kind, namespace, name = key
                    detail = state.detail if state is not None else "not created yet"
                    waiting.append(f"{kind.lower()}/{name}" + (f" -n {namespace}" if namespace else "") + f": {detail}")
        if not waiting:
            waiting.extend(self._last_checks(work, snapshot))
        progress = (waiting[0] if waiting else "", ready_count, len(expected))
        if self._last_waiting.get(work.id) != progress:
            self._last_waiting[work.id] = progress
            self.report(Event("waiting", progress[0], work.id, ready_count, len(expected)))
        return waiting

    def _last_checks(self, work: ComponentWork, snapshot: _Snapshot | WatchSnapshot) -> list[str]:
        """Webhook endpoints and the README's wait lines, once the workloads are ready: each is one `kubectl get`
        and they are independent, so they run side by side (on the critical path, every hop pays for them)."""
        checks: list[Callable[[], list[str]]] = []
        if _webhook_services(work):
            checks.append(lambda: self._webhooks_without_endpoints(work, snapshot))
        for check in work.extra_ready_checks:
            checks.append(lambda check=check: [problem] if (problem := check(self.kubectl)) else [])  # type: ignore[misc]
        if len(checks) <= 1:
            return [problem for run in checks for problem in run()]
        with ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="check") as pool:
            return [problem for problems in pool.map(lambda run: run(), checks) for problem in problems]

    @staticmethod
    def _webhooks_without_endpoints(work: ComponentWork, snapshot: _Snapshot | WatchSnapshot) -> list[str]:
        return [
            f"webhook service {namespace}/{name} has no ready endpoints"
            for namespace, name in sorted(_webhook_services(work))
            if not ((found := snapshot.endpoints.get((namespace, name))) and endpoints_ready(found))
        ]

    def _timeout_error(self, work: ComponentWork, not_ready: list[str]) -> KfError:
        # Problems that will not pass by waiting (an image that cannot be pulled, too little memory) come first:
        # they are the reason, and their hint is the one to give.
        problems = sorted(self._pod_problems(work), key=lambda problem: problem.reason not in FAILING_REASONS)
        lines = [f"{work.id}: not ready after {self.timeout:g}s:", *(f"  {item}" for item in not_ready[:10])]
        lines += [f"  pod {problem}" for problem in problems[:10]]
        hint = problems[0].hint if problems else "see `kfinstall status` for what is not ready and why"
        return KfError("\n".join(lines), hint)

    def _pod_problems(self, work: ComponentWork) -> list[PodProblem]:
        """Why the pods of the component's workloads are not ready (one pod list per namespace)."""
        selectors: dict[str, list[dict[str, str]]] = {}
        for obj in work.objects:
            if obj.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
                namespace = (obj.get("metadata") or {}).get("namespace") or "default"
                match = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
                selectors.setdefault(namespace, []).append(match)
        problems = []
        for namespace, matches in sorted(selectors.items()):
            try:
                pods = self.kubectl.items("pods", "-n", namespace)
                events = self.kubectl.items("events", "-n", namespace, "--field-selector", "reason=FailedScheduling")
                if any(_pull_failing(pod) for pod in pods):  # the kubelet's `Failed to pull image "X": <why>`
                    events += self.kubectl.items("events", "-n", namespace, "--field-selector", "reason=Failed")
            except KfError:
                continue
            for pod in pods:
                labels = (pod.get("metadata") or {}).get("labels") or {}
                if not any(match and match.items() <= labels.items() for match in matches):
                    continue
                problem = pod_problem(pod, events)
                if problem is not None:
                    problems.append(problem)
        return problems

    def _poll(self, *args: str) -> list[Obj] | None:
        """`kubectl get` for a wait loop: None when the API server did not answer (the loop tries again)."""
        try:
            return self.kubectl.items(*args, timeout=30)
        except (KfError, ValueError):
            return None

    def _still_there(self) -> None:
        """Raise ClusterGone if the cluster was deleted (asked at most every few seconds, see Presence)."""
        if self.presence is not None:
            self.presence.check()

    # Cancellation ----------------------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if self._cancel.wait(seconds):
            raise Cancelled("stopped", "run the same `kfinstall up` again to resume")

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("stopped", "run the same `kfinstall up` again to resume")
