"""What kfinstall asks of the API through the real kubectl: discovery, apply semantics, get/list/selectors, delete."""

from __future__ import annotations

import json
import time

from tests.double.fixtures import ClusterHandle

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps, labels: {app: web, tier: front}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example.com/web:1.0, resources: {requests: {cpu: 100m, memory: 64Mi}}}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: apps, labels: {app: web}}
data: {color: blue}
"""


def kubectl_json(cluster: ClusterHandle, *args: str) -> dict:
    result = cluster.kubectl(*args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def apply(cluster: ClusterHandle, manifest: str) -> None:
    result = cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)
    assert result.returncode == 0, result.stderr


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_version_and_raw_discovery_answer_like_the_configured_apiserver(make_cluster):
    cluster = make_cluster(k8s_version="v1.19.3")

    version = json.loads(cluster.kubectl("get", "--raw", "/version").stdout)
    core = json.loads(cluster.kubectl("get", "--raw", "/api/v1").stdout)

    assert version["gitVersion"] == "v1.19.3" and version["minor"] == "19"
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["namespaced"] is True and pods["shortNames"] == ["po"] and "watch" in pods["verbs"]
    assert any(r["name"] == "pods/status" for r in core["resources"])


def test_a_119_server_accepts_apiextensions_v1beta1_and_a_134_server_does_not(make_cluster):
    crd = """
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  version: v1alpha1
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
"""
    old, new = make_cluster(k8s_version="v1.19.3"), make_cluster(k8s_version="v1.34.0")

    accepted = old.kubectl("apply", "--server-side", "-f", "-", input=crd)
    refused = new.kubectl("apply", "--server-side", "-f", "-", input=crd)

    assert accepted.returncode == 0, accepted.stderr
    assert refused.returncode != 0
    assert 'no matches for kind "CustomResourceDefinition" in version "apiextensions.k8s.io/v1beta1"' in refused.stderr


def test_openid_configuration_is_served_from_120_on(make_cluster):
    cluster = make_cluster(k8s_version="v1.34.0")

    config = json.loads(cluster.kubectl("get", "--raw", "/.well-known/openid-configuration").stdout)

    assert config["issuer"].startswith("https://kubernetes.default.svc")


def test_reapplying_the_same_objects_changes_nothing(cluster):
    apply(cluster, APP)
    before = kubectl_json(cluster, "get", "configmap", "settings", "-n", "apps")

    apply(cluster, APP)
    after = kubectl_json(cluster, "get", "configmap", "settings", "-n", "apps")

    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    managed = cluster.object("ConfigMap", "settings", "apps")["metadata"]["managedFields"]
    assert [(m["manager"], m["operation"]) for m in managed] == [("kubectl", "Apply")]


def test_a_changed_apply_updates_the_object_and_drops_fields_it_no_longer_sets(cluster):
    apply(cluster, APP)
    uid = kubectl_json(cluster, "get", "deployment", "web", "-n", "apps")["metadata"]["uid"]

    apply(cluster, APP.replace("replicas: 2", "replicas: 3").replace("color: blue", "size: big"))
    deployment = kubectl_json(cluster, "get", "deployment", "web", "-n", "apps")
    settings = kubectl_json(cluster, "get", "configmap", "settings", "-n", "apps")

    assert deployment["metadata"]["uid"] == uid
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["generation"] == 2
    assert settings["data"] == {"size": "big"}


def test_list_with_label_and_field_selectors_across_namespaces(cluster):
    apply(cluster, APP)

    by_label = kubectl_json(cluster, "get", "deployments,configmaps", "-A", "-l", "app=web")
    by_set = kubectl_json(cluster, "get", "deployments", "-A", "-l", "tier in (front,back),app")
    by_field = kubectl_json(cluster, "get", "namespaces", "--field-selector", "metadata.name=apps")

    assert sorted(i["kind"] for i in by_label["items"]) == ["ConfigMap", "Deployment"]
    assert [i["metadata"]["name"] for i in by_set["items"]] == ["web"]
    assert [i["metadata"]["name"] for i in by_field["items"]] == ["apps"]


def test_a_created_object_has_the_status_the_apiserver_gives_it_before_any_controller(cluster):
    """The create's own answer: no controller has run yet (kubernetes pkg/registry/*/strategy.go PrepareForCreate)."""
    created = {}
    for kind, manifest in {
        "Deployment": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: new, namespace: default}\nspec:\n"
        "  selector: {matchLabels: {app: new}}\n  template:\n    metadata: {labels: {app: new}}\n"
        "    spec: {containers: [{name: c, image: busybox:1.36}]}\n",
        "Pod": "apiVersion: v1\nkind: Pod\nmetadata: {name: new, namespace: default}\n"
        "spec: {containers: [{name: c, image: busybox:1.36}]}\n",
        "PersistentVolumeClaim": "apiVersion: v1\nkind: PersistentVolumeClaim\n"
        "metadata: {name: new, namespace: default}\n"
        "spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n",
    }.items():
        result = cluster.kubectl("create", "-f", "-", "-o", "json", input=manifest)
        assert result.returncode == 0, result.stderr
        created[kind] = json.loads(result.stdout)["status"]

    assert created == {"Deployment": {}, "Pod": {"phase": "Pending"}, "PersistentVolumeClaim": {"phase": "Pending"}}


