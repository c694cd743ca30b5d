"""The double's Istio sidecar injection, with the injector of a real release (v1.10.2's istio-install build).

The double must place Kubeflow's pods with the proxy Istio adds to them, as a real cluster does; otherwise a node
that cannot hold an install looks as if it could (tests/double/istio.py).
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.double.fixtures import ClusterHandle
from tests.double.test_api import apply, wait_for
from tests.paths import BUNDLE_COMMITS, MANIFESTS_BUNDLE, needs_bundle, real_kubectl

pytestmark = needs_bundle

#: What the injector of v1.10.2 needs to serve: its configuration, its webhooks, istiod and its Service.
INJECTOR_OBJECTS = {
    ("ConfigMap", "istio-sidecar-injector"),
    ("MutatingWebhookConfiguration", "istio-sidecar-injector"),
    ("Deployment", "istiod"),
    ("Service", "istiod"),
    ("ServiceAccount", "istiod"),
}


@pytest.fixture(scope="module")
def injector_manifest(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The injector's objects as v1.10.2's `common/istio/istio-install/base` builds them, istio-system first."""
    root = tmp_path_factory.mktemp("istio")
    clone = root / "clone"
    subprocess.run(["git", "clone", "-q", "--bare", str(MANIFESTS_BUNDLE), str(clone)], check=True)
    archive = subprocess.run(
        ["git", "--git-dir", str(clone), "archive", BUNDLE_COMMITS["v1.10.2"], "common/istio"],
        check=True,
        capture_output=True,
    )
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    built = subprocess.run(
        [str(real_kubectl()), "kustomize", str(root / "common/istio/istio-install/base")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wanted = [d for d in yaml.safe_load_all(built) if d and (d["kind"], d["metadata"]["name"]) in INJECTOR_OBJECTS]
    assert len(wanted) == len(INJECTOR_OBJECTS)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}
    return yaml.safe_dump_all([namespace, *wanted])


def workloads(cpu: str, *, namespace_labels: str = "{istio-injection: enabled}", opt_out: bool = False) -> str:
    annotations = '{sidecar.istio.io/inject: "false"}' if opt_out else "{}"
    return f"""
apiVersion: v1
kind: Namespace
metadata: {{name: work, labels: {namespace_labels}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: work}}
spec:
  selector: {{matchLabels: {{app: app}}}}
  template:
    metadata: {{labels: {{app: app}}, annotations: {annotations}}}
    spec: {{containers: [{{name: main, image: example.com/app:1, resources: {{requests: {{cpu: {cpu}}}}}}}]}}
"""


def app_pod(cluster: ClusterHandle) -> dict:
    pods = [p for p in cluster.objects("Pod", "work") if p["metadata"]["labels"].get("app") == "app"]
    return pods[0] if pods else {}


def serving_injector(make_cluster, manifest: str, **knobs) -> ClusterHandle:
    cluster = make_cluster(**knobs)
    apply(cluster, manifest)
    wait_for(lambda: any(
        s.get("addresses") for s in (cluster.object("Endpoints", "istiod", "istio-system") or {}).get("subsets") or []
    ))  # fmt: skip
    return cluster


def test_a_pod_in_an_injected_namespace_gets_the_releases_proxy_with_its_requests(make_cluster, injector_manifest):
    cluster = serving_injector(make_cluster, injector_manifest)

    apply(cluster, workloads("100m"))
    wait_for(lambda: app_pod(cluster))

    containers = {c["name"]: c for c in app_pod(cluster)["spec"]["containers"]}
    assert sorted(containers) == ["istio-proxy", "main"]
    assert containers["istio-proxy"]["image"] == "gcr.io/istio-release/proxyv2:1.26.1"
    assert containers["istio-proxy"]["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}


def test_a_pod_that_opts_out_by_annotation_gets_no_proxy(make_cluster, injector_manifest):
    cluster = serving_injector(make_cluster, injector_manifest)

    apply(cluster, workloads("100m", opt_out=True))
    wait_for(lambda: app_pod(cluster))

    assert [c["name"] for c in app_pod(cluster)["spec"]["containers"]] == ["main"]


def test_a_namespace_without_the_injection_label_gets_no_proxy(make_cluster, injector_manifest):
    cluster = serving_injector(make_cluster, injector_manifest)

    apply(cluster, workloads("100m", namespace_labels="{}"))
    wait_for(lambda: app_pod(cluster))

    assert [c["name"] for c in app_pod(cluster)["spec"]["containers"]] == ["main"]


def test_a_pod_that_fits_the_node_only_without_its_proxy_stays_pending(make_cluster, injector_manifest):
    # 2 CPUs: kube-system requests 750m and istiod 500m, so 750m are left: the app's 700m fit, with the proxy not
    cluster = serving_injector(make_cluster, injector_manifest, cpus=2, memory_mb=8192)

    apply(cluster, workloads("700m"))
    wait_for(lambda: (app_pod(cluster).get("status") or {}).get("conditions"))

    scheduled = app_pod(cluster)["status"]["conditions"][0]
    assert app_pod(cluster)["status"]["phase"] == "Pending"
    assert scheduled["message"].startswith("0/1 nodes are available: 1 Insufficient cpu.")


def test_the_same_pod_without_the_proxy_is_scheduled_on_that_node(make_cluster, injector_manifest):
    cluster = serving_injector(make_cluster, injector_manifest, cpus=2, memory_mb=8192)

    apply(cluster, workloads("700m", opt_out=True))
    wait_for(lambda: (app_pod(cluster).get("status") or {}).get("phase") == "Running")

    assert [c["name"] for c in app_pod(cluster)["spec"]["containers"]] == ["main"]


def test_without_its_configmap_istiod_injects_nothing(make_cluster, injector_manifest):
    docs = [d for d in yaml.safe_load_all(injector_manifest) if d["kind"] != "ConfigMap"]
    cluster = serving_injector(make_cluster, yaml.safe_dump_all(docs))

    apply(cluster, workloads("100m"))
    wait_for(lambda: app_pod(cluster))

    assert [c["name"] for c in app_pod(cluster)["spec"]["containers"]] == ["main"]


def test_real_v1_10_2_injector_asks_for_100m_and_128mi(injector_manifest):
    """The figures the other tests rely on are the release's, not the double's."""
    configmap = next(d for d in yaml.safe_load_all(injector_manifest) if d["kind"] == "ConfigMap")
    values = yaml.safe_load(configmap["data"]["values"])

    assert values["global"]["proxy"]["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
