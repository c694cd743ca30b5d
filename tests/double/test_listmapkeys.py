"""Server-side apply of ports without `protocol`: refused where the served Kubernetes has no default for that key.

Sources (see tests/double/listmapkeys.py): kubernetes-sigs/structured-merge-diff typed/helpers.go and #130/#183,
kubernetes/kubernetes#96480 (ContainerPort default, v1.20.0) and #98576 (ServicePort default, v1.21.0 and v1.20.6).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.double import listmapkeys
from tests.double.fixtures import ClusterHandle

NAMESPACE = """
apiVersion: v1
kind: Namespace
metadata: {name: apps}
"""
NO_DEFAULT = "associative list with keys has an element that omits key field"


def deployment(ports: list[dict], name: str = "web") -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "apps"},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": name, "image": "example.com/web:1", "ports": ports}]},
                },
            },
        }
    )


def service(ports: list[dict]) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"selector": {"app": "web"}, "ports": ports},
        }
    )


def server_side_apply(cluster: ClusterHandle, manifest: str):
    return cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)


def started(make_cluster, version: str) -> ClusterHandle:
    cluster = make_cluster(k8s_version=version)
    assert server_side_apply(cluster, NAMESPACE).returncode == 0
    return cluster


def test_on_1_19_a_container_port_without_protocol_is_refused_with_its_container_path(make_cluster):
    cluster = started(make_cluster, "v1.19.3")

    result = server_side_apply(cluster, deployment([{"containerPort": 8080}]))

    assert result.returncode != 0
    assert (
        'Error from server: failed to create typed patch object: .spec.template.spec.containers[name="web"].ports: '
        'element 0: associative list with keys has an element that omits key field "protocol"\n'
    ) in result.stderr
    assert "doesn't have default value" not in result.stderr  # structured-merge-diff v4.0.1 (Kubernetes 1.19)
    assert cluster.object("Deployment", "web", "apps") is None


def test_on_1_19_a_service_port_without_protocol_is_refused_naming_the_element(make_cluster):
    cluster = started(make_cluster, "v1.19.3")

    result = server_side_apply(cluster, service([{"port": 80, "protocol": "TCP"}, {"name": "https", "port": 443}]))

    assert result.returncode != 0
    assert (
        "failed to create typed patch object: .spec.ports: element 1: "
        'associative list with keys has an element that omits key field "protocol"'
    ) in result.stderr
    assert cluster.object("Service", "web", "apps") is None


def test_the_refusal_is_a_500_status_without_a_reason(make_cluster):
    cluster = started(make_cluster, "v1.19.3")
    request = urllib.request.Request(
        f"{cluster.url}/api/v1/namespaces/apps/services/web?fieldManager=test",
        data=service([{"port": 80}]).encode(),
        method="PATCH",
        headers={"Content-Type": "application/apply-patch+yaml"},
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    status = json.loads(refused.value.read())
    assert refused.value.code == 500
    assert status["kind"] == "Status" and status["code"] == 500 and status["status"] == "Failure"
    assert "reason" not in status  # a plain error: metav1.StatusReasonUnknown, omitted
    assert status["message"] == (
        "failed to create typed patch object: .spec.ports: element 0: " + NO_DEFAULT + ' "protocol"'
    )


def test_several_refused_lists_are_reported_together(make_cluster):
    cluster = started(make_cluster, "v1.19.3")
    manifest = json.loads(deployment([{"containerPort": 80}]))
    containers = manifest["spec"]["template"]["spec"]["containers"]
    containers.append({"name": "sidecar", "image": "example.com/side:1", "ports": [{"containerPort": 9090}]})

    result = server_side_apply(cluster, json.dumps(manifest))

    assert result.returncode != 0
    assert "failed to create typed patch object: errors:\n" in result.stderr
    assert '  .spec.template.spec.containers[name="web"].ports: element 0: ' + NO_DEFAULT in result.stderr
    assert '  .spec.template.spec.containers[name="sidecar"].ports: element 0: ' + NO_DEFAULT in result.stderr


WORKLOADS = {
    "Pod": {"apiVersion": "v1", "spec": "POD"},
    "ReplicaSet": {"apiVersion": "apps/v1", "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": "TPL"}},
    "StatefulSet": {
        "apiVersion": "apps/v1",
        "spec": {"serviceName": "x", "selector": {"matchLabels": {"a": "b"}}, "template": "TPL"},
    },
    "DaemonSet": {"apiVersion": "apps/v1", "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": "TPL"}},
    "Job": {"apiVersion": "batch/v1", "spec": {"template": "TPL"}},
    "CronJob": {
        "apiVersion": "batch/v1beta1",
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": "TPL"}}},
    },
}


def workload(kind: str) -> tuple[str, str]:
    """A `kind` whose pod has an init container with a protocol-less port, and the path the apiserver reports."""
    pod = {
        "initContainers": [{"name": "init", "image": "i:1", "ports": [{"containerPort": 81}]}],
        "containers": [{"name": "main", "image": "m:1", "ports": [{"containerPort": 80, "protocol": "UDP"}]}],
        "restartPolicy": "Never" if kind in ("Job", "CronJob") else "Always",
    }
    template = {"metadata": {"labels": {"a": "b"}}, "spec": pod}
    shape = json.loads(json.dumps(WORKLOADS[kind]))
    text = json.dumps({"kind": kind, "metadata": {"name": "w", "namespace": "apps"}, **shape})
    text = text.replace('"POD"', json.dumps(pod)).replace('"TPL"', json.dumps(template))
    prefix = ".".join(("", *listmapkeys.POD_SPEC_PATHS[(shape["apiVersion"].rpartition("/")[0], kind)]))
    return text, f'{prefix}.initContainers[name="init"].ports: element 0: {NO_DEFAULT} "protocol"'


@pytest.mark.parametrize("kind", list(WORKLOADS))
def test_on_1_19_every_workload_kind_refuses_a_pod_port_without_protocol(make_cluster, kind):
    cluster = started(make_cluster, "v1.19.3")
    manifest, error = workload(kind)

    result = server_side_apply(cluster, manifest)

    assert result.returncode != 0
    assert f"failed to create typed patch object: {error}\n" in result.stderr


def test_on_1_20_container_ports_are_defaulted_but_service_ports_are_refused_with_no_default_named(make_cluster):
    cluster = started(make_cluster, "v1.20.2")

    applied = server_side_apply(cluster, deployment([{"containerPort": 8080}]))
    refused = server_side_apply(cluster, service([{"port": 80}]))

    assert applied.returncode == 0, applied.stderr
    assert refused.returncode != 0
    assert (
        "failed to create typed patch object: .spec.ports: element 0: "
        + NO_DEFAULT
        + ' "protocol" (and doesn\'t have default value)'
    ) in refused.stderr


@pytest.mark.parametrize("version", ["v1.20.6", "v1.21.0", "v1.22.0", "v1.34.0"])
def test_once_the_default_is_published_ports_without_protocol_apply_and_get_tcp(make_cluster, version):
    cluster = started(make_cluster, version)

    results = [server_side_apply(cluster, m) for m in (deployment([{"containerPort": 8080}]), service([{"port": 80}]))]

    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert cluster.object("Service", "web", "apps")["spec"]["ports"][0]["protocol"] == "TCP"


def test_on_1_19_create_without_server_side_apply_still_defaults_protocol(make_cluster):
    cluster = started(make_cluster, "v1.19.3")

    result = cluster.kubectl("create", "-f", "-", input=service([{"port": 80}]))

    assert result.returncode == 0, result.stderr
    assert cluster.object("Service", "web", "apps")["spec"]["ports"][0]["protocol"] == "TCP"


def test_on_1_19_ports_that_name_their_protocol_apply(make_cluster):
    cluster = started(make_cluster, "v1.19.3")

    results = [
        server_side_apply(cluster, m)
        for m in (deployment([{"containerPort": 53, "protocol": "UDP"}]), service([{"port": 80, "protocol": "TCP"}]))
    ]

    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]


@pytest.mark.parametrize(
    ("version", "container", "service_port"),
    [
        ("v1.19.16", False, False),
        ("v1.20.0", True, False),
        ("v1.20.5", True, False),
        ("v1.20.6", True, True),
        ("v1.21.0", True, True),
    ],
)
def test_the_versions_whose_server_side_apply_knows_the_protocol_default(version, container, service_port):
    assert listmapkeys.container_port_protocol_defaulted(version) is container
    assert listmapkeys.service_port_protocol_defaulted(version) is service_port
