"""Which release `check`, `plan` and `up` take without `-k`, and the one line saying why: through the real CLI,
with the fake minikube reporting the version of each test (its Kubernetes support is minikube's constants.go)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from kfinstall.release import minikube_support
from kfinstall.release.choice import ReleaseChoice, choose, suggest_release
from kfinstall.release.pins import Pins, load_pins
from kfinstall.release.version import Version
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
            "(Kubernetes v1.19.3); upgrade minikube to v1.37.0 or later for the newest, 26.03 (Kubernetes v1.34.0)",
        ),
        (
            "v1.35.0",
            "v1.10.2",
            "minikube v1.35.0 supports Kubernetes v1.20.0 – v1.32.0: the newest release it runs is v1.10.2 "
            "(Kubernetes v1.32.0); upgrade minikube to v1.37.0 or later for the newest, 26.03 (Kubernetes v1.34.0)",
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


@pytest.fixture(scope="module")
def pins() -> Pins:
    return load_pins()


# ---- the choice itself (pure: the minikube version handed in) ---------------------------------------------------


def test_default_release_is_the_newest_the_local_minikube_can_run(pins: Pins) -> None:
    assert choose(pins, None, None, lambda: Version(1, 37, 0)).release.tag == "26.03"
    assert choose(pins, None, None, lambda: None).release.tag == "26.03"


def test_an_old_release_is_never_suggested_to_a_minikube_that_refuses_it(pins: Pins) -> None:
    old_only = Pins(releases=[pins.get("v1.4.0"), pins.get("v1.9.1")])
    assert suggest_release(old_only, Version(1, 37, 0)).tag == "v1.9.1"  # type: ignore[union-attr]
    assert suggest_release(Pins(releases=[pins.get("v1.4.0")]), Version(1, 37, 0)) is None
    assert suggest_release(Pins(releases=[pins.get("v1.4.0")]), Version(1, 32, 0)).tag == "v1.4.0"  # type: ignore[union-attr]


def test_minikube_1_32_is_offered_the_newest_release_whose_kubernetes_it_knows(pins: Pins) -> None:
    # v1.11.0 (Kubernetes v1.34.0) down to v1.9.1 (v1.31.0) are newer than v1.28.3, the newest minikube v1.32 knows
    assert suggest_release(pins, Version(1, 32, 0)).tag == "v1.4.0"  # type: ignore[union-attr]
    assert choose(pins, None, None, lambda: Version(1, 32, 0)).release.tag == "v1.4.0"


def test_when_no_release_is_known_to_the_minikube_the_one_least_beyond_it_is_offered(pins: Pins) -> None:
    # minikube v1.33 refuses v1.4.0's Kubernetes v1.19.3 and supports none newer than v1.30.0: too new only warns,
    # and v1.9.1's v1.31.0 is the least beyond it
    assert suggest_release(pins, Version(1, 33, 0)).tag == "v1.9.1"  # type: ignore[union-attr]


def test_a_minikube_newer_than_the_table_is_offered_the_newest_release_it_starts(pins: Pins) -> None:
    assert minikube_support.knows_kubernetes(Version(1, 39, 0), Version(1, 34, 0)) is None
    assert suggest_release(pins, Version(1, 39, 0)).tag == "26.03"  # type: ignore[union-attr]


def reason(pins: Pins, version: str | None) -> str | None:
    return choose(pins, None, None, lambda: Version.parse(version) if version else None).reason


def test_the_reason_for_a_minikube_that_supports_no_pinned_release_names_the_nearest(pins: Pins) -> None:
    assert reason(pins, "v1.33.0") == (
        "minikube v1.33.0 supports Kubernetes v1.20.0 – v1.30.0, older than every pinned release it starts: v1.9.1 "
        "(Kubernetes v1.31.0) is the nearest, and minikube warns before trying it; upgrade minikube to v1.37.0 or "
        "later for the newest, 26.03 (Kubernetes v1.34.0)"
    )


def test_the_reason_for_a_minikube_newer_than_the_table_says_its_support_is_not_recorded(pins: Pins) -> None:
    assert reason(pins, "v1.39.0") == (
        "minikube v1.39.0 is newer than the minikube releases whose Kubernetes support kfinstall records: 26.03, "
        "the newest release it starts, is chosen"
    )


def test_the_reason_without_a_readable_minikube_is_the_newest_release(pins: Pins) -> None:
    assert reason(pins, None) == "no minikube version could be read: the newest pinned release, 26.03, is checked"


def test_a_release_named_with_k_has_no_reason_and_context_takes_the_newest(pins: Pins) -> None:
    assert choose(pins, "v26.03", None, lambda: Version(1, 32, 0)) == ReleaseChoice(pins.get("26.03"))
    choice = choose(pins, None, "prod", lambda: Version(1, 32, 0))
    assert choice.release.tag == "26.03" and choice.reason is not None and "--context" in choice.reason


def test_with_k_or_context_the_minikube_version_is_not_asked(pins: Pins) -> None:
    def not_asked() -> Version | None:
        raise AssertionError("the minikube version was asked for")

    assert choose(pins, "v1.9.1", None, not_asked).release.tag == "v1.9.1"
    assert choose(pins, None, "prod", not_asked).release.tag == pins.newest.tag