def test_a_missing_object_is_reported_like_the_apiserver_does(cluster):
    result = cluster.kubectl("get", "deployment", "nope", "-n", "default")

    assert result.returncode == 1
    assert 'Error from server (NotFound): deployments.apps "nope" not found' in result.stderr


def test_deployment_pods_carry_owner_references_labels_and_a_ready_status(cluster):
    apply(cluster, APP)
    wait_for(lambda: cluster.object("Deployment", "web", "apps")["status"].get("readyReplicas") == 2)

    pods = kubectl_json(cluster, "get", "pods", "-n", "apps", "-l", "app=web")["items"]

    assert len(pods) == 2
    for pod in pods:
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        assert pod["status"]["phase"] == "Running"
        assert pod["status"]["containerStatuses"][0]["ready"] is True
        assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    endpoints = kubectl_json(cluster, "get", "endpoints", "-n", "default", "kubernetes")
    assert endpoints["subsets"][0]["ports"][0]["port"] == 8443


def test_deleting_by_label_removes_the_objects_and_their_pods(cluster):
    apply(cluster, APP)
    wait_for(lambda: len(cluster.objects("Pod", "apps")) == 2)

    result = cluster.kubectl("delete", "deployments,configmaps", "-n", "apps", "-l", "app=web")

    assert result.returncode == 0, result.stderr
    assert 'deployment.apps "web" deleted' in result.stdout
    wait_for(lambda: not cluster.objects("Pod", "apps"))
    assert cluster.object("ConfigMap", "settings", "apps") is None


def test_a_deleted_namespace_terminates_then_disappears_with_its_contents(make_cluster):
    cluster = make_cluster(namespace_terminate_delay=3)  # longer than a loaded machine takes to start a kubectl
    apply(cluster, APP)

    result = cluster.kubectl("delete", "namespace", "apps", "--wait=false")
    phase = kubectl_json(cluster, "get", "namespace", "apps")["status"]["phase"]
    waited = cluster.kubectl("wait", "--for=delete", "namespace/apps", "--timeout=10s")

    assert result.returncode == 0
    assert phase == "Terminating"
    assert waited.returncode == 0, waited.stderr
    assert cluster.objects("Deployment", "apps") == []


def test_creating_in_a_terminating_namespace_is_forbidden(make_cluster):
    cluster = make_cluster(namespace_terminate_delay=30)
    apply(cluster, APP)
    cluster.kubectl("delete", "namespace", "apps", "--wait=false")

    result = cluster.kubectl(
        "create", "-f", "-", input="{apiVersion: v1, kind: ConfigMap, metadata: {name: late, namespace: apps}}"
    )

    assert result.returncode != 0
    assert "unable to create new content in namespace apps because it is being terminated" in result.stderr


