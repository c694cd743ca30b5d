"""The user's Profile and namespace: valid whatever the kustomize version, named after the login, and ready only
when the profile controller has made the namespace and its `default-editor` ServiceAccount.

v1.9.1, v1.10.2 and v1.11.0 build `common/user-namespace/base` with `replacements` that kustomize 5.8 no longer
applies: the Profile comes out named `$(profile-name)` and owned by `$(user)`, which a real API server refuses
(kubeflow/community-distribution#3315). That every pinned release's minimal profile installs with kubectl's
embedded kustomize v5.8.1 and leaves a valid Profile is tests/test_releases_on_the_double.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"


def _up(env: dict[str, str], release: LocalRelease, *args: str, timeout: float = 300):
    pins = ("--pins", str(release.pins), "-k", release.tag)
    return kfinstall("up", *pins, "--yes", "--profile", "minimal", *args, env=env, timeout=timeout)


def _kubectl_json(fake_tools: FakeTools, *args: str) -> dict:
    result = fake_tools.run("kubectl", "--context", "kubeflow", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def test_email_names_and_owns_the_users_profile_and_namespace(fake_tools: FakeTools, env, synthetic_release) -> None:
    result = _up(env, synthetic_release, "--email", "Ada.Lovelace+kf@Lab.Example")

    assert result.returncode == 0, result.stderr
    profiles = _kubectl_json(fake_tools, "get", "profiles.kubeflow.org")["items"]
    assert [(p["metadata"]["name"], p["spec"]["owner"]["name"]) for p in profiles] == [
        ("kubeflow-ada-lovelace-kf-lab-example", "Ada.Lovelace+kf@Lab.Example")
    ]
    editor = _kubectl_json(
        fake_tools, "get", "serviceaccount", "default-editor", "-n", "kubeflow-ada-lovelace-kf-lab-example"
    )
    assert editor["metadata"]["namespace"] == "kubeflow-ada-lovelace-kf-lab-example"


def test_user_namespace_is_ready_only_once_the_profile_controller_made_the_namespace_and_its_editor(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release
) -> None:
    # the controller takes 3 s per Profile here (upstream gives it 30 s)
    fake_tools.set(double_args=RACY + " --set profile_reconcile_delay=3", minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)

    result = _up(env, synthetic_release)

    assert result.returncode == 0, result.stderr
    path = "/api/v1/namespaces/kubeflow-user-example-com/serviceaccounts/default-editor"
    asked = [
        entry["status"]
        for line in (fake_tools.double_dir("kubeflow") / "requests.jsonl").read_text().splitlines()
        if (entry := json.loads(line))["path"] == path and entry["method"] == "GET"
    ]
    assert asked[0] == 404 and asked[-1] == 200, "up should have asked until the controller had made it"


def test_a_profile_controller_that_never_makes_the_namespace_times_out_naming_the_profile(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release
) -> None:
    fake_tools.set(double_args=RACY + " --set profile_reconcile_delay=3600", minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)

    result = _up(env, synthetic_release, "--timeout", "10")

    assert result.returncode == 1
    assert "user-namespace: not ready after 10s" in result.stderr
    assert (
        "profile kubeflow-user-example-com: the profile controller has not made namespace kubeflow-user-example-com "
        "with its default-editor yet" in result.stderr
    )
