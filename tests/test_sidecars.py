"""Which pods Istio's injector gives a proxy and what the proxy asks for, read from a build's own objects
(manifests/sidecars.py: istio pkg/kube/inject/inject.go injectRequired, the release's injection template)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from kfinstall.manifests.requests import Requests, injected_pods, object_requests, requests_of
from kfinstall.manifests.sidecars import injection_of

MI = 2**20


def injector(policy: str = "enabled", never: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Istio's injector objects as v1.10.2's istio-install builds them (webhooks abridged to two)."""
    config = {"policy": policy, "neverInjectSelector": never or [], "alwaysInjectSelector": []}
    values = {"global": {"hub": "gcr.io/istio-release", "tag": "1.26.1", "proxy": {
        "image": "proxyv2", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                          "limits": {"cpu": "2000m", "memory": "1024Mi"}}}}}  # fmt: skip
    return [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
         "data": {"config": yaml.safe_dump(config), "values": json.dumps(values)}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "istio-sidecar-injector"},
         "webhooks": [
             {"name": "namespace.sidecar-injector.istio.io",
              "namespaceSelector": {"matchExpressions": [
                  {"key": "istio-injection", "operator": "In", "values": ["enabled"]}]},
              "objectSelector": {"matchExpressions": [
                  {"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]}},
             {"name": "object.sidecar-injector.istio.io",
              "namespaceSelector": {"matchExpressions": [
                  {"key": "istio-injection", "operator": "DoesNotExist"},
                  {"key": "istio.io/rev", "operator": "DoesNotExist"}]},
              "objectSelector": {"matchExpressions": [
                  {"key": "sidecar.istio.io/inject", "operator": "In", "values": ["true"]}]}},
         ]},
    ]  # fmt: skip


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def deployment(ns: str, replicas: int = 1, labels: dict[str, str] | None = None,
               annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:  # fmt: skip
    container = {"name": "main", "image": "app:1", "resources": {"requests": {"cpu": "200m", "memory": "64Mi"}}}
    template = {"metadata": {"labels": labels or {}, "annotations": annotations or {}},
                "spec": {"containers": [container], **spec}}  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app", "namespace": ns},
            "spec": {"replicas": replicas, "template": template}}  # fmt: skip


BUILD = [*injector(), namespace("kubeflow", **{"istio-injection": "enabled"}), namespace("plain")]
APP = Requests(cpu=0.2, memory=64 * MI)
PROXY = Requests(cpu=0.1, memory=128 * MI)


def test_a_pod_in_an_injected_namespace_asks_for_its_containers_and_the_proxy_times_its_replicas():
    injection = injection_of(BUILD)

    assert object_requests(deployment("kubeflow", replicas=2), injection) == (APP + PROXY).times(2)
    assert injected_pods(deployment("kubeflow", replicas=2), injection) == 2


def test_a_pod_in_a_namespace_without_the_label_gets_no_proxy():
    assert object_requests(deployment("plain"), injection_of(BUILD)) == APP


def test_the_inject_annotation_false_opts_a_pod_out():
    pod = deployment("kubeflow", annotations={"sidecar.istio.io/inject": "false"})

    assert object_requests(pod, injection_of(BUILD)) == APP


def test_the_inject_label_wins_over_the_annotation():
    pod = deployment("kubeflow", labels={"sidecar.istio.io/inject": "true"},
                     annotations={"sidecar.istio.io/inject": "false"})  # fmt: skip

    assert object_requests(pod, injection_of(BUILD)) == APP + PROXY


def test_a_pod_labelled_inject_true_gets_the_proxy_in_a_namespace_without_the_label():
    pod = deployment("plain", labels={"sidecar.istio.io/inject": "true"})

    assert object_requests(pod, injection_of(BUILD)) == APP + PROXY


def test_host_network_pods_never_get_a_proxy():
    assert object_requests(deployment("kubeflow", hostNetwork=True), injection_of(BUILD)) == APP


def test_the_pods_own_proxy_annotations_set_the_proxys_requests():
    pod = deployment("kubeflow", annotations={"sidecar.istio.io/proxyCPU": "50m"})

    # the template sets only what is annotated: no memory request (and no limit to default it from)
    assert object_requests(pod, injection_of(BUILD)) == APP + Requests(cpu=0.05)


def test_a_disabled_policy_injects_only_pods_that_ask():
    build = [*injector(policy="disabled"), namespace("kubeflow", **{"istio-injection": "enabled"})]

    assert object_requests(deployment("kubeflow"), injection_of(build)) == APP


def test_the_never_inject_selector_keeps_matching_pods_without_a_proxy():
    build = [*injector(never=[{"matchLabels": {"app": "db"}}]), namespace("kubeflow", **{"istio-injection": "enabled"})]

    assert object_requests(deployment("kubeflow", labels={"app": "db"}), injection_of(build)) == APP
    assert object_requests(deployment("kubeflow", labels={"app": "web"}), injection_of(build)) == APP + PROXY


def test_a_build_without_the_injectors_configmap_counts_no_proxy():
    build = [obj for obj in BUILD if obj["kind"] != "ConfigMap"]

    assert injection_of(build).injector is None
    assert requests_of([deployment("kubeflow")], injection_of(build)) == APP


def test_the_proxy_image_is_the_hub_the_image_and_the_tag_of_the_values():
    injector_ = injection_of(BUILD).injector
    assert injector_ is not None

    assert injector_.proxy({})["image"] == "gcr.io/istio-release/proxyv2:1.26.1"
