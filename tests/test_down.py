"""`kfinstall down` end to end: the minikube profile goes, or (`--keep-cluster`, `--context`) only what `up` made.

The promise under test: after `down --keep-cluster` nothing labelled by kfinstall is left, and everything the
user created (a namespace, a ConfigMap) is untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=5"
LABEL = "kfinstall.dev/component"

#: Objects of the user's own, unknown to kfinstall.
USERS_OWN = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "my-data"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "notes", "namespace": "my-data"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "default"}},
        ],
    }
)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One manifests and build cache for the module: each test's `up` then skips the clone and the builds."""
    return tmp_path_factory.mktemp("kfinstall-cache")


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_cache: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_CACHE_DIR": str(shared_cache)}


def up(env: dict[str, str], release: LocalRelease, *args: str) -> None:
    result = kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", *args,
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr


def kubectl(env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([env["KFINSTALL_KUBECTL"], *args], env=env, input=input, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def labelled_leftovers(env: dict[str, str], context: str) -> list[str]:
    """Every object of any type still carrying kfinstall's component label."""
    types = kubectl(env, "--context", context, "api-resources", "--verbs=list", "-o", "name").stdout.split()
    listed = kubectl(env, "--context", context, "get", ",".join(types), "-A", "-l", LABEL, "-o", "name")
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.split()


def create_users_own_objects(env: dict[str, str], context: str) -> None:
    created = kubectl(env, "--context", context, "apply", "--server-side", "-f", "-", input=USERS_OWN)
    assert created.returncode == 0, created.stderr


def assert_users_own_objects_survive(env: dict[str, str], context: str) -> None:
    for args in (("namespace", "my-data"), ("configmap", "notes", "-n", "my-data"), ("configmap", "mine")):
        got = kubectl(env, "--context", context, "get", *args, "-o", "json")
        assert got.returncode == 0, got.stderr
        assert not json.loads(got.stdout)["metadata"].get("deletionTimestamp")


def test_keep_cluster_removes_everything_labelled_and_nothing_else(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    up(env, synthetic_release)
    create_users_own_objects(env, "kubeflow")
    assert len(labelled_leftovers(env, "kubeflow")) > 50
    result = kfinstall("down", "--keep-cluster", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "removing webhook configurations" in result.stderr
    assert "removed 13 components" in result.stderr and "and the install record" in result.stderr
    assert labelled_leftovers(env, "kubeflow") == []
    assert_users_own_objects_survive(env, "kubeflow")
    assert kfinstall("status", env=env).returncode == 3
    assert kubectl(env, "--context", "kubeflow", "get", "namespace", "kube-system").returncode == 0


def test_keep_cluster_goes_in_reverse_install_order_and_a_second_run_finds_nothing(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    up(env, synthetic_release)
    result = kfinstall("down", "--keep-cluster", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    steps = [line.split("removing ")[1].split(" (")[0] for line in result.stderr.splitlines() if "removing " in line]
    assert steps[0] == "webhook configurations"
    assert steps[-2:] == ["namespaces", "custom resource definitions"]
    assert steps.index("central-dashboard") < steps.index("profiles-kfam") < steps.index("kubeflow-roles")
    assert steps.index("oidc-authservice") < steps.index("dex") < steps.index("istio")
    again = kfinstall("down", "--keep-cluster", "--yes", env=env)
    assert again.returncode == 3, again.stderr  # nothing to delete (errors.py EXIT_NOT_INSTALLED)
    assert "Nothing of kfinstall's is on context 'kubeflow'." in again.stderr


def test_down_deletes_the_minikube_profile(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    up(env, synthetic_release)
    result = kfinstall("down", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "deleted minikube profile 'kubeflow'" in result.stderr
    assert ["delete", "-p", "kubeflow"] in fake_tools.calls("minikube")
    assert fake_tools.run("minikube", "status", "-p", "kubeflow").returncode == 85


def test_without_a_terminal_down_refuses_unless_yes(fake_tools: FakeTools, env: dict[str, str]) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0
    result = kfinstall("down", env=env, stdin="")
    assert result.returncode == 2
    assert "no terminal to ask for confirmation" in result.stderr and "hint: add --yes" in result.stderr
    assert not [call for call in fake_tools.calls("minikube") if call[:1] == ["delete"]]


def test_context_mode_removes_only_kfinstalls_objects_and_keeps_the_cluster(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    up(env, synthetic_release)
    create_users_own_objects(env, "kubeflow")
    result = kfinstall("down", "--context", "kubeflow", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert labelled_leftovers(env, "kubeflow") == []
    assert_users_own_objects_survive(env, "kubeflow")
    assert not [call for call in fake_tools.calls("minikube") if call[:1] == ["delete"]]
    record = kubectl(env, "--context", "kubeflow", "get", "configmap", "kfinstall-install", "-n", "kube-system")
    assert record.returncode == 1 and "NotFound" in record.stderr


def test_on_a_terminal_down_asks_and_no_keeps_the_cluster(fake_tools: FakeTools, env: dict[str, str]) -> None:
    import pty
    import sys

    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kfinstall", "down"], env=env, stdin=terminal,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    os.close(terminal)
    os.write(controller, b"n\n")
    out, err = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 1
    assert (
        "Delete the minikube profile 'kubeflow' and everything in it (notebooks, their volumes, pipeline "
        "history)? [y/N]" in " ".join(out.split())
    )
    assert "Nothing deleted: you answered no; minikube profile 'kubeflow' is as it was." in err
    assert not [call for call in fake_tools.calls("minikube") if call[:1] == ["delete"]]
