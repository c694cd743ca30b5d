"""Built manifests as data: parsing kustomize output faithfully, labelling, hashing, finding images."""

from __future__ import annotations

from kfinstall.manifests.objects import (
    COMPONENT_LABEL,
    RELEASE_LABEL,
    as_apply_input,
    content_hash,
    images,
    labelled,
    parse,
)

STREAM = """\
apiVersion: v1
kind: Namespace
metadata:
  name: katib
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: katib
  labels:
    app: katib
data:
  enabled: on
  answer: yes
  released: 2021-10-08
  strict: true
---
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: katib-controller
  namespace: katib
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: manager
        image: docker.io/kubeflowkatib/katib-controller:v0.12.0
      - name: sidecar
        image: busybox:1.36
"""


def test_parse_skips_empty_documents() -> None:
    assert [obj["kind"] for obj in parse(STREAM)] == ["Namespace", "ConfigMap", "Deployment"]


def test_parse_keeps_yaml_1_1_words_and_dates_as_strings_like_kubernetes_does() -> None:
    data = parse(STREAM)[1]["data"]
    assert data == {"enabled": "on", "answer": "yes", "released": "2021-10-08", "strict": True}


def test_parse_flattens_lists() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n"
    assert parse(text) == [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}]


def test_labelled_adds_component_and_release_and_keeps_existing_labels() -> None:
    objects = labelled(parse(STREAM), "katib", "v1.4.0")
    assert objects[1]["metadata"]["labels"] == {"app": "katib", COMPONENT_LABEL: "katib", RELEASE_LABEL: "v1.4.0"}
    assert all(obj["metadata"]["labels"][COMPONENT_LABEL] == "katib" for obj in objects)


def test_labelled_does_not_change_its_input() -> None:
    objects = parse(STREAM)
    labelled(objects, "katib", "v1.4.0")
    assert "labels" not in objects[0]["metadata"]


def test_content_hash_changes_with_content_only() -> None:
    first, second = labelled(parse(STREAM), "katib", "v1.4.0"), labelled(parse(STREAM), "katib", "v1.4.0")
    assert content_hash(first) == content_hash(second)
    assert content_hash(first) != content_hash(labelled(parse(STREAM), "katib", "v1.9.1"))


def test_apply_input_is_a_stream_of_the_objects_in_order() -> None:
    objects = parse(STREAM)
    assert parse(as_apply_input(objects)) == objects


def test_images_lists_each_container_image_once() -> None:
    assert images(parse(STREAM)) == ["busybox:1.36", "docker.io/kubeflowkatib/katib-controller:v0.12.0"]


def test_a_bare_equals_sign_is_a_string_not_yaml_1_1_s_value_type() -> None:
    (obj,) = parse("kind: X\nmetadata: {name: x}\nspec:\n  match: =\n  types:\n  - =\n  - =~\n")
    assert obj["spec"] == {"match": "=", "types": ["=", "=~"]}
