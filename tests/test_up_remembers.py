"""`up` that remembers: with no release, profile or GPU options, an existing minikube profile is continued as it
was installed (the install record while it runs, minikube's profile config and the copy `up` keeps while it is
stopped); a plan it cannot hold is explained before anything runs, and every hint that deletes says what is lost.

The real CLI on the fake minikube (which keeps minikube's ClusterConfig per profile) and the cluster double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
LOST = "notebooks, their volumes, pipeline history"


@pytest.fixture(scope="module")
def shared_builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for the module (each test still has its own manifests cache and its own copies)."""
    return tmp_path_factory.mktemp("builds")


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_builds: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path, builds=shared_builds)


def up(env: dict[str, str], release: LocalRelease, *args: str):
    return kfinstall("up", "--pins", str(release.pins), "--yes", *args, env=env)


def said(text: str) -> str:
    """What was printed with the console's line wrapping undone (a pipe is 80 columns wide)."""
    return " ".join(text.split())


def record(fake_tools: FakeTools) -> dict:
    result = fake_tools.run(
        "kubectl", "--context", "kubeflow", "get", "configmap", "kfinstall-install", "-n", "kube-system", "-o", "json"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(json.loads(result.stdout)["data"]["install.json"])


def starts(fake_tools: FakeTools) -> list[list[str]]:
    return [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]


@pytest.fixture
def minimal(fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease) -> dict[str, str]:
    """A finished minimal install on a cluster made with 5 CPUs and 9 GB (not the release's defaults)."""
    result = up(env, synthetic_release, "-k", "v0.1.0", "--profile", "minimal", "--cpus", "5", "--memory", "9g")
    assert result.returncode == 0, result.stderr
    return env


def test_a_plain_up_after_a_stop_continues_the_installed_profile_on_the_same_cluster_settings(
    fake_tools: FakeTools, minimal: dict[str, str], synthetic_release: LocalRelease
) -> None:
    assert fake_tools.run("minikube", "stop", "-p", "kubeflow").returncode == 0
    result = up(minimal, synthetic_release)
    assert result.returncode == 0, result.stderr
    assert "continuing what minikube profile 'kubeflow' (stopped) holds" in said(result.stderr)
    assert "Kubeflow v0.1.0, profile minimal" in said(result.stderr)
    again = starts(fake_tools)[-1]
    assert {"--cpus=5", "--memory=9216mb", "--kubernetes-version=v1.34.0"} <= set(again), again
    assert record(fake_tools)["profile"] == "minimal"
    assert "pipelines" not in record(fake_tools)["components"]  # standard's Pipelines were not added


def test_a_plain_up_on_a_running_install_continues_it_from_the_install_record(
    fake_tools: FakeTools, minimal: dict[str, str], synthetic_release: LocalRelease
) -> None:
    result = up(minimal, synthetic_release)
    assert result.returncode == 0, result.stderr
    assert "from the install record on the cluster: Kubeflow v0.1.0, profile minimal" in said(result.stderr)
    assert "(0 installed, 13 unchanged" in said(result.stderr)
    assert len(starts(fake_tools)) == 1  # the running cluster is reused, not refused for its 5 CPUs


def test_status_on_a_stopped_cluster_says_up_starts_it_and_continues_what_it_holds(
    fake_tools: FakeTools, minimal: dict[str, str]
) -> None:
    assert fake_tools.run("minikube", "stop", "-p", "kubeflow").returncode == 0
    result = kfinstall("status", env=minimal)
    assert result.returncode == 3  # the cluster is not running
    assert (
        "minikube profile 'kubeflow' is stopped: `kfinstall up` starts it and continues what it holds "
        "(Kubeflow v0.1.0, profile minimal, Kubernetes v1.34.0, 5 CPUs, 9 GB)"
    ) in said(result.stdout)
    assert "minikube start" not in said(result.stdout)


def test_standard_on_a_minimal_cluster_too_small_for_it_is_explained_before_anything_runs(
    fake_tools: FakeTools, minimal: dict[str, str], synthetic_release: LocalRelease
) -> None:
    calls_before = len(fake_tools.calls("minikube")), len(fake_tools.calls("kustomize"))
    result = up(minimal, synthetic_release, "--profile", "standard")
    assert result.returncode == 2, result.stderr
    assert "minikube profile 'kubeflow' holds Kubeflow v0.1.0, profile minimal" in said(result.stderr)
    assert "it has 9216 MB of memory, less than the 12288 MB asked for" in said(result.stderr)
    assert "What can change in place: adding pipelines" in said(result.stderr)
    assert "What cannot: minikube keeps a cluster's Kubernetes version, CPUs, memory" in said(result.stderr)
    assert "add `--cpus 5 --memory 9216mb` to keep the cluster as it is (it may be too small)" in said(result.stderr)
    deletes = f"`kfinstall down -p kubeflow` first: it deletes the cluster and everything in it: {LOST}"
    assert deletes in said(result.stderr)
    assert len(fake_tools.calls("kustomize")) == calls_before[1]  # nothing built
    assert not any(call[:1] == ["start"] for call in fake_tools.calls("minikube")[calls_before[0] :])
    assert not list(Path(minimal["KFINSTALL_LOG_DIR"]).glob("*-up-*.log"))[1:]  # bad input: no second log


def test_standard_on_a_minimal_cluster_kept_as_it_is_adds_the_components_in_place(
    fake_tools: FakeTools, minimal: dict[str, str], synthetic_release: LocalRelease
) -> None:
    result = up(minimal, synthetic_release, "--profile", "standard", "--cpus", "5", "--memory", "9216mb")
    assert result.returncode == 0, result.stderr
    assert "pipelines" in record(fake_tools)["components"]
    assert len(starts(fake_tools)) == 1


def test_a_plain_up_with_no_cluster_installs_the_default_profile(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    result = kfinstall("plan", "--pins", str(synthetic_release.pins), "--json", env=env)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["profile"] == "standard" and "continuing" not in (plan["release_reason"] or "")


def test_a_profile_deleted_and_made_anew_by_hand_is_not_taken_for_the_old_install(
    fake_tools: FakeTools, minimal: dict[str, str], synthetic_release: LocalRelease
) -> None:
    """The copy `up` kept is of a cluster with its settings: a new profile of that name made otherwise holds nothing."""
    assert fake_tools.run("minikube", "delete", "-p", "kubeflow").returncode == 0
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--cpus", "3", "--memory", "12g").returncode == 0
    assert fake_tools.run("minikube", "stop", "-p", "kubeflow").returncode == 0
    result = kfinstall("plan", "--pins", str(synthetic_release.pins), "--json", env=minimal)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["profile"] == "standard" and "continuing" not in (plan["release_reason"] or "")
    assert {"--cpus=3", "--memory=12288mb"} <= set(plan["minikube"])  # the new profile's own settings are kept