def test_the_node_has_the_configured_capacity(make_cluster):
    cluster = make_cluster(node_name="kf", cpus=6, memory_mb=12288, gpus=1)

    node = kubectl_json(cluster, "get", "node", "kf")

    assert node["status"]["allocatable"]["cpu"] == "6"
    assert node["status"]["allocatable"]["memory"] == "12582912Ki"
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == "1"
    assert {"type": "Ready", "status": "True"}.items() <= node["status"]["conditions"][-1].items()


def test_human_readable_get_prints_a_table(cluster):
    result = cluster.kubectl("get", "pods", "-n", "kube-system")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "etcd-minikube" in result.stdout


def test_server_side_apply_conflicts_with_another_manager_unless_forced(cluster):
    apply(cluster, APP)
    cluster.kubectl("apply", "-f", "-", input=APP.replace("color: blue", "color: red"))  # client-side apply owns it
    changed = APP.replace("color: blue", "color: green")

    refused = cluster.kubectl("apply", "--server-side", "-f", "-", input=changed)
    forced = cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=changed)
    again = cluster.kubectl("apply", "--server-side", "-f", "-", input=changed.replace("green", "black"))

    assert refused.returncode != 0
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.color'
        in refused.stderr
    )
    assert forced.returncode == 0, forced.stderr
    assert again.returncode == 0, again.stderr
    assert cluster.object("ConfigMap", "settings", "apps")["data"] == {"color": "black"}


def test_a_v1beta1_crd_reads_back_in_the_v1_shape(make_cluster):
    cluster = make_cluster(k8s_version="v1.19.3")
    crd = """
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  version: v1alpha1
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
  subresources: {status: {}}
  validation: {openAPIV3Schema: {type: object}}
"""
    apply(cluster, crd)

    read = kubectl_json(cluster, "get", "crd", "gadgets.example.com")

    assert read["apiVersion"] == "apiextensions.k8s.io/v1"
    assert read["spec"]["versions"] == [
        {
            "name": "v1alpha1",
            "served": True,
            "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object"}},
            "subresources": {"status": {}},
        }
    ]


def test_a_nodeport_is_allocated_once_and_kept_across_reapplies(cluster):
    service = """
apiVersion: v1
kind: Service
metadata: {name: gateway, namespace: default}
spec: {type: NodePort, selector: {app: gw}, ports: [{name: http, port: 80, targetPort: 8080}]}
"""
    apply(cluster, service)
    first = cluster.object("Service", "gateway", "default")

    apply(cluster, service)
    second = cluster.object("Service", "gateway", "default")

    assert 30000 <= first["spec"]["ports"][0]["nodePort"] <= 32767
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_kubectl_uses_aggregated_discovery_from_130_and_per_group_discovery_before(make_cluster):
    old, new = make_cluster(k8s_version="v1.19.3"), make_cluster(k8s_version="v1.34.0")

    for cluster in (old, new):
        assert cluster.kubectl("get", "deployments", "-A", "-o", "json").returncode == 0
    old_paths = {e["path"] for e in old.requests()}
    new_paths = {e["path"] for e in new.requests()}

    assert "/apis/apps/v1" in old_paths
    assert "/apis/apps/v1" not in new_paths and "/apis" in new_paths


def test_secret_string_data_is_stored_as_base64_data_and_reapplying_it_changes_nothing(cluster):
    secret = "{apiVersion: v1, kind: Secret, metadata: {name: creds, namespace: default}, stringData: {user: admin}}"
    apply(cluster, secret)
    first = cluster.object("Secret", "creds", "default")

    apply(cluster, secret)

    assert first["data"] == {"user": "YWRtaW4="} and "stringData" not in first
    assert first["type"] == "Opaque"
    assert (
        cluster.object("Secret", "creds", "default")["metadata"]["resourceVersion"]
        == first["metadata"]["resourceVersion"]
    )


