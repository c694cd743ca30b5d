"""Upgrades on a `--context` cluster (not minikube): the same plan, steps and prune, and no Kubernetes upgrade.

The cluster is a double of its own (`make_cluster(context="lab")`, no minikube profile behind it), the releases
the two synthetic ones of tests/test_upgrade_replace.py (v0.2.0 changes katib-ui's selector and drops its Service).
kfinstall does not manage that cluster's Kubernetes: a release that needs a newer one than it serves is refused,
saying to upgrade the cluster itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.double.fixtures import ClusterHandle
from tests.fakes.fixtures import FakeTools
from tests.test_upgrade_replace import two_releases

__all__ = ["two_releases"]  # the fixture, used by name

USERS = """apiVersion: v1
kind: ConfigMap
metadata: {name: my-notes, namespace: kubeflow}
data: {a: b}
"""


@pytest.fixture
def lab(make_cluster, fake_tools: FakeTools, tmp_path: Path) -> tuple[ClusterHandle, dict[str, str]]:
    """A cluster of context `lab` serving Kubernetes v1.34.0, and the environment of a kfinstall that uses it."""
    cluster = make_cluster(context="lab", k8s_version="v1.34.0", crd_establish_delay=0.3, ready_delay=[0.1, 0.5])
    env = {**isolated_env({**fake_tools.env, **cluster.env}, tmp_path), "KFINSTALL_STATE_DIR": str(tmp_path / "state")}
    return cluster, env


def needing(pins: Path, kubernetes: dict[str, str]) -> Path:
    """`pins` with release v0.2.0 needing the Kubernetes range `kubernetes`."""
    data = yaml.safe_load(pins.read_text())
    data["releases"][1]["kubernetes"] = kubernetes
    pins.write_text(yaml.safe_dump(data, sort_keys=False))
    return pins


def install_first(env: dict[str, str], pins: Path, cluster: ClusterHandle) -> None:
    done = kfinstall("up", "--context", "lab", "--pins", str(pins), "-k", "v0.1.0", "--profile", "minimal", "--yes",
                     env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert cluster.kubectl("apply", "--server-side", "-f", "-", input=USERS).returncode == 0


def test_an_upgrade_on_a_context_cluster_replaces_prunes_and_saves_without_touching_kubernetes(
    lab: tuple[ClusterHandle, dict[str, str]], two_releases: Path, fake_tools: FakeTools, tmp_path: Path
) -> None:
    cluster, env = lab
    install_first(env, two_releases, cluster)
    plan = kfinstall("plan", "--context", "lab", "--pins", str(two_releases), "-k", "v0.2.0", "--json", env=env)
    assert plan.returncode == 0, plan.stderr
    document = json.loads(plan.stdout)
    assert document["upgrade_plan"]["prune"] == ["service/katib-ui -n kubeflow"]
    assert document["upgrade"]["kubernetes"] is None
    steps = [step["name"] for step in document["steps"]]
    assert "backup-user-data" in steps and "prune" in steps and "start-minikube" not in steps

    done = kfinstall("up", "--context", "lab", "--pins", str(two_releases), "-k", "v0.2.0", "--yes", env=env)

    assert done.returncode == 0, done.stderr
    assert "replacing deployment.apps/katib-ui -n kubeflow (spec.selector changes)" in done.stderr
    assert "pruning katib (1 object): service/katib-ui -n kubeflow" in done.stderr
    assert cluster.object("Service", "katib-ui", "kubeflow") is None
    ui = cluster.object("Deployment", "katib-ui", "kubeflow", "apps")
    assert ui is not None and ui["metadata"]["labels"]["kfinstall.dev/release"] == "v0.2.0"
    assert cluster.object("ConfigMap", "my-notes", "kubeflow") is not None
    assert list((tmp_path / "state").glob("backups/lab/*-v0.1.0-to-v0.2.0/README.txt"))
    assert not fake_tools.calls("minikube")  # no minikube anywhere: the cluster's Kubernetes is its own
    shown = cluster.kubectl("get", "configmap", "kfinstall-install", "-n", "kube-system", "-o",
                            "jsonpath={.data.install\\.json}")  # fmt: skip
    record = json.loads(shown.stdout)
    assert record["release"] == "v0.2.0" and record["upgrading_from"] is None


def test_a_release_needing_a_newer_kubernetes_than_the_context_cluster_serves_is_refused(
    lab: tuple[ClusterHandle, dict[str, str]], two_releases: Path
) -> None:
    cluster, env = lab
    install_first(env, two_releases, cluster)
    pins = needing(two_releases, {"min": "v1.35", "default": "v1.35.0"})

    done = kfinstall("up", "--context", "lab", "--pins", str(pins), "-k", "v0.2.0", "--yes", env=env)

    assert done.returncode == 2, done.stderr
    said = " ".join(done.stderr.split())
    assert ("Kubeflow v0.2.0 needs Kubernetes ≥ v1.35; the cluster of kubeconfig context 'lab' serves v1.34.0, and "
            "kfinstall upgrades the Kubernetes of minikube clusters only") in said  # fmt: skip
    assert "upgrade the cluster itself to Kubernetes v1.35 or newer" in said
    assert "Kubeflow v0.1.0 stays as it is" in said and "Traceback" not in said
    assert cluster.object("Service", "katib-ui", "kubeflow") is not None  # nothing changed
    ui = cluster.object("Deployment", "katib-ui", "kubeflow", "apps")
    assert ui is not None and ui["metadata"]["labels"]["kfinstall.dev/release"] == "v0.1.0"


def test_a_downgrade_on_a_context_cluster_is_refused(
    lab: tuple[ClusterHandle, dict[str, str]], two_releases: Path
) -> None:
    cluster, env = lab
    done = kfinstall("up", "--context", "lab", "--pins", str(two_releases), "-k", "v0.2.0", "--profile", "minimal",
                     "--yes", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr

    older = kfinstall("up", "--context", "lab", "--pins", str(two_releases), "-k", "v0.1.0", "--yes", env=env)

    assert older.returncode == 2, older.stderr
    said = " ".join(older.stderr.split())
    assert "the cluster of kubeconfig context 'lab' holds Kubeflow v0.2.0; v0.1.0 is older" in said
    shown = cluster.kubectl("get", "configmap", "kfinstall-install", "-n", "kube-system", "-o",
                            "jsonpath={.data.install\\.json}")  # fmt: skip
    assert json.loads(shown.stdout)["release"] == "v0.2.0"
