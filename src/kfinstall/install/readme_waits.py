"""The README's own `kubectl wait` lines, kept as data in the pins, checked the way kfinstall waits.

kfinstall does not shell out to `kubectl wait`: `--for=jsonpath` needs kubectl 1.23+, and one blocking wait
per line would serialise the install. Each line becomes a check that answers "what is still missing?" in one
`kubectl get`, polled together with the component's other readiness checks.

A component that applies Kubeflow Profiles (user-namespace) also waits for what the profile controller makes of
each: upstream sleeps 30 s after `common/user-namespace/base` "to let the profile controller reconcile the
namespace" and then uses it (community-distribution tests/kubeflow_profile_install.sh); kfinstall instead waits,
per Profile, until its namespace exists with the `default-editor` ServiceAccount that notebooks and pipelines run
as (the controller's DEFAULT_EDITOR, kubeflow/kubeflow components/profile-controller/controllers/
profile_controller.go). Derived from the built objects, so no release needs a pin for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from kfinstall.errors import KfError
from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.readiness import pod_ready

if TYPE_CHECKING:
    from kfinstall.release.pins import Wait

Check = Callable[[Kubectl], "str | None"]


def check_for(wait: Wait) -> Check:
    """A readiness check for one README wait line: None when satisfied, else what is missing."""

    def check(kubectl: Kubectl) -> str | None:
        selector = ("-l", wait.selector) if wait.selector else ()
        try:
            items = kubectl.items("pods" if wait.what == "pods" else "endpoints", "-n", wait.namespace, *selector)
        except KfError:
            return "the API server did not answer"
        where = f"{wait.what} in {wait.namespace}" + (f" matching {wait.selector}" if wait.selector else "")
        if not items:
            return f"no {where} yet"
        if wait.what == "pods":
            ready = sum(pod_ready(pod) for pod in items)
            return None if ready == len(items) else f"{ready}/{len(items)} {where} ready"
        serving = sum(_served_by_pods(endpoints) for endpoints in items)
        return None if serving == len(items) else f"{serving}/{len(items)} {where} served by a pod"

    return check


def _served_by_pods(endpoints: dict) -> bool:
    """What the README checks with `--for=jsonpath='{.subsets[0].addresses[0].targetRef.kind}'=Pod`."""
    subsets = endpoints.get("subsets") or []
    addresses = (subsets[0].get("addresses") or []) if subsets else []
    return bool(addresses) and (addresses[0].get("targetRef") or {}).get("kind") == "Pod"


#: The ServiceAccount the profile controller makes in every Profile's namespace, and workloads there run as.
PROFILE_EDITOR = "default-editor"


def profile_checks(objects: Iterable[dict[str, Any]]) -> tuple[Check, ...]:
    """One check per Kubeflow Profile among `objects`: its namespace and `default-editor` ServiceAccount exist."""
    return tuple(
        _profile_namespace(str(obj["metadata"]["name"]))
        for obj in objects
        if obj.get("kind") == "Profile" and str(obj.get("apiVersion", "")).startswith("kubeflow.org/")
    )


def _profile_namespace(name: str) -> Check:
    def check(kubectl: Kubectl) -> str | None:
        try:
            found = kubectl.items("serviceaccount", PROFILE_EDITOR, "-n", name, "--ignore-not-found")
        except KfError:
            return "the API server did not answer"
        if not found:
            return f"profile {name}: the profile controller has not made namespace {name} with its {PROFILE_EDITOR} yet"
        return None

    return check
