"""How a component is split into applies: everything at once, except the custom resources of its own CRDs."""

from __future__ import annotations

from kfinstall.install.work import ComponentWork


def obj(api_version: str, kind: str, name: str, **extra: object) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}, **extra}


CRD = obj(
    "apiextensions.k8s.io/v1",
    "CustomResourceDefinition",
    "widgets.example.com",
    spec={"group": "example.com", "names": {"kind": "Widget"}},
)
WIDGET = obj("example.com/v1", "Widget", "default-widget")
DEPLOYMENT = obj("apps/v1", "Deployment", "widget-controller")
NAMESPACE = obj("v1", "Namespace", "widgets")
FOREIGN_CR = obj("cert-manager.io/v1", "Issuer", "selfsigned")  # a CRD of another (ready) component


def work(*objects: dict) -> ComponentWork:
    return ComponentWork("widgets", (), tuple(objects), "hash")


def test_workloads_go_with_the_crds_and_namespaces_first_in_the_stream() -> None:
    first = work(DEPLOYMENT, WIDGET, FOREIGN_CR, CRD, NAMESPACE).first_objects
    assert [o["kind"] for o in first] == ["Namespace", "CustomResourceDefinition", "Deployment", "Issuer"]


def test_only_the_custom_resources_of_its_own_crds_wait_for_them() -> None:
    assert work(DEPLOYMENT, WIDGET, FOREIGN_CR, CRD, NAMESPACE).later_objects == [WIDGET]


def test_a_component_without_crds_is_one_apply() -> None:
    assert work(DEPLOYMENT, FOREIGN_CR).later_objects == []
    assert len(work(DEPLOYMENT, FOREIGN_CR).first_objects) == 2
