"""`minikube start` of the fake brings up the API server double: the real kubectl works against the profile."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.fakes.fixtures import FakeTools


def kubectl(fake_tools: FakeTools, *args: str) -> str:
    result = fake_tools.run("kubectl", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def start(fake_tools: FakeTools, *args: str) -> None:
    result = fake_tools.run("minikube", "start", *args)
    assert result.returncode == 0, result.stdout + result.stderr


def alive(pid: int) -> bool:
    """Running and not a zombie; a process that ends between the two reads of /proc is gone."""
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_start_makes_the_profile_context_work_with_the_real_kubectl(fake_tools: FakeTools) -> None:
    start(fake_tools, "-p", "kubeflow", "--kubernetes-version=v1.34.0", "--cpus=4", "--memory=12g")
    assert kubectl(fake_tools, "--context", "kubeflow", "get", "nodes", "-o", "name") == "node/kubeflow\n"
    node = json.loads(kubectl(fake_tools, "--context", "kubeflow", "get", "node", "kubeflow", "-o", "json"))
    capacity = node["status"]["capacity"]
    assert capacity["cpu"] == "4"


def test_start_prints_minikubes_done_line_and_makes_the_context_current(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "start", "-p", "kubeflow")
    assert result.stdout.splitlines()[-1] == (
        '* Done! kubectl is now configured to use "kubeflow" cluster and "default" namespace by default'
    )
    assert kubectl(fake_tools, "config", "current-context") == "kubeflow\n"


def test_the_server_reports_the_kubernetes_version_asked_for(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.32.0", gpus=1)
    start(fake_tools, "--kubernetes-version=v1.19.3", "--driver=docker", "--gpus=all")
    version = json.loads(kubectl(fake_tools, "get", "--raw", "/version"))
    assert version["gitVersion"] == "v1.19.3"
    gpus = kubectl(fake_tools, "get", "node", "minikube", "-o", "jsonpath={.status.capacity.nvidia\\.com/gpu}")
    assert gpus == "1"


def test_status_exit_codes_follow_start_stop_and_delete(fake_tools: FakeTools) -> None:
    def status() -> int:
        return fake_tools.run("minikube", "status", "-p", "kubeflow").returncode

    start(fake_tools, "-p", "kubeflow")
    running = status()
    fake_tools.run("minikube", "stop", "-p", "kubeflow")
    stopped = status()
    start(fake_tools, "-p", "kubeflow")
    restarted = status()
    fake_tools.run("minikube", "delete", "-p", "kubeflow")
    assert (running, stopped, restarted, status()) == (0, 7, 0, 85)


def test_status_json_of_a_running_profile(fake_tools: FakeTools) -> None:
    start(fake_tools, "-p", "kubeflow")
    result = fake_tools.run("minikube", "status", "-p", "kubeflow", "-o", "json")
    assert json.loads(result.stdout) == {
        "Name": "kubeflow",
        "Host": "Running",
        "Kubelet": "Running",
        "APIServer": "Running",
        "Kubeconfig": "Configured",
        "Worker": False,
    }


def test_paused_profile_has_status_exit_code_2(fake_tools: FakeTools) -> None:
    start(fake_tools)
    fake_tools.run("minikube", "pause")
    result = fake_tools.run("minikube", "status", "-o", "json")
    fake_tools.run("minikube", "unpause")
    assert (result.returncode, json.loads(result.stdout)["APIServer"]) == (2, "Paused")


def test_profile_list_json_shows_each_profiles_config(fake_tools: FakeTools) -> None:
    start(fake_tools, "-p", "kubeflow", "--kubernetes-version=v1.34.0", "--cpus=4", "--memory=8192mb",
          "--extra-config=apiserver.service-account-issuer=kubernetes.default.svc")  # fmt: skip
    listing = json.loads(fake_tools.run("minikube", "profile", "list", "-o", "json").stdout)
    [profile] = listing["valid"]
    config = profile["Config"]
    assert (listing["invalid"], profile["Name"], profile["Status"]) == ([], "kubeflow", "Running")
    assert (config["CPUs"], config["Memory"], config["Driver"]) == (4, 8192, "docker")
    assert config["KubernetesConfig"]["KubernetesVersion"] == "v1.34.0"
    assert config["KubernetesConfig"]["ExtraOptions"] == [
        {"Component": "apiserver", "Key": "service-account-issuer", "Value": "kubernetes.default.svc"}
    ]


def test_second_start_with_the_same_settings_reuses_the_running_cluster(fake_tools: FakeTools) -> None:
    start(fake_tools, "-p", "kubeflow")
    first = fake_tools.apiserver("kubeflow")
    again = fake_tools.run("minikube", "start", "-p", "kubeflow")
    assert again.returncode == 0
    assert 'Updating the running docker "kubeflow" container ...' in again.stdout
    assert fake_tools.apiserver("kubeflow") == first


def test_second_start_cannot_change_the_memory(fake_tools: FakeTools) -> None:
    start(fake_tools, "--memory=4g")
    again = fake_tools.run("minikube", "start", "--memory=8g")
    assert again.returncode == 0
    assert "! You cannot change the memory size for an existing minikube cluster. Please first delete the cluster." in (
        again.stderr
    )


def test_start_with_an_older_kubernetes_than_the_profile_is_refused(fake_tools: FakeTools) -> None:
    start(fake_tools, "-p", "kubeflow", "--kubernetes-version=v1.34.0")
    result = fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.30.0")
    assert result.returncode == 106
    assert (
        "X Exiting due to K8S_DOWNGRADE_UNSUPPORTED: Unable to safely downgrade existing Kubernetes v1.34.0 "
        "cluster to v1.30.0" in result.stderr
    )


def test_delete_removes_the_kubeconfig_context(fake_tools: FakeTools) -> None:
    start(fake_tools, "-p", "kubeflow")
    fake_tools.run("minikube", "delete", "-p", "kubeflow")
    assert "kubeflow" not in kubectl(fake_tools, "config", "get-contexts", "-o", "name").split()


def test_stop_all_leaves_no_double_running(fake_tools: FakeTools) -> None:
    start(fake_tools, "-p", "one")
    start(fake_tools, "-p", "two")
    pids = [fake_tools.apiserver(p)["pid"] for p in ("one", "two")]  # type: ignore[index]
    stopped = fake_tools.stop_all()  # the process groups: watchdog and double
    assert len(stopped) == 2
    assert not any(alive(pid) for pid in [*pids, *stopped])


def test_image_load_and_ssh_are_recorded(fake_tools: FakeTools) -> None:
    start(fake_tools)
    fake_tools.run("minikube", "image", "load", "kubeflow/notebook:v1")
    fake_tools.run("minikube", "ssh", "--", "sudo", "sysctl", "fs.inotify.max_user_instances=1280")
    assert fake_tools.calls("minikube")[1:] == [
        ["image", "load", "kubeflow/notebook:v1"],
        ["ssh", "--", "sudo", "sysctl", "fs.inotify.max_user_instances=1280"],
    ]


def test_the_fakes_work_from_any_directory(
    fake_tools: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert fake_tools.run("minikube", "version", "--short").returncode == 0


def test_double_args_reach_the_api_server_double(fake_tools: FakeTools) -> None:
    fake_tools.set(double_args="--set system_pods=false")
    start(fake_tools)
    assert kubectl(fake_tools, "get", "pods", "-n", "kube-system", "-o", "name") == ""
    assert (fake_tools.double_dir() / "apiserver.json").is_file()


def test_a_double_outlives_no_dead_test_run(fake_tools: FakeTools) -> None:
    """If pytest dies without teardown, the watchdog stops the double once its owner process is gone."""
    owner = subprocess.Popen(["sleep", "60"])
    result = fake_tools.run("minikube", "start", env={"FAKE_TOOLS_OWNER_PID": str(owner.pid)})
    assert result.returncode == 0, result.stderr
    pid = fake_tools.apiserver()["pid"]  # type: ignore[index]
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 15
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid)


def test_pause_stops_answering_and_unpause_resumes(fake_tools: FakeTools) -> None:
    start(fake_tools)
    fake_tools.run("minikube", "pause")
    paused = fake_tools.run("kubectl", "get", "--raw", "/version", "--request-timeout=1s")
    fake_tools.run("minikube", "unpause")
    assert paused.returncode != 0
    assert json.loads(kubectl(fake_tools, "get", "--raw", "/version"))["gitVersion"] == "v1.34.0"
