"""The minikube command line kfinstall runs, and when an existing profile cannot be reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfinstall.minikube.cluster import ClusterSpec, ProfileState, incompatibilities, needed_runtime, start_args
from kfinstall.release.pins import Pins, load_pins
from kfinstall.release.selection import select
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT

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


# ---- the container runtime: --gpus and v1.4.0's docker executor need docker ----------------------------------


def test_start_args_ask_for_the_container_runtime_after_the_driver() -> None:
    spec = ClusterSpec("kf", "v1.34.0", None, None, None, "docker", "all", (), "docker", ("--gpus",))
    assert start_args(spec) == [
        "start",
        "-p",
        "kf",
        "--kubernetes-version=v1.34.0",
        "--driver=docker",
        "--container-runtime=docker",
        "--gpus=all",
    ]


def test_a_profile_with_another_container_runtime_is_named_with_what_needs_docker() -> None:
    spec = ClusterSpec(
        "kubeflow", "v1.19.3", 4, 8192, None, "docker", None, (), "docker", ("pipelines (its default variant)",)
    )
    state = ProfileState("running", "v1.19.3", 4, 8192, "docker", "", "containerd")
    assert incompatibilities(state, spec) == [
        "it runs the containerd container runtime, but pipelines (its default variant) needs docker"
    ]
    assert incompatibilities(ProfileState("running", "v1.19.3", 4, 8192, "docker", "", "docker"), spec) == []


def test_a_cri_o_profile_is_named_as_minikube_spells_the_flag() -> None:
    spec = ClusterSpec("kf", "v1.34.0", None, None, None, "docker", "all", (), "docker", ("--gpus",))
    problems = incompatibilities(ProfileState("running", "v1.34.0", 2, 4096, "docker", "all", "crio"), spec)
    assert problems == ["it runs the cri-o container runtime, but --gpus needs docker"]


def test_a_plan_without_a_runtime_need_reuses_any_runtime() -> None:
    state = ProfileState("running", "v1.19.3", 4, 8192, "docker", None, "containerd")
    assert incompatibilities(state, TUTORIAL) == []


@pytest.fixture(scope="module")
def pinned() -> Pins:
    return load_pins(REPO_ROOT / "manifests_pins.yaml")


def _needs(pins: Pins, tag: str, profile: str, gpus: str | None = None, variants: dict[str, str] | None = None):
    release = next(r for r in pins.releases if r.tag == tag)
    return needed_runtime(release, select(release, profile, [], [], variants), gpus)


def test_v1_4_0_pipelines_default_variant_needs_docker_and_its_pns_variant_does_not(pinned: Pins) -> None:
    assert _needs(pinned, "v1.4.0", "standard") == ("docker", ("pipelines (its default variant)",))
    assert _needs(pinned, "v1.4.0", "standard", variants={"pipelines": "pns"}) == (None, ())
    assert _needs(pinned, "v1.4.0", "minimal") == (None, ())  # no Pipelines in minimal


def test_gpus_need_docker_whatever_the_release(pinned: Pins) -> None:
    assert _needs(pinned, "v1.11.0", "minimal", gpus="all") == ("docker", ("--gpus",))
    assert _needs(pinned, "v1.4.0", "standard", gpus="all") == ("docker", ("--gpus", "pipelines (its default variant)"))


def test_plan_shows_the_container_runtime_and_what_needs_it(fake_tools: FakeTools, tmp_path: Path) -> None:
    env = {**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "400"}
    result = kfinstall("plan", "-k", "v1.4.0", "--profile", "standard", env=env)
    assert result.returncode == 0, result.stderr
    assert "--driver=docker --container-runtime=docker" in result.stdout
    assert "runtime:   docker, needed by pipelines (its default variant)" in result.stdout
    pns = kfinstall("plan", "-k", "v1.4.0", "--profile", "standard", "--variant", "pipelines=pns", env=env)
    assert pns.returncode == 0, pns.stderr
    assert "--container-runtime" not in pns.stdout
