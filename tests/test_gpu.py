"""GPUs end to end on the fakes: `check --gpus`, `up --gpus all` waiting for the node's GPUs, `kfinstall gpu-test`.

The fake minikube gives the node FAKE_NVIDIA_GPUS `nvidia.com/gpu` when started with `--gpus all`, and the cluster
double "prints" the host's nvidia-smi table for CUDA images (tests/README.md, `pod_logs`).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from kfinstall.kube import gpu
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

GPU_MACHINE = {"gpus": 1, "docker_runtimes": ["io.containerd.runc.v2", "nvidia", "runc"], "minikube_version": "v1.37.0"}


def node(gpus: str | None) -> dict:
    allocatable = {"cpu": "8", "memory": "16Gi"} | ({"nvidia.com/gpu": gpus} if gpus is not None else {})
    return {"kind": "Node", "metadata": {"name": "kubeflow"}, "status": {"allocatable": allocatable}}


def pod(name: str, phase: str, **status: object) -> dict:
    return {"metadata": {"name": name, "namespace": "kube-system"}, "status": {"phase": phase, **status}}


# ---- pure logic ----------------------------------------------------------------------------------------------


def test_allocatable_gpus_sums_the_nodes_nvidia_gpu() -> None:
    assert gpu.allocatable_gpus([node("1"), node("2")]) == 3
    assert gpu.allocatable_gpus([node(None)]) == 0


def test_no_device_plugin_pod_is_named_as_the_reason() -> None:
    assert gpu.plugin_problem([pod("coredns-1", "Running")]) == "no NVIDIA device plugin pod runs in kube-system"


def test_a_device_plugin_stuck_pulling_its_image_is_named_with_the_image() -> None:
    waiting = {"name": "nvidia", "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
               "state": {"waiting": {"reason": "ImagePullBackOff"}}}  # fmt: skip
    stuck = pod("nvidia-device-plugin-daemonset-x1", "Pending", containerStatuses=[waiting])
    assert "ImagePullBackOff: image nvcr.io/nvidia/k8s-device-plugin:v0.17.0" in gpu.plugin_problem([stuck])


def test_the_test_pod_requests_one_gpu_runs_nvidia_smi_and_is_never_restarted() -> None:
    spec = gpu.test_pod("mirror.example/nvidia/cuda:12")["spec"]
    (container,) = spec["containers"]
    assert (spec["restartPolicy"], container["command"], container["image"]) == (
        "Never",
        ["nvidia-smi"],
        "mirror.example/nvidia/cuda:12",
    )
    assert container["resources"]["limits"] == {"nvidia.com/gpu": 1}


def test_the_test_pod_has_an_outcome_only_once_it_finished() -> None:
    terminated = [{"state": {"terminated": {"exitCode": 9}}}]
    assert gpu.outcome({"status": {"phase": "Running"}}) is None
    assert gpu.outcome({"status": {"phase": "Failed", "containerStatuses": terminated}}) == ("Failed", 9)


# ---- the double: simulated pod logs --------------------------------------------------------------------------

POD = """
apiVersion: v1
kind: Pod
metadata: {name: smi, namespace: default}
spec:
  restartPolicy: Never
  containers: [{name: main, image: nvidia/cuda:12.4.1-base-ubuntu22.04, command: [nvidia-smi]}]
