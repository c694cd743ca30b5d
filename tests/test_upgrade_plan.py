"""The upgrade as data (install/upgrade.py): what is pruned, kept, replaced, added and removed, and in which order."""

from __future__ import annotations

from typing import Any

import pytest

from kfinstall.install.upgrade import immutable_changes, plan_upgrade
from kfinstall.release.pins import Pins, load_pins


@pytest.fixture(scope="module")
def pins() -> Pins:
    return load_pins()


def obj(kind: str, name: str, namespace: str | None = None, *, api: str = "v1", component: str | None = "katib",
        release: str = "v1.10.2", **body: Any) -> dict[str, Any]:  # fmt: skip
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if component:
        metadata["labels"] = {"kfinstall.dev/component": component, "kfinstall.dev/release": release}
    return {"apiVersion": api, "kind": kind, "metadata": metadata, **body}


def deployment(name: str, selector: dict[str, str], **labels: Any) -> dict[str, Any]:
    return obj("Deployment", name, "kubeflow", api="apps/v1", spec={"selector": {"matchLabels": selector}}, **labels)


def test_an_object_kfinstall_applied_that_the_new_build_lacks_is_pruned(pins: Pins) -> None:
    live = [deployment("minio", {"app": "minio"}, component="pipelines"), deployment("katib-ui", {"app": "ui"})]
    built = [deployment("katib-ui", {"app": "ui"}, release="v1.11.0")]
    plan = plan_upgrade("v1.10.2", ["katib", "pipelines"], pins.get("v1.11.0"), ["katib"], live, built)
    assert [str(r) for r in plan.prune] == ["deployment.apps/minio -n kubeflow"]
    assert plan.removed == ("pipelines",) and plan.added == ()


def test_objects_without_kfinstalls_label_owned_by_another_or_a_services_endpoints_are_never_pruned(pins: Pins) -> None:
    owned = deployment("made-by-a-controller", {"a": "b"})
    owned["metadata"]["ownerReferences"] = [{"kind": "Thing", "name": "x", "uid": "1"}]
    endpoints = obj("Endpoints", "katib-ui", "kubeflow")  # the Service's labels, copied by its controller
    live = [obj("ConfigMap", "users-own", "kubeflow", component=None), owned, endpoints]
    plan = plan_upgrade("v1.10.2", ["katib"], pins.get("v1.11.0"), ["katib"], live, [])
    assert plan.prune == ()


def test_claims_profiles_and_the_profiles_crd_are_kept_not_pruned(pins: Pins) -> None:
    live = [
        obj("PersistentVolumeClaim", "minio-pvc", "kubeflow", component="pipelines"),
        obj("Profile", "kubeflow-user-example-com", api="kubeflow.org/v1", component="user-namespace"),
        obj("CustomResourceDefinition", "profiles.kubeflow.org", api="apiextensions.k8s.io/v1", component="profiles"),
    ]
    plan = plan_upgrade("v1.10.2", ["pipelines"], pins.get("v1.11.0"), [], live, [])
    assert plan.prune == ()
    assert sorted(r.name for r in plan.kept) == ["kubeflow-user-example-com", "minio-pvc", "profiles.kubeflow.org"]


def test_the_prune_order_is_webhooks_first_components_newest_first_crds_last_and_namespaces_are_kept(
    pins: Pins,
) -> None:
    live = [
        obj("CustomResourceDefinition", "experiments.kubeflow.org", api="apiextensions.k8s.io/v1"),
        obj("Namespace", "katib-ns"),
        obj("ClusterRole", "katib-controller", api="rbac.authorization.k8s.io/v1"),
        obj("Service", "katib-ui", "kubeflow"),
        obj("ValidatingWebhookConfiguration", "katib.kubeflow.org", api="admissionregistration.k8s.io/v1"),
        obj("Service", "old-dashboard", "kubeflow", component="central-dashboard"),
    ]
    plan = plan_upgrade("v1.10.2", ["central-dashboard", "katib"], pins.get("v1.10.2"), [], live, [])
    assert [r.kind for r in plan.prune] == ["ValidatingWebhookConfiguration", "Service", "ClusterRole", "Service",
                                            "CustomResourceDefinition"]  # fmt: skip
    assert [str(r) for r in plan.kept] == ["namespace/katib-ns"]  # it may hold what the user made
    assert [r.component for r in plan.prune[1:4]] == ["katib", "katib", "central-dashboard"]


def test_a_selector_that_changes_even_by_losing_labels_is_a_replacement(pins: Pins) -> None:
    live = [deployment("jobset-controller-manager", {"a": "1", "b": "2"})]
    built = [deployment("jobset-controller-manager", {"a": "1"}, release="v1.11.0")]
    plan = plan_upgrade("v1.10.2", ["katib"], pins.get("v1.11.0"), ["katib"], live, built)
    assert [str(r) for r in plan.replace] == [
        "deployment.apps/jobset-controller-manager -n kubeflow (spec.selector changes)"
    ]
    assert plan.prune == ()


def test_defaults_the_server_added_are_no_change_of_an_immutable_field() -> None:
    claim = {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    defaulted = {**claim, "spec": {**claim["spec"], "volumeMode": "Filesystem"}}
    selector = {"matchLabels": {"a": "b"}}
    live = obj("StatefulSet", "mysql", "kubeflow", api="apps/v1", spec={
        "serviceName": "mysql", "podManagementPolicy": "OrderedReady", "selector": selector,
        "volumeClaimTemplates": [defaulted]})  # fmt: skip
    built = obj("StatefulSet", "mysql", "kubeflow", api="apps/v1",
                spec={"serviceName": "mysql", "selector": selector, "volumeClaimTemplates": [claim]})  # fmt: skip
    assert immutable_changes(live, built) == ()
    built["spec"]["serviceName"] = "mysql-headless"
    assert immutable_changes(live, built) == ("spec.serviceName",)


def test_a_binding_whose_role_changes_is_replaced() -> None:
    role = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole"}
    live = obj("ClusterRoleBinding", "b", api="rbac.authorization.k8s.io/v1", roleRef={**role, "name": "old"})
    built = obj("ClusterRoleBinding", "b", api="rbac.authorization.k8s.io/v1", roleRef={**role, "name": "new"})
    assert immutable_changes(live, built) == ("roleRef",)


def test_the_release_notes_of_the_installed_release_come_with_the_plan(pins: Pins) -> None:
    plan = plan_upgrade("v1.10.2", [], pins.get("v1.11.0"), [], [], [], ("v1.32.0", "v1.34.0"))
    assert [str(d) for d in plan.deletes] == ["deployment.apps/minio -n kubeflow"]
    assert plan.notes and plan.source and plan.kubernetes == ("v1.32.0", "v1.34.0")
    assert plan.destructive
    document = plan.as_dict()
    assert document["from"] == "v1.10.2" and document["to"] == "v1.11.0"
    assert document["kubernetes"] == {"from": "v1.32.0", "to": "v1.34.0"}


def test_a_change_of_components_within_a_release_has_no_release_notes(pins: Pins) -> None:
    plan = plan_upgrade("v1.11.0", ["katib"], pins.get("v1.11.0"), [], [], [])
    assert plan.deletes == () and plan.notes == () and plan.removed == ("katib",)
    assert not plan.is_release_change
