"""Which release `check`, `plan` and `up` take without `-k`, and the one line saying why: through the real CLI,
with the fake minikube reporting the version of each test (its Kubernetes support is minikube's constants.go)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kfinstall.release.pins import load_pins
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools


@pytest.fixture
def machine(fake_tools: FakeTools, tmp_path: Path) -> Callable[..., dict[str, str]]:
    """The environment of a machine whose fakes report `knobs` (minikube v1.37.0 unless told)."""

    def env(**knobs: str) -> dict[str, str]:
        fake_tools.set(**{"minikube_version": "v1.37.0", "kustomize_version": "5.8.1", "docker": "running", **knobs})
        return {**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "200"}

    return env


def plan_json(env: dict[str, str], *args: str) -> dict:
    result = kfinstall("plan", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def plan_text(env: dict[str, str], *args: str) -> str:
    result = kfinstall("plan", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_minikube_v1_35_is_offered_the_newest_release_whose_kubernetes_it_knows(
    machine: Callable[..., dict[str, str]],
) -> None:
    env = machine(minikube_version="v1.35.0")  # supports Kubernetes up to v1.32.0: not v1.11.0's nor 26.03's v1.34.0
    plan = plan_json(env)
    assert plan["release"] == "v1.10.2"
    assert "--kubernetes-version=v1.32.0" in plan["minikube"]


def test_minikube_v1_35_checks_v1_10_2_and_does_not_pass_v1_11_0s_kubernetes(
    machine: Callable[..., dict[str, str]],
) -> None:
    env = machine(minikube_version="v1.35.0")
    assert "Prerequisites for Kubeflow v1.10.2 (standard)" in kfinstall("check", env=env).stdout
    result = kfinstall("check", "-k", "1.11.0", "--json", env=env)
    minikube = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "minikube")
    assert minikube["status"] == "warn"
    assert "knows Kubernetes up to v1.32.0" in minikube["message"]


def test_minikube_v1_37_gets_26_03_by_default(machine: Callable[..., dict[str, str]]) -> None:
    env = machine(minikube_version="v1.37.0")
    assert plan_json(env)["release"] == "26.03"
    assert "Prerequisites for Kubeflow 26.03 (standard)" in kfinstall("check", env=env).stdout


@pytest.mark.parametrize(
    ("minikube", "release", "why"),
    [
        (
            "v1.32.0",
            "v1.4.0",
            "minikube v1.32.0 supports Kubernetes v1.16.0 – v1.28.3: the newest release it runs is v1.4.0 "
            "(Kubernetes v1.19.3); minikube ≥ v1.37.0 runs 26.03 (Kubernetes v1.34.0)",
        ),
        (
            "v1.35.0",
            "v1.10.2",
            "minikube v1.35.0 supports Kubernetes v1.20.0 – v1.32.0: the newest release it runs is v1.10.2 "
            "(Kubernetes v1.32.0); minikube ≥ v1.37.0 runs 26.03 (Kubernetes v1.34.0)",
        ),
        (
            "v1.37.0",
            "26.03",
            "minikube v1.37.0 supports Kubernetes v1.28.0 – v1.34.0: it runs the newest pinned release, 26.03 "
            "(Kubernetes v1.34.0)",
        ),
    ],
)
def test_plan_says_in_one_line_why_the_minikube_gets_its_release(
    machine: Callable[..., dict[str, str]], minikube: str, release: str, why: str
) -> None:
    env = machine(minikube_version=minikube)
    lines = plan_text(env).splitlines()
    assert lines[0] == f"Kubeflow {release}, profile standard"
    assert lines[1] == f"  release:   {why}"
    assert plan_json(env)["release_reason"] == why


def test_check_says_why_the_release_was_chosen_in_text_and_json(machine: Callable[..., dict[str, str]]) -> None:
    env = machine(minikube_version="v1.32.0", kustomize_version="3.2.0")
    why = "minikube v1.32.0 supports Kubernetes v1.16.0 – v1.28.3: the newest release it runs is v1.4.0"
    text = kfinstall("check", "--profile", "minimal", env=env).stdout
    assert text.splitlines()[0].startswith(f"release: {why}")
    document = json.loads(kfinstall("check", "--profile", "minimal", "--json", env=env).stdout)
    assert document["release"]["tag"] == "v1.4.0" and document["release"]["reason"].startswith(why)


def test_up_says_why_the_release_was_chosen_before_refusing_a_machine_that_fails_a_check(
    fake_tools: FakeTools, machine: Callable[..., dict[str, str]]
) -> None:
    env = machine(minikube_version="v1.35.0", docker="down")
    result = kfinstall("up", "--profile", "minimal", "--yes", env=env)
    assert result.returncode == 1
    assert "release: minikube v1.35.0 supports Kubernetes v1.20.0 – v1.32.0: the newest release it runs is v1.10.2" in (
        result.stderr
    )
    assert "start" not in {call[0] for call in fake_tools.calls("minikube")}  # the failed check stopped it first


def test_a_release_named_with_k_needs_no_reason(machine: Callable[..., dict[str, str]]) -> None:
    env = machine(minikube_version="v1.35.0")
    plan = plan_json(env, "-k", "26.03")
    assert (plan["release"], plan["release_reason"]) == ("26.03", None)
    assert "release:" not in plan_text(env, "-k", "26.03")


def test_k_takes_the_calendar_tag_with_or_without_a_v(machine: Callable[..., dict[str, str]]) -> None:
    env = machine()
    assert plan_json(env, "-k", "v26.03")["release"] == plan_json(env, "-k", "26.03")["release"] == "26.03"


def test_plan_k_26_03_minimal_lists_its_components_in_dependency_order(machine: Callable[..., dict[str, str]]) -> None:
    plan = plan_json(machine(), "-k", "26.03", "--profile", "minimal")
    order = [c["id"] for c in plan["components"]]
    assert order == [
        "kubeflow-namespace", "cert-manager", "istio", "kubeflow-istio-resources", "kubeflow-roles", "profiles-kfam",
        "dex", "oauth2-proxy", "central-dashboard", "admission-webhook", "katib", "notebooks", "user-namespace",
    ]  # fmt: skip
    for index, component in enumerate(plan["components"]):
        assert set(component["depends_on"]) <= set(order[:index]), component["id"]
    assert set(order) == {c.id for c in load_pins().get("26.03").profile_components("minimal")}
    assert plan["repo"] == "https://github.com/kubeflow/community-distribution.git"
    assert plan["commit"] == "d68ebc7fab366ab40ddd1541d2ec22febb31bc83"
    assert "--kubernetes-version=v1.34.0" in plan["minikube"] and "--memory=8192mb" in plan["minikube"]
