"""Server-side apply refuses an object that does not fit the served version's schema, as structured-merge-diff's
typed conversion does (tests/double/typed.py: kubernetes-sigs/structured-merge-diff typed/validate.go, kubernetes
managedfields/internal/structuredmerge.go; schemas from PyPI kubernetes-validate), through the real kubectl."""

from __future__ import annotations

import json

import pytest

from tests.double import typed
from tests.double.fixtures import ClusterHandle

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}


def deployment(**template_spec: object) -> dict:
    spec = {"containers": [{"name": "web", "image": "example.com/web:1"}], **template_spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec},
        },
    }


def apply(cluster: ClusterHandle, *objects: dict):
    manifest = "\n---\n".join(json.dumps(o) for o in objects)
    return cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)


@pytest.fixture
def cluster(make_cluster) -> ClusterHandle:
    handle = make_cluster(k8s_version="v1.31.0")
    assert apply(handle, NAMESPACE).returncode == 0
    return handle


def test_a_field_the_schema_does_not_declare_is_refused_naming_the_object_and_the_path(cluster):
    obj = deployment()
    obj["spec"]["template"]["imagePullSecrets"] = [{"name": "pull"}]  # belongs under template.spec
    result = apply(cluster, obj)
    assert result.returncode != 0
    assert (
        "Error from server: failed to create typed patch object (apps/web; apps/v1, Kind=Deployment): "
        ".spec.template.imagePullSecrets: field not declared in schema"
    ) in result.stderr
    assert cluster.objects("Deployment", "apps") == []


def test_a_string_where_the_schema_wants_a_number_is_refused(cluster):
    obj = deployment()
    obj["spec"]["replicas"] = "dos"
    result = apply(cluster, obj)
    assert ".spec.replicas: expected numeric (int or float), got string" in result.stderr


def test_a_keyed_element_is_named_by_its_keys_with_the_defaulted_protocol(cluster):
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "8080"}]
    result = apply(cluster, obj)
    assert (
        '.spec.template.spec.containers[name="web"].ports[containerPort="8080",protocol="TCP"].containerPort: '
        "expected numeric (int or float), got string"
    ) in result.stderr


def test_a_number_where_the_schema_wants_a_string_is_refused(cluster):
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "SMTP_PORT", "value": 587}]
    result = apply(cluster, obj)
    assert (
        '.spec.template.spec.containers[name="web"].env[name="SMTP_PORT"].value: '
        "expected string, got &value.valueUnstructured{Value:587}"
    ) in result.stderr


def test_two_elements_with_the_same_key_are_refused_as_duplicates(cluster):
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "A", "value": "1"}, {"name": "A"}]
    result = apply(cluster, obj)
    assert '.spec.template.spec.containers[name="web"].env: duplicate entries for key [name="A"]' in result.stderr


def test_quantities_and_int_or_strings_take_numbers_and_strings(cluster):
    obj = deployment()
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"cpu": 1, "nvidia.com/gpu": 1, "memory": "1Gi"}}
    container["livenessProbe"] = {"httpGet": {"port": "http", "path": "/"}}
    container["readinessProbe"] = {"httpGet": {"port": 8080}}
    result = apply(cluster, obj)
    assert result.returncode == 0, result.stderr
    assert cluster.object("Deployment", "web", "apps", "apps")["spec"]["template"]["spec"]["containers"][0]


def test_a_map_takes_any_key_but_only_values_of_its_type(cluster):
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "apps"}}
    assert apply(cluster, {**config, "data": {"any.key-at_all": "yes"}}).returncode == 0
    result = apply(cluster, {**config, "data": {"port": 8080}})
    assert (
        "(apps/settings; /v1, Kind=ConfigMap): .data.port: expected string, got &value.valueUnstructured{Value:8080}"
    ) in result.stderr


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer"},
                                    "settings": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


def widget(spec: dict) -> dict:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "apps"},
        "spec": spec,
    }


def test_a_custom_resource_field_its_crd_does_not_declare_is_refused(cluster):
    assert apply(cluster, CRD).returncode == 0
    cluster.kubectl("wait", "--for=condition=Established", "crd/widgets.example.com")
    result = apply(cluster, widget({"size": 1, "colour": "red"}))
    assert (
        "failed to create typed patch object (apps/w; example.com/v1, Kind=Widget): "
        ".spec.colour: field not declared in schema"
    ) in result.stderr


def test_a_custom_resource_keeps_what_its_crd_preserves_and_maps_it_declares(cluster):
    assert apply(cluster, CRD).returncode == 0
    cluster.kubectl("wait", "--for=condition=Established", "crd/widgets.example.com")
    result = apply(cluster, widget({"size": 1, "settings": {"any": {"thing": [1]}}, "tags": {"team": "ml"}}))
    assert result.returncode == 0, result.stderr
    assert cluster.object("Widget", "w", "apps", "example.com")["spec"]["settings"] == {"any": {"thing": [1]}}


def test_before_1_25_no_schema_is_shipped_so_built_in_kinds_are_not_checked_here() -> None:
    obj = deployment()
    obj["spec"]["template"]["imagePullSecrets"] = [{"name": "pull"}]
    assert typed.apply_errors("apps", "v1", "Deployment", obj, 19, None) == []


@pytest.mark.parametrize("minor", [25, 31, 32, 34, 37, 40])
def test_every_served_version_from_1_25_has_a_schema_and_a_newer_one_takes_the_newest(minor: int) -> None:
    obj = deployment()
    obj["spec"]["template"]["imagePullSecrets"] = [{"name": "pull"}]
    assert typed.apply_errors("apps", "v1", "Deployment", obj, minor, None) == [
        ".spec.template.imagePullSecrets: field not declared in schema"
    ]
