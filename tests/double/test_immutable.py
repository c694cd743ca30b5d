"""The double refuses changes of immutable fields as kube-apiserver does (tests/double/immutable.py)."""

from __future__ import annotations

from tests.double.fixtures import ClusterHandle

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: jobset-controller-manager, namespace: default}}
spec:
  selector: {{matchLabels: {labels}}}
  template:
    metadata: {{labels: {labels}}}
    spec: {{containers: [{{name: manager, image: registry.k8s.io/jobset/jobset:v0.10.1}}]}}
"""

BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: meta-controller-cluster-role-binding}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}
subjects: [{{kind: ServiceAccount, name: meta-controller-service, namespace: kubeflow}}]
"""


def apply(cluster: ClusterHandle, manifest: str) -> tuple[int, str]:
    result = cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)
    return result.returncode, result.stdout + result.stderr


def test_a_deployment_whose_selector_changes_is_refused_with_field_is_immutable(cluster: ClusterHandle) -> None:
    assert apply(cluster, DEPLOYMENT.format(labels="{app: jobset}"))[0] == 0
    code, said = apply(cluster, DEPLOYMENT.format(labels="{app: jobset, control-plane: controller-manager}"))
    assert code == 1
    assert 'The Deployment "jobset-controller-manager" is invalid: spec.selector: Invalid value: ' in said
    assert said.rstrip().endswith("field is immutable")
    stored = cluster.object("Deployment", "jobset-controller-manager", "default")
    assert stored is not None and stored["spec"]["selector"] == {"matchLabels": {"app": "jobset"}}


def test_a_deployment_applied_again_unchanged_or_with_a_new_image_is_accepted(cluster: ClusterHandle) -> None:
    assert apply(cluster, DEPLOYMENT.format(labels="{app: jobset}"))[0] == 0
    assert apply(cluster, DEPLOYMENT.format(labels="{app: jobset}").replace("v0.10.1", "v0.11.0"))[0] == 0


def test_a_binding_whose_role_changes_is_refused_and_accepted_after_a_delete(cluster: ClusterHandle) -> None:
    assert apply(cluster, BINDING.format(role="meta-controller-role"))[0] == 0
    code, said = apply(cluster, BINDING.format(role="cluster-admin"))
    assert code == 1 and "roleRef: Invalid value: " in said and "cannot change roleRef" in said
    assert cluster.kubectl("delete", "clusterrolebinding", "meta-controller-cluster-role-binding").returncode == 0
    assert apply(cluster, BINDING.format(role="cluster-admin"))[0] == 0


def test_a_statefulset_whose_service_name_changes_is_refused(cluster: ClusterHandle) -> None:
    manifest = """apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: mysql, namespace: default}}
spec:
  serviceName: {service}
  selector: {{matchLabels: {{app: mysql}}}}
  template:
    metadata: {{labels: {{app: mysql}}}}
    spec: {{containers: [{{name: mysql, image: mysql:8.0}}]}}
"""
    assert apply(cluster, manifest.format(service="mysql"))[0] == 0
    code, said = apply(cluster, manifest.format(service="mysql-headless"))
    assert code == 1 and "updates to statefulset spec for fields other than 'replicas'" in said
