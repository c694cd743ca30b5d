"""Waiting for a component: its CRDs established, its webhooks' endpoints ready, its workloads and checks ready.

Every component waits on one shared watch of the cluster (`kube/watch.py`), so a dependency's readiness is seen
within milliseconds and the next component applied at once, without a poll per component. CRDs are polled: their
schemas are too big to stream. What is not ready is also reported as progress (once per change).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

from kfinstall.errors import KfError
from kfinstall.install.cancel import Cancel
from kfinstall.install.events import Event, Reporter
from kfinstall.install.work import ComponentWork, Obj
from kfinstall.kube.health import FAILING_REASONS
from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.readiness import WAITED_KINDS, PodProblem, endpoints_ready, pod_problem, readiness
from kfinstall.kube.watch import ClusterWatch, WatchSnapshot
from kfinstall.manifests.objects import COMPONENT_LABEL

#: The resource `kubectl get` lists for each waited kind.
KIND_RESOURCES = {
    "CustomResourceDefinition": "customresourcedefinitions.apiextensions.k8s.io",
    "Deployment": "deployments.apps",
    "StatefulSet": "statefulsets.apps",
    "DaemonSet": "daemonsets.apps",
}
_WEBHOOK_KINDS = ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
#: The kinds `up` and `status` count as a component's workloads (`3/3 workloads`).
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
#: What `pod_problem` says of a pod that is only starting (kube/readiness.py): no problem worth a row's attention.
_STARTING = "containers not ready yet"


@dataclass(frozen=True)
class Snapshot:
    """One look at the cluster: labelled workloads by component id, endpoints by (namespace, name)."""

    workloads: dict[str, list[Obj]]
    endpoints: dict[tuple[str, str], Obj]


def webhook_services(work: ComponentWork) -> set[tuple[str, str]]:
    """(namespace, name) of the services behind the component's admission webhooks."""
    return {
        (service["namespace"], service["name"])
        for obj in work.objects
        if obj.get("kind") in _WEBHOOK_KINDS
        for hook in obj.get("webhooks") or []
        if (service := (hook.get("clientConfig") or {}).get("service"))
    }


