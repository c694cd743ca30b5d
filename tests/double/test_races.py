"""The races that make Kubeflow installs hard, reproduced by the double and reported by the real kubectl."""

from __future__ import annotations

import time

import pytest

from tests.double.fixtures import ClusterHandle, workload_yaml

CRD_AND_CR = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 3}
"""

WEBHOOK = """
apiVersion: v1
kind: Namespace
metadata: {name: hooks}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: webhook, namespace: hooks}
spec:
  selector: {matchLabels: {app: webhook}}
  template:
    metadata: {labels: {app: webhook}}
    spec: {containers: [{name: server, image: example.com/webhook:1.0}]}
---
apiVersion: v1
kind: Service
metadata: {name: webhook, namespace: hooks}
spec:
  selector: {app: webhook}
  ports: [{port: 443, targetPort: 8443, protocol: TCP}]  # named: 1.19's server-side apply has no default for it
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: guard}
webhooks:
- name: guard.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig:
    service: {name: webhook, namespace: hooks, path: /validate}
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  objectSelector: {matchLabels: {guarded: "yes"}}
"""

GUARDED = """
apiVersion: v1
kind: ConfigMap
metadata: {name: guarded, namespace: default, labels: {guarded: "yes"}}
data: {a: b}
"""


def apply(cluster: ClusterHandle, manifest: str) -> tuple[int, str]:
    result = cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)
    return result.returncode, result.stdout + result.stderr


def apply_until_ok(cluster: ClusterHandle, manifest: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        code, out = apply(cluster, manifest)
        if code == 0:
            return out
        assert time.monotonic() < deadline, out
        time.sleep(0.2)


@pytest.mark.parametrize("version", ["v1.34.0", "v1.19.3"])
def test_a_cr_applied_with_its_crd_fails_with_kubectls_no_matches_until_the_crd_is_established(make_cluster, version):
    cluster = make_cluster(k8s_version=version, crd_establish_delay=1.5)

    code, out = apply(cluster, CRD_AND_CR)

    assert code != 0
    assert "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied" in out
    assert 'no matches for kind "Widget" in version "example.com/v1"' in out
    assert "ensure CRDs are installed first" in out
    out = apply_until_ok(cluster, CRD_AND_CR)
    assert "widget.example.com/w1 serverside-applied" in out
    crd = cluster.object("CustomResourceDefinition", "widgets.example.com")
    assert {"type": "Established", "status": "True"}.items() <= crd["status"]["conditions"][1].items()


def test_kubectl_wait_for_a_crd_established_condition_returns_once_established(make_cluster):
    cluster = make_cluster(crd_establish_delay=0.8)
    apply(cluster, CRD_AND_CR)

    result = cluster.kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s")

    assert result.returncode == 0, result.stderr
    assert "customresourcedefinition.apiextensions.k8s.io/widgets.example.com condition met" in result.stdout


@pytest.mark.parametrize(
    ("version", "call_failed"), [("v1.34.0", "failed to call webhook: "), ("v1.19.3", "")], ids=["1.34", "1.19"]
)
def test_a_webhook_guarded_object_is_refused_with_the_apiservers_message_until_the_webhook_is_available(
    make_cluster, version, call_failed
):
    cluster = make_cluster(k8s_version=version, ready_delays={"hooks/webhook": 1.5})
    apply_until_ok(cluster, WEBHOOK)

    code, out = apply(cluster, GUARDED)

    assert code != 0
    ip = cluster.object("Service", "webhook", "hooks")["spec"]["clusterIP"]
    assert (
        f'Internal error occurred: failed calling webhook "guard.example.com": {call_failed}'
        f'Post "https://webhook.hooks.svc:443/validate?timeout=10s": dial tcp {ip}:443: connect: connection refused'
    ) in out
    waited = cluster.kubectl("wait", "--for=condition=Available", "-n", "hooks", "deployment/webhook", "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    assert apply(cluster, GUARDED)[0] == 0


def test_objects_outside_a_webhooks_object_selector_are_not_guarded(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 60})
    apply_until_ok(cluster, WEBHOOK)

    code, out = apply(cluster, GUARDED.replace('guarded: "yes"', 'guarded: "no"'))

    assert code == 0, out


def test_a_namespaced_object_before_its_namespace_fails_with_namespace_not_found(cluster):
    code, out = apply(cluster, GUARDED.replace("namespace: default", "namespace: kubeflow"))

    assert code != 0
    assert 'namespaces "kubeflow" not found' in out


def test_kubectl_wait_for_available_returns_when_the_simulated_delay_has_passed(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 1.0})
    apply_until_ok(cluster, WEBHOOK)
    started = time.monotonic()

    result = cluster.kubectl("wait", "--for=condition=Available", "-n", "hooks", "deployment/webhook", "--timeout=20s")

    assert result.returncode == 0, result.stderr
    assert "deployment.apps/webhook condition met" in result.stdout
    assert time.monotonic() - started > 0.5
    deployment = cluster.object("Deployment", "webhook", "hooks")
    assert deployment["status"]["readyReplicas"] == 1
    assert deployment["status"]["observedGeneration"] == 1


def test_kubectl_wait_times_out_with_kubectls_own_message_while_a_deployment_is_not_ready(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 600})
    apply_until_ok(cluster, WEBHOOK)

    result = cluster.kubectl("wait", "--for=condition=Available", "-n", "hooks", "deployment/webhook", "--timeout=1s")

    assert result.returncode == 1
    assert "error: timed out waiting for the condition on deployments/webhook" in result.stderr


def test_kubectl_wait_for_jsonpath_on_endpoints_by_label_returns_once_pods_are_ready(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 0.5})
    apply_until_ok(cluster, WEBHOOK)
    cluster.kubectl("label", "-n", "hooks", "service/webhook", "app=webhook")
    time.sleep(0.3)

    result = cluster.kubectl(
        "wait",
        "--for=jsonpath={.subsets[0].addresses[0].targetRef.kind}=Pod",
        "endpoints",
        "-l",
        "app in (webhook)",
        "-n",
        "hooks",
        "--timeout=20s",
    )

    assert result.returncode == 0, result.stderr
    assert "endpoints/webhook condition met" in result.stdout


def test_kubectl_wait_for_ready_pods_by_label(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 0.5})
    apply_until_ok(cluster, WEBHOOK)
    time.sleep(0.2)

    result = cluster.kubectl(
        "wait", "--for=condition=ready", "pod", "-l", "app=webhook", "-n", "hooks", "--timeout=20s"
    )

    assert result.returncode == 0, result.stderr
    assert "condition met" in result.stdout


POD_HOOK = WEBHOOK.replace(
    '  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}\n'
    '  objectSelector: {matchLabels: {guarded: "yes"}}',
    '  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}\n'
    "  namespaceSelector: {matchLabels: {injection: enabled}}",
)

INJECTED_APP = """
apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: apps}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec: {containers: [{name: main, image: example.com/app:1}]}
"""


def test_pods_of_a_deployment_are_created_only_once_a_pod_webhook_is_available(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 1.5, "apps/*": 0.1})
    apply_until_ok(cluster, POD_HOOK)
    apply_until_ok(cluster, INJECTED_APP)
    time.sleep(0.5)

    pods_while_down = cluster.objects("Pod", "apps")
    deployment_while_down = cluster.object("Deployment", "app", "apps")
    failed = [e for e in cluster.objects("Event", "apps") if e["reason"] == "FailedCreate"]
    waited = cluster.kubectl("wait", "--for=condition=Available", "-n", "apps", "deployment/app", "--timeout=20s")

    assert pods_while_down == []
    assert failed and 'failed calling webhook "guard.example.com"' in failed[0]["message"]
    assert failed[0]["message"].startswith("Error creating: Internal error occurred: ")
    assert "ReplicaFailure" in [c["type"] for c in deployment_while_down["status"]["conditions"]]
    assert waited.returncode == 0, waited.stderr
    conditions = cluster.object("Deployment", "app", "apps")["status"]["conditions"]
    assert "ReplicaFailure" not in [c["type"] for c in conditions]


def test_a_refused_pod_create_is_retried_after_the_controllers_back_off_not_the_moment_the_webhook_serves(
    make_cluster,
):
    """The first refusal holds the ReplicaSet back `create_retry_base` (6 s here, 5 ms on a real cluster) before it
    tries again (controllers/pods.py: the work queue's rate limiter): the webhook serves 3 s after its pod starts,
    at least 3 s before the retry, and the pod comes only at the retry."""
    cluster = make_cluster(ready_delays={"hooks/webhook": 3.0, "apps/*": 0.1}, create_retry_base=6.0)
    apply_until_ok(cluster, POD_HOOK)
    apply_until_ok(cluster, INJECTED_APP)
    deadline = time.monotonic() + 20
    while not any(
        s.get("addresses") for s in (cluster.object("Endpoints", "webhook", "hooks") or {}).get("subsets", [])
    ):
        assert time.monotonic() < deadline, "the webhook never served"
        time.sleep(0.05)
    time.sleep(1.0)  # not a wait for readiness: the time in which a controller without back-off made the pod

    pods_a_second_after = cluster.objects("Pod", "apps")
    waited = cluster.kubectl("wait", "--for=condition=Available", "-n", "apps", "deployment/app", "--timeout=30s")

    assert pods_a_second_after == []
    assert waited.returncode == 0, waited.stderr


def test_a_pod_mounting_a_missing_secret_waits_in_container_creating_until_it_exists(cluster):
    app = INJECTED_APP.replace("labels: {injection: enabled}", "labels: {}").replace(
        "containers: [{name: main, image: example.com/app:1}]",
        "containers: [{name: main, image: example.com/app:1}], volumes: [{name: cert, secret: {secretName: tls}}]",
    )
    apply_until_ok(cluster, app)
    time.sleep(0.6)

    pod = cluster.objects("Pod", "apps")[0]
    mount_events = [e["message"] for e in cluster.objects("Event", "apps") if e["reason"] == "FailedMount"]
    apply_until_ok(cluster, "{apiVersion: v1, kind: Secret, metadata: {name: tls, namespace: apps}}")
    waited = cluster.kubectl("wait", "--for=condition=Available", "-n", "apps", "deployment/app", "--timeout=20s")

    assert pod["status"]["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert mount_events == ['MountVolume.SetUp failed for volume "cert" : secret "tls" not found']
    assert waited.returncode == 0, waited.stderr


def test_a_webhook_on_delete_blocks_deletion_while_its_service_is_down(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 600})
    apply_until_ok(cluster, WEBHOOK.replace("operations: [CREATE, UPDATE]", "operations: [DELETE]"))
    apply_until_ok(cluster, GUARDED)

    result = cluster.kubectl("delete", "configmap", "guarded", "-n", "default")

    assert result.returncode != 0
    assert 'failed calling webhook "guard.example.com"' in result.stderr
    assert cluster.object("ConfigMap", "guarded", "default") is not None


CAINJECTOR = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: cert-manager-cainjector, namespace: hooks}
spec:
  selector: {matchLabels: {app: cainjector}}
  template:
    metadata: {labels: {app: cainjector}}
    spec: {containers: [{name: main, image: quay.io/jetstack/cert-manager-cainjector:v1.5.0}]}
---
apiVersion: v1
kind: Secret
metadata: {name: ca, namespace: hooks}
"""


def test_a_webhook_waiting_for_ca_injection_fails_with_x509_until_the_cainjector_fills_its_ca_bundle(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/webhook": 0.1, "hooks/cert-manager-cainjector": 1.0})
    annotated = WEBHOOK.replace(
        "metadata: {name: guard}",
        "metadata: {name: guard, annotations: {cert-manager.io/inject-ca-from-secret: hooks/ca}}",
    )
    apply_until_ok(cluster, annotated)
    cluster.kubectl("wait", "--for=condition=Available", "-n", "hooks", "deployment/webhook", "--timeout=20s")

    code, out = apply(cluster, GUARDED)
    apply_until_ok(cluster, CAINJECTOR)
    apply_until_ok(cluster, GUARDED)
    injected = cluster.object("ValidatingWebhookConfiguration", "guard")
    apply_until_ok(cluster, annotated)

    assert code != 0
    assert (
        '/validate?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority'
        in out
    )
    assert injected["webhooks"][0]["clientConfig"]["caBundle"]
    after = cluster.object("ValidatingWebhookConfiguration", "guard")
    assert after["metadata"]["resourceVersion"] == injected["metadata"]["resourceVersion"]


def test_kubectl_rollout_status_of_a_statefulset_and_a_daemonset_returns_once_their_pods_are_ready(make_cluster):
    cluster = make_cluster(ready_delays={"hooks/*": 0.5})
    apply_until_ok(
        cluster,
        WEBHOOK.split("---")[0] + "".join(workload_yaml(kind, "hooks") for kind in ("StatefulSet", "DaemonSet")),
    )

    sts = cluster.kubectl("rollout", "status", "-n", "hooks", "statefulset/statefulset", "--timeout=20s")
    ds = cluster.kubectl("rollout", "status", "-n", "hooks", "daemonset/daemonset", "--timeout=20s")

    assert sts.returncode == 0, sts.stderr
    assert "partitioned roll out complete: 1 new pods have been updated" in sts.stdout
    assert ds.returncode == 0, ds.stderr
    assert 'daemon set "daemonset" successfully rolled out' in ds.stdout
    assert cluster.object("StatefulSet", "statefulset", "hooks")["status"]["readyReplicas"] == 1
