"""Why a component is not ready at its deadline: the unready objects and each pod's problem, with a hint.

Problems that will not pass by waiting (an image that cannot be pulled, too little memory) come first: they are
the reason, and their hints (each failing pod's, each once) are the ones to give (`kube/readiness.py`
`pod_problem` words them).
"""

from __future__ import annotations

from kfinstall.errors import KfError
from kfinstall.install.work import ComponentWork, Obj
from kfinstall.kube.health import FAILING_REASONS
from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.readiness import PodProblem, pod_problem


def timeout_error(kubectl: Kubectl, work: ComponentWork, not_ready: list[str], timeout: float) -> KfError:
    """The error of a component not ready after `timeout` seconds, `not_ready` being what the wait still missed."""
    problems = sorted(pod_problems(kubectl, work), key=lambda problem: problem.reason not in FAILING_REASONS)
    lines = [f"{work.id}: not ready after {timeout:g}s:", *(f"  {item}" for item in not_ready[:10])]
    lines += [f"  pod {problem}" for problem in problems[:10]]
    failing = [problem for problem in problems if problem.reason in FAILING_REASONS] or problems
    hints = list(dict.fromkeys(problem.hint for problem in failing if problem.hint))  # each pod's, each once
    hint = "; ".join(hints) if hints else "see `kfinstall status` for what is not ready and why"
    return KfError("\n".join(lines), hint)


def pod_problems(kubectl: Kubectl, work: ComponentWork) -> list[PodProblem]:
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
            pods = kubectl.items("pods", "-n", namespace)
            events = kubectl.items("events", "-n", namespace, "--field-selector", "reason=FailedScheduling")
            if any(_pull_failing(pod) for pod in pods):  # the kubelet's `Failed to pull image "X": <why>`
                events += kubectl.items("events", "-n", namespace, "--field-selector", "reason=Failed")
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


def _pull_failing(pod: Obj) -> bool:
    """A container of `pod` waits for an image that could not be pulled."""
    status = pod.get("status") or {}
    statuses = [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]
    reasons = {((status.get("state") or {}).get("waiting") or {}).get("reason") for status in statuses}
    return bool(reasons & {"ErrImagePull", "ImagePullBackOff"})