class Waits:
    """The waits of one install, sharing one watch (started by the first component that waits; `stop` ends it).

    `still_there` is asked whenever the API server does not answer: it raises once the cluster was deleted, so a
    deleted cluster ends the install at once instead of being waited for until the timeout.
    """

    def __init__(
        self,
        kubectl: Kubectl,
        report: Reporter,
        cancel: Cancel,
        still_there: Callable[[], None],
        *,
        timeout: float,
        poll_interval: float,
    ) -> None:
        self.kubectl = kubectl
        self.report = report
        self.cancel = cancel
        self.still_there = still_there
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._watch: ClusterWatch | None = None
        self._watch_lock = threading.Lock()
        #: The last progress reported per component, so an unchanged wait is not reported again at every change.
        self._last_waiting: dict[str, tuple[str, int, int]] = {}
        #: The last pod problem reported per component ("" once it passed).
        self._last_problem: dict[str, str] = {}

    def view(self) -> ClusterWatch:
        """The shared watch of labelled workloads and endpoints, started on first use (a no-op re-run needs none)."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = ClusterWatch(self.kubectl, pods=True).start()
            return self._watch

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()

    def crds(self, work: ComponentWork, deadline: float) -> None:
        """Wait until the component's CRDs are established."""
        # each name once: a component built from a base and an overlay that includes it (26.03's cert-manager:
        # common/cert-manager/base and overlays/kubeflow) carries its CRDs twice, and the cluster has each once
        names = list(
            dict.fromkeys(o["metadata"]["name"] for o in work.objects if o.get("kind") == "CustomResourceDefinition")
        )
        while names:
            self.cancel.check()
            items = self.crd_conditions(*names)
            if items is None:
                self.still_there()
            if items is not None and len(items) == len(names) and all(readiness(item).ready for item in items):
                return
            if time.monotonic() > deadline:
                raise KfError(
                    f"{work.id}: its CRDs were not established in {self.timeout:g}s", "see `kfinstall status`"
                )
            self.cancel.sleep(self.poll_interval)

    def endpoints(self, services: set[tuple[str, str]], deadline: float) -> bool:
        """Wait until the webhook services (name, namespace) have ready endpoints; False when they had them already
        (or never do before the deadline), i.e. when waiting for them is not what an apply needs (a missing CA, say).
        """
        watch = self.view()
        view = watch.snapshot()
        waited = False
        while time.monotonic() < deadline:
            self.cancel.check()
            if watch.failing:
                self.still_there()
            if view.synced:
                found = [view.endpoints.get((namespace, name)) for name, namespace in services]
                if all(endpoints is not None and endpoints_ready(endpoints) for endpoints in found):
                    return waited
                waited = True
            left = max(0.0, deadline - time.monotonic())
            view = watch.wait_newer(view.generation, timeout=min(self.poll_interval, left))
        return False

    def ready(
        self, work: ComponentWork, deadline: float, on_timeout: Callable[[ComponentWork, list[str]], KfError]
    ) -> None:
        """Wait on the shared view: a change is seen within milliseconds; the README's wait lines and webhook
        endpoints are asked again at most every `poll_interval` once the workloads are ready. At the deadline,
        raise what `on_timeout` makes of what is still not ready."""
        watch = self.view()
        view = watch.snapshot()
        while True:
            self.cancel.check()
            if watch.failing:
                self.still_there()
            not_ready = self.not_ready(work, view, crds_ready=True) if view.synced else ["the cluster's first answer"]
            if not not_ready:
                self.report(Event("ready", "", work.id))
                return
            if time.monotonic() > deadline:
                raise on_timeout(work, not_ready)
            view = watch.wait_newer(view.generation, timeout=self.poll_interval)

    def not_ready(
        self, work: ComponentWork, snapshot: Snapshot | WatchSnapshot, *, crds_ready: bool = False
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
        workload_count = sum(1 for kind, _, _ in expected if kind in WORKLOAD_KINDS)
        if expected:
            items = snapshot.workloads.get(work.id, [])
            found = {
                (item.get("kind"), item["metadata"].get("namespace"), item["metadata"]["name"]): item for item in items
            }
            for key in sorted(expected, key=str):
                if crds_ready and key[0] == "CustomResourceDefinition":
                    continue
                item = found.get(key)
                state = readiness(item) if item is not None else None
                if state is not None and state.ready:
                    ready_count += key[0] in WORKLOAD_KINDS
                else:
                    kind, namespace, name = key
                    detail = state.detail if state is not None else "not created yet"
                    waiting.append(f"{kind.lower()}/{name}" + (f" -n {namespace}" if namespace else "") + f": {detail}")
        if not waiting:
            waiting.extend(self._last_checks(work, snapshot))
        progress = (waiting[0] if waiting else "", ready_count, workload_count)
        if self._last_waiting.get(work.id) != progress:
            self._last_waiting[work.id] = progress
            self.report(Event("waiting", progress[0], work.id, ready_count, workload_count))
        if isinstance(snapshot, WatchSnapshot) and snapshot.synced:
            self._report_problem(work, pod_problems(work, snapshot.pods) if waiting else [])
        return waiting

    def _report_problem(self, work: ComponentWork, problems: list[PodProblem]) -> None:
        """The component's worst pod problem as an event, once per change (an empty message: it passed)."""
        text = ""
        if problems:  # the reason first: on a row cut to the terminal's width, it is what must show
            first = problems[0]
            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
            text = f"{first.reason}: {first.message} (pod {first.namespace}/{first.pod}{more})"
        if self._last_problem.get(work.id, "") != text:
            self._last_problem[work.id] = text
            self.report(Event("problem", text, work.id, hint=problems[0].hint if problems else None))

    def _last_checks(self, work: ComponentWork, snapshot: Snapshot | WatchSnapshot) -> list[str]:
        """Webhook endpoints and the README's wait lines, once the workloads are ready: each is one `kubectl get`
        and they are independent, so they run side by side (on the critical path, every hop pays for them)."""
        checks: list[Callable[[], list[str]]] = []
        if webhook_services(work):
            checks.append(lambda: _webhooks_without_endpoints(work, snapshot))
        for check in work.extra_ready_checks:
            checks.append(lambda check=check: [problem] if (problem := check(self.kubectl)) else [])  # type: ignore[misc]
        if len(checks) <= 1:
            return [problem for run in checks for problem in run()]
        with ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="check") as pool:
            return [problem for problems in pool.map(lambda run: run(), checks) for problem in problems]

    def crd_conditions(self, *names: str) -> list[Obj] | None:
        """The named CRDs (default: all labelled ones) reduced to what readiness needs. None:
        the API server did not answer.

        Kubeflow's CRDs are 10-20 MB of JSON (their schemas). They are read with `kubectl get --raw` (the bytes as
        the API server sent them) and parsed here: `-o jsonpath` makes kubectl decode every schema into objects
        first (on the full profile 1.99 s against 0.46 s per look, issue #15). One name is asked by
        `fieldSelector`, which every kind serves for `metadata.name`; a List either way, so a missing CRD is an
        empty answer, not an error.
        """
        # Any component's label, not only the waiting one's: a CRD two components' builds both carry is labelled by
        # whichever applied it last.
        query = {"labelSelector": COMPONENT_LABEL}
        if len(names) == 1:
            query = {"fieldSelector": f"metadata.name={names[0]}"}
        path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions?{urlencode(query)}"
        result = self.kubectl.run("get", "--raw", path, timeout=30)
        if not result.ok:
            return None
        try:
            listed = json.loads(result.stdout).get("items") or []
        except (ValueError, AttributeError):
            return None
        wanted = set(names)
        items = []
        for crd in listed:
            metadata = crd.get("metadata") or {}
            if wanted and metadata.get("name") not in wanted:
                continue
            conditions = (crd.get("status") or {}).get("conditions") or []
            established = next((c.get("status") for c in conditions if c.get("type") == "Established"), None)
            label = (metadata.get("labels") or {}).get(COMPONENT_LABEL, "")
            items.append({
                "kind": "CustomResourceDefinition",
                "metadata": {"name": metadata.get("name", ""), "labels": {COMPONENT_LABEL: label}},
                "status": {"conditions": [{"type": "Established", "status": established or "Unknown"}]},
            })  # fmt: skip
        return items

    def poll(self, *args: str) -> list[Obj] | None:
        """`kubectl get` for a wait loop: None when the API server did not answer (the loop tries again)."""
        try:
            return self.kubectl.items(*args, timeout=30)
        except (KfError, ValueError):
            return None