"""


def test_the_double_serves_a_started_containers_log_from_the_pod_logs_knob(make_cluster) -> None:
    cluster = make_cluster(pod_logs={"*nvidia/cuda:*": "GPU 0: NVIDIA Fake\n"}, job_complete_delay=0.1)
    assert cluster.kubectl("apply", "--server-side", "-f", "-", input=POD).returncode == 0
    waited = cluster.kubectl("wait", "pod/smi", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    logs = cluster.kubectl("logs", "smi")
    assert (logs.returncode, logs.stdout) == (0, "GPU 0: NVIDIA Fake\n")


def test_the_double_refuses_the_log_of_a_container_that_has_not_started(make_cluster) -> None:
    cluster = make_cluster(image_pull_backoff=["nvidia/*"])
    assert cluster.kubectl("apply", "--server-side", "-f", "-", input=POD).returncode == 0
    waited = cluster.kubectl(
        "wait", "pod/smi", "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff"
    )
    assert waited.returncode == 0, waited.stderr
    logs = cluster.kubectl("logs", "smi")
    assert logs.returncode == 1
    assert 'container "main" in pod "smi" is waiting to start: trying and failing to pull image' in logs.stderr


# ---- the fakes: minikube --gpus, check --gpus ------------------------------------------------------------------


def test_fake_minikube_with_gpus_all_yields_a_node_with_nvidia_gpu(fake_tools: FakeTools) -> None:
    fake_tools.set(**GPU_MACHINE)
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--gpus", "all").returncode == 0
    nodes = json.loads(fake_tools.run("kubectl", "--context", "kubeflow", "get", "nodes", "-o", "json").stdout)
    assert [n["status"]["allocatable"].get("nvidia.com/gpu") for n in nodes["items"]] == ["1"]


def test_check_gpus_on_a_machine_without_a_gpu_fails_with_the_fixes(fake_tools: FakeTools) -> None:
    fake_tools.set(gpus=0, minikube_version="v1.31.2")
    result = kfinstall("check", "--gpus", "all", "--profile", "minimal", "--json", env=fake_tools.env)
    assert result.returncode == 1
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["gpu driver"]["hint"] == "install or repair the NVIDIA driver until `nvidia-smi -L` lists your GPU"
    assert checks["docker nvidia runtime"]["hint"].startswith("install the NVIDIA Container Toolkit")
    assert checks["minikube --gpus"]["hint"] == "install minikube v1.32.0 or newer"


# ---- up --gpus all -----------------------------------------------------------------------------------------------


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_builds: Path) -> dict[str, str]:
    fake_tools.set(**GPU_MACHINE)
    return isolated_env(fake_tools.env, tmp_path, builds=shared_builds)  # the builds are not what is tested


def up(env: dict[str, str], release: LocalRelease, *args: str) -> subprocess.CompletedProcess[str]:
    return kfinstall(
        "up", "--pins", str(release.pins), "-k", release.tag, "--profile", "minimal", "--yes", *args, env=env
    )


def test_up_with_gpus_waits_until_the_node_offers_them(fake_tools: FakeTools, env, synthetic_release) -> None:
    result = up(env, synthetic_release, "--gpus", "all")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("the node offers 1 GPU(s) (nvidia.com/gpu)") == 1
    (start,) = [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    assert "--gpus=all" in start


def test_up_with_gpus_asks_minikube_for_the_docker_container_runtime(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    """minikube refuses --gpus with another runtime, and v1.38.1 announces containerd as the default from v1.39.0."""
    fake_tools.set(minikube_version="v1.38.1")
    result = up(env, synthetic_release, "--gpus", "all")
    assert result.returncode == 0, result.stderr
    (start,) = [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    assert {"--container-runtime=docker", "--gpus=all"} <= set(start)


def test_up_with_gpus_refuses_a_running_containerd_cluster_naming_the_runtime(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    started = fake_tools.run("minikube", "start", "-p", "kubeflow", "--container-runtime=containerd")
    assert started.returncode == 0, started.stderr
    result = up(env, synthetic_release, "--gpus", "all")
    assert result.returncode == 2
    assert "it runs the containerd container runtime, but --gpus needs docker" in result.stderr
    assert "`kfinstall down -p kubeflow` first: it deletes the cluster and everything in it" in result.stderr
    assert len([call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]) == 1


def test_up_with_gpus_fails_with_a_hint_when_the_node_offers_none(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release
) -> None:
    fake_tools.set(**{**GPU_MACHINE, "gpus": 0})  # minikube passes no GPU through; the plugin registers nothing
    result = up(
        isolated_env(fake_tools.env, tmp_path), synthetic_release, "--gpus", "all", "--skip-checks", "--timeout", "2"
    )
    assert result.returncode == 1
    assert "its node reports no allocatable nvidia.com/gpu after 2s: no NVIDIA device plugin pod runs" in result.stderr
    assert "minikube -p kubeflow addons enable nvidia-device-plugin" in result.stderr


# ---- gpu-test ------------------------------------------------------------------------------------------------


def gpu_test(tools: FakeTools, *args: str) -> subprocess.CompletedProcess[str]:
    return kfinstall("gpu-test", *args, env={**tools.env, "COLUMNS": "200"})


def test_gpu_test_shows_nvidia_smi_and_passes_on_a_gpu_node(fake_tools: FakeTools, tmp_path: Path) -> None:
    fake_tools.set(**GPU_MACHINE)
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--gpus", "all").returncode == 0
    result = kfinstall("gpu-test", env=isolated_env(fake_tools.env, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NVIDIA GeForce RTX" in result.stdout and "NVIDIA-SMI 550.54.14" in result.stdout
    assert "✓ nvidia-smi ran on a GPU (node kubeflow)" in result.stdout
    pods = fake_tools.run("kubectl", "--context", "kubeflow", "get", "pods", "-n", "default", "-o", "name")
    assert "kfinstall-gpu-test" not in pods.stdout


def test_gpu_test_fails_before_creating_a_pod_on_a_cluster_without_gpus(fake_tools: FakeTools, tmp_path) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0
    result = kfinstall("gpu-test", env=isolated_env(fake_tools.env, tmp_path))
    assert result.returncode == 1
    assert "error: no node offers a nvidia.com/gpu (no NVIDIA device plugin pod runs in kube-system)" in result.stderr
    assert "kfinstall up --gpus all" in result.stderr


def test_gpu_test_reports_why_the_pod_never_ran(fake_tools: FakeTools, tmp_path: Path) -> None:
    fake_tools.set(**GPU_MACHINE, double_args="--set 'image_pull_backoff=[\"*nvidia/cuda:*\"]'")
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--gpus", "all").returncode == 0
    result = kfinstall("gpu-test", "--timeout", "2", env={**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "200"})
    assert result.returncode == 1
    assert "✗ the test pod did not finish within 2s: default/kfinstall-gpu-test: ImagePullBackOff" in result.stdout
    assert "the registry no longer serves this image" in result.stdout  # Docker Hub: "pull access denied"


def test_a_profile_created_without_gpus_is_not_reused_for_gpus() -> None:
    from kfinstall.minikube.cluster import ClusterSpec, ProfileState, incompatibilities

    spec = ClusterSpec("kubeflow", "v1.34.0", 4, 8192, None, "docker", "all", ())
    assert incompatibilities(ProfileState("running", "v1.34.0", 4, 8192, "docker", "all"), spec) == []
    assert incompatibilities(ProfileState("running", "v1.34.0", 4, 8192, "docker", ""), spec) == [
        "it was created without --gpus (minikube cannot give an existing cluster GPUs)"
    ]


def test_up_with_gpus_refuses_a_running_cluster_created_without_them(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.34.0").returncode == 0
    result = up(env, synthetic_release, "--gpus", "all")
    assert result.returncode == 2
    assert "it was created without --gpus" in result.stderr
    assert "`kfinstall down -p kubeflow` first: it deletes the cluster and everything in it" in result.stderr


def test_the_double_fails_a_never_restarted_pod_whose_image_exits_non_zero(make_cluster) -> None:
    cluster = make_cluster(pod_exit_codes={"nvidia/cuda:*": 9}, pod_logs={"nvidia/*": "NVIDIA-SMI has failed\n"})
    assert cluster.kubectl("apply", "--server-side", "-f", "-", input=POD).returncode == 0
    waited = cluster.kubectl("wait", "pod/smi", "--for=jsonpath={.status.phase}=Failed", "--timeout=20s")
    assert waited.returncode == 0, waited.stderr
    (status,) = cluster.object("Pod", "smi", "default")["status"]["containerStatuses"]
    assert status["state"]["terminated"]["exitCode"] == 9
    assert cluster.kubectl("logs", "smi").stdout == "NVIDIA-SMI has failed\n"


def test_gpu_test_fails_when_nvidia_smi_fails_in_the_pod(fake_tools: FakeTools, tmp_path: Path) -> None:
    no_driver = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"
    knobs = {"pod_exit_codes": {"*nvidia/cuda:*": 9}, "pod_logs": {"*nvidia/cuda:*": no_driver}}
    fake_tools.set(
        **GPU_MACHINE, double_args=" ".join(f"--set {shlex.quote(f'{k}={json.dumps(v)}')}" for k, v in knobs.items())
    )
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--gpus", "all").returncode == 0
    result = kfinstall("gpu-test", env={**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "200"})
    assert result.returncode == 1
    assert no_driver.strip() in result.stdout
    assert "✗ nvidia-smi exited with code 9 inside the pod" in result.stdout
    assert "check the NVIDIA Container Toolkit on the host" in result.stdout


def test_up_with_gpus_waits_for_a_slow_device_plugin(fake_tools: FakeTools, tmp_path: Path, synthetic_release) -> None:
    fake_tools.set(**GPU_MACHINE, double_args="--set 'ready_delays={\"kube-system/nvidia-device-plugin*\": 3}'")
    result = up(isolated_env(fake_tools.env, tmp_path), synthetic_release, "--gpus", "all")
    assert result.returncode == 0, result.stderr
    assert "the node offers 1 GPU(s) (nvidia.com/gpu)" in result.stderr


def test_up_with_gpus_names_a_device_plugin_that_cannot_start(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release
) -> None:
    fake_tools.set(**GPU_MACHINE, double_args="--set 'image_pull_backoff=[\"nvcr.io/nvidia/k8s-device-plugin:*\"]'")
    result = up(isolated_env(fake_tools.env, tmp_path), synthetic_release, "--gpus", "all", "--timeout", "3")
    assert result.returncode == 1
    assert "the NVIDIA device plugin is not running: kube-system/nvidia-device-plugin-daemonset-" in result.stderr
    assert "ImagePullBackOff: image nvcr.io/nvidia/k8s-device-plugin:v0.17.0" in result.stderr
