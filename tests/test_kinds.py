"""Telling a CRD that is not established yet from an API the cluster will never serve."""

from __future__ import annotations

from kfinstall.kube.kinds import never_served, provided_kinds

CRD_V1 = {
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "kubeflow.org",
        "names": {"kind": "Experiment"},
        "versions": [{"name": "v1beta1", "served": True}, {"name": "v1alpha3", "served": False}],
    },
}
CRD_V1BETA1 = {
    "kind": "CustomResourceDefinition",
    "spec": {"group": "cert-manager.io", "names": {"kind": "Certificate"}, "version": "v1alpha2"},
}


def error(kind: str, version: str) -> str:
    return (
        f'resource mapping not found for name: "x" namespace: "": no matches for kind "{kind}" in version "{version}"'
    )


def test_crds_provide_their_served_versions_only() -> None:
    assert provided_kinds([CRD_V1, CRD_V1BETA1, {"kind": "Deployment"}]) == {
        ("kubeflow.org/v1beta1", "Experiment"),
        ("cert-manager.io/v1alpha2", "Certificate"),
    }


def test_a_kind_some_crd_of_the_install_provides_may_still_come() -> None:
    assert never_served([error("Experiment", "kubeflow.org/v1beta1")], provided_kinds([CRD_V1])) == []


def test_an_api_removed_from_kubernetes_is_never_served() -> None:
    errors = [error("CustomResourceDefinition", "apiextensions.k8s.io/v1beta1")] * 2
    assert never_served(errors, set()) == ["CustomResourceDefinition (apiextensions.k8s.io/v1beta1)"]


def test_a_version_the_crd_does_not_serve_is_never_served() -> None:
    assert never_served([error("Experiment", "kubeflow.org/v1alpha3")], provided_kinds([CRD_V1])) == [
        "Experiment (kubeflow.org/v1alpha3)"
    ]
