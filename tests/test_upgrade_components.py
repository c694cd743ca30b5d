"""`up --without COMPONENT` on an install that has it: the same machinery as an upgrade removes it.

The synthetic release (always available): Katib installed with the minimal profile, then `up --without katib`
removes exactly the objects kfinstall labelled for Katib (its CRDs last, with their custom resources), keeps what
the user made, asks first, and the install goes on without Katib afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"
USERS = """apiVersion: v1
kind: ConfigMap
metadata: {name: my-notes, namespace: kubeflow}
data: {a: b}
"""


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0")
    return {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_STATE_DIR": str(tmp_path / "state")}


def kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--context", "kubeflow", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def record(env: dict[str, str]) -> dict:
    shown = kubectl(env, "get", "configmap", "kfinstall-install", "-n", "kube-system", "-o",
                    "jsonpath={.data.install\\.json}")  # fmt: skip
    return json.loads(shown.stdout)


def installed(env: dict[str, str], release: LocalRelease) -> None:
    done = kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", env=env)
    assert done.returncode == 0, done.stderr
    assert kubectl(env, "apply", "--server-side", "-f", "-", stdin=USERS).returncode == 0


def test_up_without_katib_removes_what_kfinstall_labelled_for_katib_and_nothing_else(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    installed(env, synthetic_release)
    plan = kfinstall("plan", "--pins", str(synthetic_release.pins), "--without", "katib", env=env)
    assert plan.returncode == 0, plan.stderr
    assert "Change of the components of v0.1.0" in plan.stdout and "removed:    katib" in plan.stdout

    done = kfinstall("up", "--pins", str(synthetic_release.pins), "--without", "katib", "--yes", env=env)

    assert done.returncode == 0, done.stderr
    assert "pruning katib" in done.stderr and "pruning custom resource definitions" in done.stderr
    for kind, name in [("deployment", "katib-controller"), ("service", "katib-ui"),
                       ("crd", "experiments.kubeflow.org")]:  # fmt: skip
        assert kubectl(env, "get", kind, name, "-n", "kubeflow", "-o", "name").returncode == 1, (kind, name)
    assert kubectl(env, "get", "configmap", "my-notes", "-n", "kubeflow", "-o", "name").returncode == 0
    assert kubectl(env, "get", "deployment", "centraldashboard", "-n", "kubeflow", "-o", "name").returncode == 0
    kept = record(env)
    assert "katib" not in kept["order"] and "katib" not in kept["components"]
    assert kept["upgrading_from"] is None

    again = kfinstall("up", "--pins", str(synthetic_release.pins), "--yes", env=env)  # continues: without Katib
    assert again.returncode == 0, again.stderr
    assert "prune" not in again.stderr
    assert kubectl(env, "get", "deployment", "katib-controller", "-n", "kubeflow").returncode == 1


def test_on_a_terminal_the_removal_is_asked_and_no_changes_nothing(
    env: dict[str, str], synthetic_release: LocalRelease, fake_tools: FakeTools
) -> None:
    import pty

    installed(env, synthetic_release)
    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "kfinstall", "up", "--pins", str(synthetic_release.pins), "--without", "katib"]
    process = subprocess.Popen(command, env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    os.close(terminal)
    os.write(controller, b"n\n")
    out, err = process.communicate(timeout=120)
    os.close(controller)
    assert process.returncode == 1
    assert "Change the components of Kubeflow v0.1.0 on minikube profile 'kubeflow'? " in " ".join(out.split())
    assert "Removed: katib" in " ".join(out.split())
    assert "kept Kubeflow v0.1.0 as it is: nothing changed" in err
    assert kubectl(env, "get", "deployment", "katib-controller", "-n", "kubeflow", "-o", "name").returncode == 0


def test_a_change_that_would_take_the_cluster_to_an_older_kubernetes_is_refused_before_anything_changes(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    installed(env, synthetic_release)  # Kubernetes v1.34.0, the release's default
    older = kfinstall("up", "--pins", str(synthetic_release.pins), "--without", "katib", "--k8s-version", "v1.33.0",
                      "--yes", env=env)  # fmt: skip
    assert older.returncode == 2, older.stderr
    assert "runs Kubernetes v1.34.0, newer than the v1.33.0" in older.stderr
    assert "minikube cannot downgrade a cluster (K8S_DOWNGRADE_UNSUPPORTED)" in older.stderr
    assert "Traceback" not in older.stderr
    assert kubectl(env, "get", "deployment", "katib-controller", "-n", "kubeflow", "-o", "name").returncode == 0