def pod_problems(work: ComponentWork, pods: dict[tuple[str, str], Obj]) -> list[PodProblem]:
    """The problems of the pods of `work`'s workloads that will not pass by waiting a moment (an image that cannot
    be pulled, a crash loop, a pod the scheduler cannot place), worst first, from the watch's pods.

    A pod is the workload's when it is in its namespace and carries its selector's `matchLabels` (as
    `diagnose.pod_problems` matches them); the pod's own status says why (no events: the watch has none, so an
    image pull's error is the one the kubelet wrote into the status, kubernetes/kubernetes#127918 from 1.32).
    """
    selectors: list[tuple[str, dict[str, str]]] = []
    for obj in work.objects:
        if obj.get("kind") in WORKLOAD_KINDS:
            namespace = (obj.get("metadata") or {}).get("namespace") or "default"
            match = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            if match:
                selectors.append((namespace, match))
    problems = []
    for (namespace, _), pod in pods.items():
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if not any(namespace == where and match.items() <= labels.items() for where, match in selectors):
            continue
        problem = pod_problem(pod)
        if problem is not None and problem.reason in FAILING_REASONS and problem.message != _STARTING:
            problems.append(problem)
    # a pull or a crash loop first (the scheduler's Pending after), then by pod: the same one stays first
    return sorted(problems, key=lambda problem: (problem.reason == "Pending", problem.namespace, problem.pod))


def _webhooks_without_endpoints(work: ComponentWork, snapshot: Snapshot | WatchSnapshot) -> list[str]:
    return [
        f"webhook service {namespace}/{name} has no ready endpoints"
        for namespace, name in sorted(webhook_services(work))
        if not ((found := snapshot.endpoints.get((namespace, name))) and endpoints_ready(found))
    ]
