"""The order `down --keep-cluster` deletes in, decided from the labelled objects and the install record (pure)."""

from __future__ import annotations

from typing import Any

from kfinstall.commands.down import component_order, removal_steps
from kfinstall.kube.record import ComponentRecord, InstallRecord
from kfinstall.manifests.objects import COMPONENT_LABEL


def obj(kind: str, name: str, component: str | None, namespace: str | None = None, api: str = "v1") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": {COMPONENT_LABEL: component} if component else {}}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": metadata}


def record(**applied: tuple[str, str | None]) -> InstallRecord:
    components = {key: ComponentRecord("hash", at, ready) for key, (at, ready) in applied.items()}
    return InstallRecord("v1", None, "minimal", "0", "t", components=components)


def titles(steps) -> list[str]:
    return [step.title for step in steps]


def test_components_are_ordered_by_when_they_were_applied_then_ready() -> None:
    installed = record(katib=("T2", "T3"), istio=("T1", "T1"), dex=("T1", "T2"))
    assert component_order(installed, set()) == ["istio", "dex", "katib"]


def test_the_recorded_install_order_wins_over_timestamps_of_the_same_second() -> None:
    installed = record(istio=("T1", "T1"), dex=("T1", "T1"), oidc=("T1", "T1"))
    installed.order = ["istio", "dex", "oidc"]
    assert component_order(installed, set()) == ["istio", "dex", "oidc"]


def test_a_component_found_only_by_label_counts_as_the_newest() -> None:
    assert component_order(record(istio=("T1", "T1")), {"istio", "stray"}) == ["istio", "stray"]


def test_webhooks_first_then_components_newest_first_then_namespaces_then_crds() -> None:
    objects = [
        obj("Namespace", "kubeflow", "kubeflow-namespace"),
        obj("CustomResourceDefinition", "experiments.kubeflow.org", "katib", api="apiextensions.k8s.io/v1"),
        obj("Deployment", "katib-ui", "katib", "kubeflow", api="apps/v1"),
        obj("ValidatingWebhookConfiguration", "katib", "katib", api="admissionregistration.k8s.io/v1"),
        obj("Deployment", "istiod", "istio", "istio-system", api="apps/v1"),
        obj("ClusterRole", "katib", "katib", api="rbac.authorization.k8s.io/v1"),
    ]
    steps = removal_steps(
        objects, record(istio=("T1", "T1"), katib=("T2", "T3"), **{"kubeflow-namespace": ("T1", "T1")})
    )
    assert titles(steps) == ["webhook configurations", "katib", "istio", "namespaces", "custom resource definitions"]
    katib = steps[1]
    assert [ref.kind for ref in katib.refs] == ["Deployment", "ClusterRole"]  # namespaced before cluster-scoped


def test_objects_without_our_label_are_never_in_any_step() -> None:
    objects = [obj("ConfigMap", "mine", None, "default"), obj("Namespace", "my-data", None)]
    assert removal_steps(objects, None) == []
