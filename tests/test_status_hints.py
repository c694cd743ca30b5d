"""`status` gives each failing pod's problem its own hint (not only the first pod's), and never answers a pod that
is still starting with "see `kfinstall status`" (it is status that says it). The real CLI, the fakes, the double."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
MYSQL = "docker.io/kfsynthetic/mysql:8.0.26"


@pytest.fixture
def installed(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release: LocalRelease, shared_builds: Path
) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = {**isolated_env(fake_tools.env, tmp_path, builds=shared_builds), "COLUMNS": "200"}  # builds: not tested
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return env


def kubectl(fake_tools: FakeTools, *args: str) -> None:
    result = fake_tools.run("kubectl", "--context", "kubeflow", *args)
    assert result.returncode == 0, result.stderr


def set_knob(fake_tools: FakeTools, knob: str) -> None:
    state_dir = str(fake_tools.double_dir("kubeflow"))
    subprocess.run([sys.executable, "-m", "tests.double", "knobs", "--state-dir", state_dir, knob], check=True,
                   capture_output=True)  # fmt: skip


def test_two_failing_pods_of_one_component_each_show_their_own_hint(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    set_knob(fake_tools, f'image_pull_backoff=["{MYSQL}"]')
    kubectl(fake_tools, "rollout", "restart", "deployment/katib-mysql", "-n", "kubeflow")
    patch = '[{"op":"add","path":"/spec/template/spec/containers/0/resources","value":{"requests":{"memory":"100Gi"}}}]'
    kubectl(fake_tools, "patch", "deployment", "katib-ui", "-n", "kubeflow", "--type", "json", "-p", patch)
    result = kfinstall("status", env=installed)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    start = next(i for i, line in enumerate(lines) if line.split()[1:2] == ["katib"])
    katib = lines[start + 1 : start + 6]
    assert any("ImagePullBackOff: image " + MYSQL in line for line in katib)
    assert any(line.startswith("hint: the registry no longer serves this image") for line in katib)
    assert any("Insufficient memory" in line for line in katib)
    assert any(line.startswith("hint: the cluster has too little memory") for line in katib)


def test_a_pod_still_starting_is_not_sent_back_to_kfinstall_status(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    set_knob(fake_tools, 'ready_delays={"kubeflow/katib-ui*": 3600}')  # an hour: still starting while status looks
    kubectl(fake_tools, "rollout", "restart", "deployment/katib-ui", "-n", "kubeflow")
    result = kfinstall("status", env=installed)
    assert "containers not ready yet" in result.stdout, result.stdout
    assert "hint: still starting: wait; `kubectl describe pod -n kubeflow katib-ui" in " ".join(result.stdout.split())
    assert "see `kfinstall status`" not in result.stdout
