"""`minikube start --kubernetes-version=NEWER` on an existing profile upgrades it in place: every object stays.

minikube keeps the node and its etcd across the upgrade (kubernetes/minikube pkg/minikube/bootstrapper/kubeadm/
kubeadm.go restarts the control plane on the same node), and refuses a downgrade (K8S_DOWNGRADE_UNSUPPORTED,
cmd/minikube/cmd/start.go validateKubernetesVersion); the fake does both (tests/double/persist.py).
"""

from __future__ import annotations

import json
import subprocess

from tests.fakes.fixtures import FakeTools

CLAIM = """apiVersion: v1
kind: Namespace
metadata: {name: user}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: workspace, namespace: user}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"""


def kubectl(fake_tools: FakeTools, *args: str, input: str | None = None) -> str:
    result = subprocess.run(["kubectl", "--context", "kubeflow", *args], input=input, env=fake_tools.env,
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_in_place_kubernetes_upgrade_keeps_every_object_and_serves_the_new_version(fake_tools: FakeTools) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.32.0").returncode == 0
    kubectl(fake_tools, "apply", "--server-side", "-f", "-", input=CLAIM)
    uid = kubectl(fake_tools, "get", "pvc", "workspace", "-n", "user", "-o", "jsonpath={.metadata.uid}")

    upgraded = fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.34.0")

    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(kubectl(fake_tools, "get", "--raw", "/version"))["gitVersion"] == "v1.34.0"
    assert kubectl(fake_tools, "get", "pvc", "workspace", "-n", "user", "-o", "jsonpath={.metadata.uid}") == uid
    assert kubectl(fake_tools, "get", "node", "-o", "name") == "node/kubeflow\n"
    profiles = json.loads(fake_tools.run("minikube", "profile", "list", "-o", "json").stdout)["valid"]
    assert profiles[0]["Config"]["KubernetesConfig"]["KubernetesVersion"] == "v1.34.0"


def test_after_an_upgrade_a_downgrade_back_is_refused_and_the_cluster_stays(fake_tools: FakeTools) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.32.0").returncode == 0
    kubectl(fake_tools, "apply", "--server-side", "-f", "-", input=CLAIM)
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.34.0").returncode == 0

    back = fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.32.0")

    assert back.returncode == 106
    assert "Unable to safely downgrade existing Kubernetes v1.34.0 cluster to v1.32.0" in back.stderr
    assert kubectl(fake_tools, "get", "namespace", "user", "-o", "name") == "namespace/user\n"


def test_after_an_in_place_upgrade_no_two_objects_share_a_uid(fake_tools: FakeTools) -> None:
    """The apiserver gives every object a random UID (k8s.io/apiserver pkg/registry/rest/create.go
    `FillObjectMetaSystemFields` calls k8s.io/apimachinery pkg/util/uuid `NewUUID`), so a restarted control plane never
    hands out a kept object's UID again. Owners find their dependents by UID: a ReplicaSet given a kept object's UID
    counted another ReplicaSet's pod as its own and never made its pod (CI of stop 25: istiod, v1.10.2 -> v1.11.0)."""
    before = "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: before-{n}, namespace: default}}\n"
                     for n in range(20))  # fmt: skip
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.32.0").returncode == 0
    kubectl(fake_tools, "apply", "--server-side", "-f", "-", input=CLAIM + before)
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.34.0").returncode == 0

    kubectl(fake_tools, "apply", "--server-side", "-f", "-", input=before.replace("before-", "after-"))

    kinds = "namespaces,configmaps,persistentvolumeclaims,serviceaccounts,pods,deployments,replicasets,nodes"
    uids = kubectl(fake_tools, "get", kinds, "-A", "-o", "jsonpath={.items[*].metadata.uid}").split()
    assert len(uids) > 60
    shared = sorted({uid for uid in uids if uids.count(uid) > 1})
    assert not shared, f"{len(shared)} UIDs held by two objects each"
