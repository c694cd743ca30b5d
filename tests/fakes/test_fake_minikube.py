"""The fake minikube prints the real version formats and validates `start` flags like the configured release."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fakes.fixtures import FakeTools
from tests.fakes.minikube import size_in_mb


def test_version_prints_version_and_commit(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.32.0")
    result = fake_tools.run("minikube", "version")
    assert result.stdout == "minikube version: v1.32.0\ncommit: 8220a6eb95f0a4d75f7f2d7b14cef975f050512d\n"


def test_version_short_prints_only_the_version(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    assert fake_tools.run("minikube", "version", "--short").stdout == "v1.37.0\n"


@pytest.mark.parametrize("flags", [["--output=json"], ["-o", "json"], ["--output", "json"]])
def test_version_json_has_the_version_and_commit(fake_tools: FakeTools, flags: list[str]) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    result = fake_tools.run("minikube", "version", *flags)
    assert result.stdout == '{"commit":"65318f4cfff9c12cc87ec9eb8f4cdd57b25047f3","minikubeVersion":"v1.37.0"}\n'


def test_start_refuses_kubernetes_older_than_the_release_supports(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    result = fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.19.3")
    assert result.returncode == 106
    assert result.stderr.splitlines() == [
        "! Specified Kubernetes version 1.19.3 is less than the oldest supported version: v1.28.0. "
        "Use `minikube config defaults kubernetes-version` for details.",
        "! You can force an unsupported Kubernetes version via the --force flag",
        "X Exiting due to K8S_OLD_UNSUPPORTED: Kubernetes 1.19.3 is not supported by this release of minikube",
    ]
    assert result.stdout.startswith("* [kubeflow] minikube v1.37.0 on Ubuntu 22.04\n")


@pytest.mark.parametrize(("minikube", "oldest"), [("v1.33.0", "v1.20.0"), ("v1.36.0", "v1.20.0")])
def test_kubernetes_1_19_is_too_old_from_minikube_1_33(fake_tools: FakeTools, minikube: str, oldest: str) -> None:
    fake_tools.set(minikube_version=minikube)
    result = fake_tools.run("minikube", "start", "--kubernetes-version=v1.19.3", "--dry-run")
    assert result.returncode == 106
    assert f"oldest supported version: {oldest}" in result.stderr


def test_minikube_1_32_accepts_kubernetes_1_19(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.32.0")
    result = fake_tools.run("minikube", "start", "--kubernetes-version=v1.19.3", "--dry-run")
    assert (result.returncode, result.stderr) == (0, "")
    assert "dry-run validation complete!" in result.stdout


def test_memory_below_the_usable_minimum_exits_23(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "start", "--memory", "1000", "--dry-run")
    assert result.returncode == 23
    assert (
        "X Exiting due to RSRC_INSUFFICIENT_REQ_MEMORY: Requested memory allocation 1000MiB is less than the "
        "usable minimum of 1800MB" in result.stderr
    )


def test_unparseable_memory_is_a_usage_error(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "start", "--memory=lots", "--dry-run")
    assert result.returncode == 14
    assert "Unable to parse memory 'lots': FromHumanSize: invalid size: 'lots'" in result.stderr


def test_more_memory_than_docker_has_is_a_usage_error(fake_tools: FakeTools) -> None:
    fake_tools.set(host_memory_mb=8000)
    result = fake_tools.run("minikube", "start", "--memory=16g", "--driver=docker", "--dry-run")
    assert result.returncode == 14
    assert "Docker has only 8000MB memory but you specified 16384MB" in result.stderr


@pytest.mark.parametrize(("text", "mb"), [("7g", 7168), ("7GB", 7168), ("8192mb", 8192), ("8192", 8192), ("2G", 2048)])
def test_memory_sizes_use_binary_units_like_minikube(text: str, mb: int) -> None:
    assert size_in_mb(text) == mb


def test_disk_size_below_the_minimum_is_a_usage_error(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "start", "--disk-size=1g", "--dry-run")
    assert result.returncode == 14
    assert "X Exiting due to MK_USAGE: Requested disk size 1024 is less than minimum of 2000" in result.stderr


def test_more_cpus_than_the_host_has_exits_29(fake_tools: FakeTools) -> None:
    fake_tools.set(host_cpus=4)
    result = fake_tools.run("minikube", "start", "--cpus=8", "--dry-run")
    assert result.returncode == 29
    assert "Requested cpu count 8 is greater than the available cpus of 4" in result.stderr


def test_gpus_flag_does_not_exist_before_minikube_1_32(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.31.2")
    result = fake_tools.run("minikube", "start", "--gpus=all")
    assert result.returncode == 14
    assert result.stderr == "Error: unknown flag: --gpus\nSee 'minikube start --help' for usage.\n"


def test_gpus_need_the_docker_driver(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.32.0")
    result = fake_tools.run("minikube", "start", "--gpus=all", "--driver=kvm2", "--dry-run")
    assert result.returncode == 14
    assert (
        "X Exiting due to MK_USAGE: The gpus flag can only be used with the docker driver and docker "
        "container-runtime" in result.stderr
    )


def test_gpus_amd_is_unknown_before_minikube_1_35(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.32.0")
    result = fake_tools.run("minikube", "start", "--gpus=amd", "--driver=docker", "--dry-run")
    assert result.returncode == 14
    assert 'The gpus flag must be passed a value of "nvidia" or "all"' in result.stderr


def test_gpus_need_the_docker_container_runtime(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    result = fake_tools.run("minikube", "start", "--gpus=all", "--container-runtime=containerd", "--dry-run")
    assert result.returncode == 14
    assert result.stderr.splitlines()[-1] == (
        "X Exiting due to MK_USAGE: The gpus flag can only be used with the docker driver and docker container-runtime"
    )


def test_gpus_with_the_docker_container_runtime_are_accepted(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    result = fake_tools.run("minikube", "start", "--gpus=all", "--container-runtime=docker", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry-run validation complete!" in result.stdout


def test_an_unknown_container_runtime_is_a_usage_error(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "start", "--container-runtime=rkt", "--dry-run")
    assert result.returncode == 14
    assert result.stderr.splitlines()[-1] == (
        "X Exiting due to MK_USAGE: Invalid Container Runtime: rkt. Valid runtimes are: [docker cri-o containerd]"
    )


@pytest.mark.parametrize(("flag", "saved"), [(None, "docker"), ("containerd", "containerd"), ("cri-o", "crio")])
def test_the_container_runtime_is_saved_in_the_profile_config(fake_tools: FakeTools, flag, saved: str) -> None:
    args = ["start", "-p", "kf"] + ([f"--container-runtime={flag}"] if flag else [])
    assert fake_tools.run("minikube", *args).returncode == 0
    (profile,) = json.loads(fake_tools.run("minikube", "profile", "list", "-o", "json").stdout)["valid"]
    assert profile["Config"]["KubernetesConfig"]["ContainerRuntime"] == saved
    assert profile["Config"]["Nodes"][0]["ContainerRuntime"] == saved


def test_minikube_1_38_1_warns_that_containerd_becomes_the_default(fake_tools: FakeTools) -> None:
    warning = '! Starting v1.39.0, minikube will default to "containerd" container runtime. See #21973 for more info.'
    fake_tools.set(minikube_version="v1.38.1")
    assert warning in fake_tools.run("minikube", "start", "--dry-run").stderr.splitlines()
    assert warning not in fake_tools.run("minikube", "start", "--container-runtime=containerd", "--dry-run").stderr
    fake_tools.set(minikube_version="v1.38.0")
    assert warning not in fake_tools.run("minikube", "start", "--dry-run").stderr


def test_docker_driver_with_the_daemon_down_exits_63(fake_tools: FakeTools) -> None:
    fake_tools.set(docker="down")
    result = fake_tools.run("minikube", "start", "--driver=docker", "--dry-run")
    assert result.returncode == 63
    assert "X Exiting due to PROVIDER_DOCKER_NOT_RUNNING:" in result.stderr


def test_unknown_extra_config_component_is_a_usage_error(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "start", "--extra-config=apisrv.foo=bar", "--dry-run")
    assert result.returncode == 14
    assert "These --extra-config parameters are invalid: [apisrv.foo=bar]" in result.stderr


def test_start_records_its_full_argv(fake_tools: FakeTools) -> None:
    args = ["start", "-p", "kubeflow", "--kubernetes-version=v1.19.3", "--memory=12288mb", "--dry-run"]
    fake_tools.run("minikube", *args)
    assert fake_tools.calls("minikube") == [args]


def test_status_of_a_missing_profile_exits_85(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "status", "-p", "kubeflow", "-o", "json")
    assert result.returncode == 85
    assert result.stdout == (
        '* Profile "kubeflow" not found. Run "minikube profile list" to view all profiles.\n'
        '  To start a cluster, run: "minikube start -p kubeflow"\n'
    )


def test_profile_list_json_without_profiles_is_empty(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "profile", "list", "-o", "json")
    assert (result.returncode, json.loads(result.stdout)) == (0, {"invalid": [], "valid": []})


def test_emoji_only_when_minikube_is_told_it_is_in_style(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "start", "--dry-run", env={"MINIKUBE_IN_STYLE": "true"})
    assert result.stdout.startswith("😄  minikube v1.37.0 on Ubuntu 22.04\n")


@pytest.mark.parametrize("runtime", ["docker", "containerd"])
def test_the_node_runs_the_container_runtime_minikube_was_started_with(fake_tools: FakeTools, runtime: str) -> None:
    """The double behind the profile words failed pulls as that runtime does (tests/double/images.py)."""
    assert fake_tools.run("minikube", "start", "-p", "kf", f"--container-runtime={runtime}").returncode == 0
    knobs = subprocess.run(
        [sys.executable, "-m", "tests.double", "knobs", "--state-dir", str(fake_tools.double_dir("kf"))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(knobs.stdout)["container_runtime"] == runtime


def test_profile_makes_a_profile_the_one_used_without_p_until_it_is_deleted(fake_tools: FakeTools) -> None:
    """cmd/minikube/cmd/config/profile.go sets the config's `profile` and the kubectl context; delete.go unsets it."""
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0
    assert fake_tools.run("minikube", "profile").stdout == "minikube\n"
    assert fake_tools.run("minikube", "status").returncode == 85  # `minikube` does not exist
    switched = fake_tools.run("minikube", "profile", "kubeflow")
    assert switched.returncode == 0 and "minikube profile was successfully set to kubeflow" in switched.stdout
    assert fake_tools.run("minikube", "profile").stdout == "kubeflow\n"
    status = fake_tools.run("minikube", "status")
    assert status.returncode == 0 and status.stdout.startswith("kubeflow\n")
    current = fake_tools.run("kubectl", "config", "current-context")
    assert current.stdout.strip() == "kubeflow"
    (listed,) = json.loads(fake_tools.run("minikube", "profile", "list", "-o", "json").stdout)["valid"]
    assert listed["Active"] is True
    assert fake_tools.run("minikube", "delete").returncode == 0  # the active profile, without -p
    assert fake_tools.run("minikube", "profile").stdout == "minikube\n"


def test_profile_of_a_profile_that_does_not_exist_changes_nothing(fake_tools: FakeTools) -> None:
    result = fake_tools.run("minikube", "profile", "ghost")
    assert result.returncode == 0 and "minikube start -p ghost" in result.stderr
    assert fake_tools.run("minikube", "profile").stdout == "minikube\n"
