"""Ports name their protocol before server-side apply: Kubernetes < 1.21 refuses a list-map key it cannot default.

Sources: kubernetes-sigs/structured-merge-diff#130 and #183, kubernetes/kubernetes#96480 and #98576 (the defaults
that fixed it), tests/double/listmapkeys.py (the double's rule).
"""

from __future__ import annotations

import copy

from kfinstall.manifests.objects import parse, with_port_protocols

WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: webhook, namespace: kubeflow}
spec:
  template:
    spec:
      initContainers:
      - {name: init, image: busybox, ports: [{containerPort: 9000}]}
      containers:
      - {name: server, image: webhook, ports: [{containerPort: 443, name: https}, {containerPort: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: webhook, namespace: kubeflow}
spec:
  ports: [{port: 443, targetPort: 4443}, {port: 53, protocol: UDP}]
"""


def protocols(obj: dict, *path: str) -> list:
    for key in path:
        obj = obj[key]
    return [port.get("protocol") for port in obj]


def test_container_and_init_container_ports_without_protocol_get_tcp() -> None:
    deployment = with_port_protocols(parse(WORKLOADS))[0]
    pod = deployment["spec"]["template"]["spec"]
    assert protocols(pod, "initContainers", 0, "ports") == ["TCP"]
    assert protocols(pod, "containers", 0, "ports") == ["TCP", "UDP"]


def test_service_ports_without_protocol_get_tcp_and_others_keep_theirs() -> None:
    service = with_port_protocols(parse(WORKLOADS))[1]
    assert service["spec"]["ports"] == [
        {"port": 443, "targetPort": 4443, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
    ]


def test_a_cron_jobs_job_template_ports_get_tcp() -> None:
    cron = {
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"ports": [{"containerPort": 80}]}]}}}}},
    }
    (out,) = with_port_protocols([cron])
    assert protocols(out, "spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "ports") == ["TCP"]


def test_the_input_objects_are_not_changed() -> None:
    objects = parse(WORKLOADS)
    before = copy.deepcopy(objects)
    with_port_protocols(objects)
    assert objects == before


def test_objects_whose_ports_all_name_a_protocol_are_passed_through_as_they_are() -> None:
    objects = [{"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80, "protocol": "TCP"}]}}]
    assert with_port_protocols(objects)[0] is objects[0]


def test_a_custom_resource_named_service_is_left_alone() -> None:
    knative = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}}
    assert with_port_protocols([knative]) == [knative]


def test_ephemeral_container_ports_are_no_keyed_list_and_are_left_alone() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "spec": {"ephemeralContainers": [{"ports": [{"containerPort": 80}]}]}}
    assert with_port_protocols([pod]) == [pod]