def test_kubectl_scale_goes_through_the_scale_subresource(cluster):
    apply(cluster, APP)

    result = cluster.kubectl("scale", "deployment/web", "-n", "apps", "--replicas=3")
    scale = json.loads(cluster.kubectl("get", "--raw", "/apis/apps/v1/namespaces/apps/deployments/web/scale").stdout)

    assert result.returncode == 0, result.stderr
    assert "deployment.apps/web scaled" in result.stdout
    assert (scale["kind"], scale["spec"]["replicas"], scale["status"]["selector"]) == ("Scale", 3, "app=web")
    wait_for(lambda: len(cluster.objects("Pod", "apps")) == 3)


def test_deleting_with_cascade_orphan_keeps_the_dependents(cluster):
    apply(cluster, APP)
    wait_for(lambda: len(cluster.objects("Pod", "apps")) == 2)

    result = cluster.kubectl("delete", "deployment", "web", "-n", "apps", "--cascade=orphan")
    time.sleep(0.2)

    assert result.returncode == 0, result.stderr
    replicasets = cluster.objects("ReplicaSet", "apps")
    assert len(replicasets) == 1 and "ownerReferences" not in replicasets[0]["metadata"]
    assert len(cluster.objects("Pod", "apps")) == 2


def test_deprecated_apis_answer_with_the_apiservers_warning_which_kubectl_prints(make_cluster):
    cluster = make_cluster(k8s_version="v1.19.3")
    role = "{apiVersion: rbac.authorization.k8s.io/v1beta1, kind: ClusterRole, metadata: {name: viewer}, rules: []}"

    result = cluster.kubectl("apply", "--server-side", "-f", "-", input=role)

    assert result.returncode == 0, result.stderr
    assert (
        "Warning: rbac.authorization.k8s.io/v1beta1 ClusterRole is deprecated in v1.17+, unavailable in v1.22+; "
        "use rbac.authorization.k8s.io/v1 ClusterRole" in result.stderr
    )


def test_endpoints_are_deprecated_from_133_in_favour_of_endpoint_slices(make_cluster):
    old, new = make_cluster(k8s_version="v1.32.0"), make_cluster(k8s_version="v1.34.0")

    quiet = old.kubectl("get", "endpoints", "-n", "default", "-o", "json")
    warned = new.kubectl("get", "endpoints", "-n", "default", "-o", "json")

    assert "Warning" not in quiet.stderr
    assert "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice" in warned.stderr


def test_an_invalid_name_is_rejected_with_the_apiservers_message(cluster: ClusterHandle) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  namespace: default\n"
    result = cluster.kubectl("apply", "--server-side", "-f", "-", input=manifest)
    assert result.returncode == 1
    assert result.stderr.startswith(
        'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'
    )


def pod_requesting(name: str, **requests: str) -> str:
    container = {"name": "c", "image": "example.com/c:1", "resources": {"requests": requests}}
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                       "spec": {"containers": [container]}})  # fmt: skip


def test_a_quantity_outside_apimachinery_s_grammar_is_refused_at_write_like_the_apiserver_does(
    cluster: ClusterHandle,
) -> None:
    """`1K` (no such suffix: only `k`) and `1 Gi` are refused; `500u` and `64k` are quantities and stored."""
    refused = cluster.kubectl("apply", "--server-side", "-f", "-", input=pod_requesting("bad", memory="1K"))
    assert refused.returncode == 1
    assert 'Pod in version "v1" cannot be handled as a Pod: unable to parse quantity\'s suffix' in refused.stderr
    refused = cluster.kubectl("apply", "--server-side", "-f", "-", input=APP.replace("memory: 64Mi", "memory: 1 Gi"))
    assert refused.returncode == 1 and "quantities must match the regular expression" in refused.stderr
    apply(cluster, pod_requesting("good", memory="64k", cpu="500u"))
    stored = kubectl_json(cluster, "get", "pod", "good", "-n", "default")
    assert stored["spec"]["containers"][0]["resources"]["requests"] == {"memory": "64k", "cpu": "500u"}
