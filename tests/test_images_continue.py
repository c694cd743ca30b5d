"""`images` and the cluster it works on: `load` looks for the cluster before it reads a tarball (exit 3), and
`list`/`pull`/`save` with no -k or --profile take what the minikube profile holds, as `up` and `plan` do. The
real CLI on the fake minikube and the cluster double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_builds: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path, builds=shared_builds)  # the builds are not what is tested


def test_load_without_a_cluster_exits_3_before_reading_the_tarball(env: dict[str, str], tmp_path: Path) -> None:
    garbage = tmp_path / "not-a-tarball.tar"
    garbage.write_text("this is not a tar archive")
    result = kfinstall("images", "load", str(garbage), env=env)
    assert result.returncode == 3, result.stderr
    assert "there is no minikube profile 'kubeflow': `kfinstall images load` needs a cluster" in result.stderr
    assert "not-a-tarball" not in result.stderr and "Traceback" not in result.stderr


def test_list_without_release_or_profile_lists_what_the_minikube_profile_holds(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    pins = ("--pins", str(synthetic_release.pins))
    up = kfinstall("up", *pins, "-k", "v0.1.0", "--yes", "--profile", "minimal", env=env)
    assert up.returncode == 0, up.stderr
    result = kfinstall("images", "list", *pins, "--json", env=env)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert (listed["release"], listed["profile"]) == ("v0.1.0", "minimal")
    assert "docker.io/kfsynthetic/workflow-controller:v3.1.6" not in listed["images"]  # pipelines: not in minimal
    said = kfinstall("images", "list", *pins, env=env).stderr
    assert "continuing what minikube profile 'kubeflow' (running) holds" in " ".join(said.split())


def test_list_with_a_profile_lists_that_profile_whatever_the_minikube_profile_holds(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    pins = ("--pins", str(synthetic_release.pins))
    up = kfinstall("up", *pins, "-k", "v0.1.0", "--yes", "--profile", "minimal", env=env)
    assert up.returncode == 0, up.stderr
    listed = json.loads(kfinstall("images", "list", *pins, "--profile", "standard", "--json", env=env).stdout)
    assert listed["profile"] == "standard"
    assert "docker.io/kfsynthetic/workflow-controller:v3.1.6" in listed["images"]
