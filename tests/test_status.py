"""`kfinstall status` end to end: the real CLI after a real `up` on the fake minikube and the cluster double.

Broken states are made the way they happen to users: an image that cannot be pulled, a pod asking for more
memory than the node has. The reasons must reach the screen verbatim.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import commands_logged, isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
MYSQL = "docker.io/kfsynthetic/mysql:8.0.26"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One manifests and build cache for the module: each test's `up` then skips the clone and the builds."""
    return tmp_path_factory.mktemp("kfinstall-cache")


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_cache: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_CACHE_DIR": str(shared_cache)}


@pytest.fixture
def installed(env: dict[str, str], synthetic_release: LocalRelease) -> dict[str, str]:
    """A finished minimal install on the fake minikube profile `kubeflow`."""
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture(scope="module")
def installed_once(
    module_fake_tools: FakeTools, shared_cache: Path, synthetic_release: LocalRelease, tmp_path_factory
) -> dict[str, str]:
    """The same finished minimal install, made once for the module's tests that only read it (`status` changes
    nothing); a test that breaks something takes `installed`, its own."""
    module_fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = {**isolated_env(module_fake_tools.env, tmp_path_factory.mktemp("installed-once")),
           "KFINSTALL_CACHE_DIR": str(shared_cache)}  # fmt: skip
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture
def read_only(installed_once: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """`installed_once` with a log directory of this test's own."""
    return {**installed_once, "KFINSTALL_LOG_DIR": str(tmp_path / "logs")}


def kubectl(fake_tools: FakeTools, *args: str) -> None:
    result = fake_tools.run("kubectl", "--context", "kubeflow", *args)
    assert result.returncode == 0, result.stderr


def set_knob(fake_tools: FakeTools, knob: str) -> None:
    """Change a scenario knob of the double behind the fake minikube profile `kubeflow`."""
    state_dir = str(fake_tools.double_dir("kubeflow"))
    subprocess.run([sys.executable, "-m", "tests.double", "knobs", "--state-dir", state_dir, knob], check=True,
                   capture_output=True)  # fmt: skip


def break_katib_mysql_image(fake_tools: FakeTools) -> None:
    set_knob(fake_tools, f'image_pull_backoff=["{MYSQL}"]')
    kubectl(fake_tools, "rollout", "restart", "deployment/katib-mysql", "-n", "kubeflow")


def ask_for_too_much_memory(fake_tools: FakeTools) -> None:
    patch = '[{"op":"add","path":"/spec/template/spec/containers/0/resources","value":{"requests":{"memory":"100Gi"}}}]'
    kubectl(fake_tools, "patch", "deployment", "centraldashboard", "-n", "kubeflow", "--type", "json",
            "-p", patch)  # fmt: skip


def test_a_healthy_install_is_all_ready_and_exits_0(read_only: dict[str, str]) -> None:
    result = kfinstall("status", env=read_only)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "minikube profile 'kubeflow': running" in result.stdout
    assert "Kubernetes v1.34.0" in result.stdout
    assert "v0.1.0" in result.stdout and "profile minimal" in result.stdout
    assert "All 13 components are ready." in result.stdout
    assert "the default login user@example.com / 12341234 is in use" in result.stdout


def test_image_pull_backoff_and_insufficient_memory_are_shown_verbatim_and_exit_1(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    break_katib_mysql_image(fake_tools)
    ask_for_too_much_memory(fake_tools)
    result = kfinstall("status", env=installed)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    katib = next(line for line in lines if " katib " in line)
    assert "failing" in katib
    assert any("ImagePullBackOff: image " + MYSQL in line for line in lines)
    assert any("Pending: 0/1 nodes are available: 1 Insufficient memory." in line for line in lines)
    assert "hint: the cluster has too little memory" in result.stdout
    assert "components are not ready." in result.stdout


def test_status_of_a_ready_install_asks_minikube_once_and_the_cluster_three_times(read_only: dict[str, str]) -> None:
    result = kfinstall("status", env=read_only)
    assert result.returncode == 0, result.stdout + result.stderr

    minikube = commands_logged(read_only, "minikube")
    kubectl_calls = commands_logged(read_only, "kubectl")
    assert len(minikube) == 1 and " status " in minikube[0]  # running: its saved settings are not needed
    assert len(kubectl_calls) == 3, kubectl_calls
    assert any("deployments.apps,statefulsets.apps,daemonsets.apps,nodes,pods -A" in c for c in kubectl_calls)
    assert not any(" events " in c for c in kubectl_calls)  # all ready: nothing to explain


def test_status_reads_the_events_when_a_component_is_not_ready(fake_tools: FakeTools, installed: dict[str, str]
                                                                ) -> None:  # fmt: skip
    break_katib_mysql_image(fake_tools)
    result = kfinstall("status", env=installed)
    assert result.returncode == 1, result.stdout + result.stderr

    events = [c for c in commands_logged(installed, "kubectl") if " events " in c]
    assert any("reason=FailedScheduling" in c for c in events) and any("reason=Failed " in c for c in events)


def test_status_counts_pods_requesting_micro_cpus_and_kilobytes_instead_of_crashing(
    fake_tools: FakeTools, installed: dict[str, str], tmp_path: Path
) -> None:
    """`500u` CPU and `64k` memory are valid quantities (apimachinery's suffixes n, u, k...): status sums them."""
    before = json.loads(kfinstall("status", "--json", env=installed).stdout)["nodes"][0]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tiny", "namespace": "default"},
           "spec": {"nodeName": before["name"], "containers": [{"name": "c", "image": "example.com/c:1",
                    "resources": {"requests": {"cpu": "500u", "memory": "64k"}}}]}}  # fmt: skip
    (tmp_path / "tiny.json").write_text(json.dumps(pod))
    kubectl(fake_tools, "apply", "-f", str(tmp_path / "tiny.json"))
    shown = kfinstall("status", env=installed)
    assert "Traceback" not in shown.stderr and "CPU " in shown.stdout, shown.stdout + shown.stderr
    after = json.loads(kfinstall("status", "--json", env=installed).stdout)["nodes"][0]
    assert after["cpu_requested"] - before["cpu_requested"] == pytest.approx(0.0005)
    assert after["memory_requested"] - before["memory_requested"] == pytest.approx(64000)


def test_status_on_an_ascii_terminal_prints_ascii_stand_ins_instead_of_a_traceback(read_only: dict[str, str]) -> None:
    result = kfinstall("status", env={**read_only, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "UnicodeEncodeError" not in result.stderr and result.stdout.isascii()
    assert "requested - memory" in result.stdout  # `CPU ... requested · memory ...`


def test_json_is_one_document_with_cluster_install_and_components(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    healthy = json.loads(kfinstall("status", "--json", env=installed).stdout)
    assert healthy["ok"] is True and healthy["exit_code"] == 0
    break_katib_mysql_image(fake_tools)
    result = kfinstall("status", "--json", env=installed)
    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert set(document) >= {"cluster", "install", "components", "nodes", "ok", "exit_code"}
    assert document["cluster"]["state"] == "running" and document["cluster"]["kubernetes"] == "v1.34.0"
    assert document["install"]["release"] == "v0.1.0" and document["install"]["default_password"] is True
    katib = next(c for c in document["components"] if c["id"] == "katib")
    assert katib["state"] == "failing"
    assert katib["problems"][0]["reason"] == "ImagePullBackOff" and MYSQL in katib["problems"][0]["message"]
    assert document["nodes"][0]["cpu_capacity"] > 0


def test_no_minikube_profile_exits_3_and_says_to_run_up(env: dict[str, str]) -> None:
    result = kfinstall("status", env=env)
    assert result.returncode == 3
    assert "there is no minikube profile 'kubeflow': `kfinstall up` creates it and installs Kubeflow" in result.stdout


def test_a_cluster_without_kubeflow_exits_3(fake_tools: FakeTools, env: dict[str, str]) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0
    result = kfinstall("status", "--json", env=env)
    assert result.returncode == 3
    document = json.loads(result.stdout)
    assert document["install"] is None and "not installed" in document["message"]


def test_an_existing_context_is_looked_at_without_minikube(cluster, tmp_path: Path) -> None:
    import os

    env = isolated_env({**os.environ, **cluster.env}, tmp_path)
    result = kfinstall("status", "--context", cluster.context, env=env)
    assert result.returncode == 3
    assert f"context '{cluster.context}': reachable" in result.stdout
    assert "Kubeflow is not installed on this cluster" in result.stdout


def test_watch_refreshes_until_the_install_is_ready(fake_tools: FakeTools, installed: dict[str, str]) -> None:
    break_katib_mysql_image(fake_tools)
    watching = subprocess.Popen([sys.executable, "-m", "kfinstall", "status", "--watch", "--interval", "0.3"],
                                env=installed, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert watching.stdout is not None
    seen = []
    for line in watching.stdout:  # the broken state is on screen before it is repaired: no race with the test
        seen.append(line)
        if "1 of 13 components is not ready." in line:
            break
    assert "not ready" in seen[-1], "".join(seen)
    set_knob(fake_tools, "image_pull_backoff=[]")
    repaired = '{"spec": {"template": {"metadata": {"annotations": {"test/repaired": "yes"}}}}}'  # rolls new pods
    kubectl(fake_tools, "patch", "deployment", "katib-mysql", "-n", "kubeflow", "--type", "merge", "-p", repaired)
    rest, _ = watching.communicate(timeout=60)
    assert watching.returncode == 0, "".join(seen) + rest
    assert rest.rstrip().endswith("All 13 components are ready.")


def test_watch_stopped_with_ctrl_c_while_not_ready_exits_1_and_says_so(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    import signal

    break_katib_mysql_image(fake_tools)
    watching = subprocess.Popen([sys.executable, "-m", "kfinstall", "status", "--watch", "--interval", "0.3"],
                                env=installed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert watching.stdout is not None
    for line in watching.stdout:  # the not-ready screen is shown: the Ctrl-C comes while it is what the user sees
        if "1 of 13 components is not ready." in line:
            break
    watching.send_signal(signal.SIGINT)
    _, err = watching.communicate(timeout=60)
    assert watching.returncode == 1, err
    assert "stopped watching: 1 component not ready (exit code 1)" in err
