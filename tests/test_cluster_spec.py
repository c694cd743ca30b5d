"""The minikube command line kfinstall runs, and when an existing profile cannot be reused."""

from __future__ import annotations

from kfinstall.cluster import ClusterSpec, ProfileState, incompatibilities, start_args

TUTORIAL = ClusterSpec(
    profile="kubeflow",
    kubernetes_version="v1.19.3",
    cpus=4,
    memory_mb=8192,
    disk_size="40g",
    driver="docker",
    gpus=None,
    extra_config=(
        "apiserver.service-account-signing-key-file=/var/lib/minikube/certs/sa.key",
        "apiserver.service-account-issuer=kubernetes.default.svc",
    ),
)


def test_start_args_carry_the_tutorials_flags() -> None:
    assert start_args(TUTORIAL) == [
        "start",
        "-p",
        "kubeflow",
        "--kubernetes-version=v1.19.3",
        "--driver=docker",
        "--cpus=4",
        "--memory=8192mb",
        "--disk-size=40g",
        "--extra-config=apiserver.service-account-signing-key-file=/var/lib/minikube/certs/sa.key",
        "--extra-config=apiserver.service-account-issuer=kubernetes.default.svc",
    ]


def test_start_args_leave_out_what_was_not_asked_and_add_gpus() -> None:
    spec = ClusterSpec("kf", "v1.34.0", None, None, None, None, "all", ())
    assert start_args(spec) == ["start", "-p", "kf", "--kubernetes-version=v1.34.0", "--gpus=all"]


def test_a_profile_with_the_same_settings_is_compatible() -> None:
    assert incompatibilities(ProfileState("running", "v1.19.3", 4, 8192, "docker"), TUTORIAL) == []


def test_a_profile_with_more_resources_is_compatible() -> None:
    assert incompatibilities(ProfileState("running", "v1.19.3", 8, 16384, "docker"), TUTORIAL) == []


def test_another_kubernetes_version_or_less_memory_is_named() -> None:
    problems = incompatibilities(ProfileState("running", "v1.34.0", 4, 4096, "docker"), TUTORIAL)
    assert problems == [
        "it runs Kubernetes v1.34.0, not v1.19.3",
        "it has 4096 MB of memory, less than the 8192 MB asked for",
    ]
