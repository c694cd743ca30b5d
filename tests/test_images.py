"""`kfinstall images list|pull|save|load`: the release's images, pulled into (and carried between) minikubes."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    """The fakes' environment as configured now (a later `.set()` needs a fresh one)."""
    fake_tools.set(minikube_version="v1.37.0", double_args="--set system_pods=false")
    return isolated_env(fake_tools.env, tmp_path)


def images(env: dict[str, str], release: LocalRelease, *args: str):
    return kfinstall("images", *args, "--pins", str(release.pins), "-k", release.tag, env=env)


def node_images(fake_tools: FakeTools) -> list[str]:
    result = fake_tools.run("minikube", "-p", "kubeflow", "image", "ls")
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_list_names_every_image_of_the_profile_once(env, synthetic_release) -> None:
    result = images(env, synthetic_release, "list", "--profile", "minimal", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert listed["release"] == "v0.1.0"
    assert "docker.io/kfsynthetic/katib-controller:v0.12.0" in listed["images"]
    assert "docker.io/kfsynthetic/workflow-controller:v3.1.6" not in listed["images"]  # pipelines is not minimal
    assert len(listed["images"]) == len(set(listed["images"]))


def test_pull_runs_a_bounded_number_of_pulls_at_a_time(fake_tools: FakeTools, synthetic_release, tmp_path) -> None:
    fake_tools.run("minikube", "start", "-p", "kubeflow")
    env = isolated_env(fake_tools.set(image_pull_seconds="0.5").env, tmp_path)
    result = images(env, synthetic_release, "pull", "--concurrency", "3")
    assert result.returncode == 0, result.stderr
    pulls = [json.loads(line) for line in (fake_tools.state / "image-pulls.jsonl").read_text().splitlines()]
    listed = images(env, synthetic_release, "list").stdout.split()
    assert sorted(p["image"] for p in pulls) == sorted(listed)
    in_flight = max(sum(1 for other in pulls if other["start"] <= p["start"] < other["end"]) for p in pulls)
    assert 2 <= in_flight <= 3  # parallel, and never more than asked
    first_pull = next(call for call in fake_tools.calls("minikube") if "pull" in call)
    assert first_pull[:4] == ["-p", "kubeflow", "image", "pull"]


def test_a_failed_pull_is_named_and_the_others_still_pulled(fake_tools: FakeTools, synthetic_release, tmp_path) -> None:
    fake_tools.run("minikube", "start", "-p", "kubeflow")
    env = isolated_env(fake_tools.set(image_pull_fail="*/dex:*").env, tmp_path)
    result = images(env, synthetic_release, "pull", "--profile", "minimal")
    assert result.returncode == 1
    assert "1 image(s) not pulled" in result.stderr and "docker.io/kfsynthetic/dex:v2.24.0" in result.stderr
    assert "docker.io/kfsynthetic/katib-controller:v0.12.0" in node_images(fake_tools)


def test_save_then_load_into_a_fresh_minikube(fake_tools: FakeTools, env, synthetic_release, tmp_path) -> None:
    fake_tools.run("minikube", "start", "-p", "kubeflow")
    assert images(env, synthetic_release, "pull", "--profile", "minimal").returncode == 0
    pulled = node_images(fake_tools)
    tarball = tmp_path / "kubeflow-images.tar"
    saved = images(env, synthetic_release, "save", str(tarball), "--profile", "minimal")
    assert saved.returncode == 0, saved.stderr
    with tarfile.open(tarball) as archive:
        assert sorted(json.loads(archive.extractfile("kfinstall-images.json").read())["images"]) == sorted(pulled)
    fake_tools.run("minikube", "delete", "-p", "kubeflow")
    fake_tools.run("minikube", "start", "-p", "kubeflow")
    assert node_images(fake_tools) == []
    loaded = kfinstall("images", "load", str(tarball), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert sorted(node_images(fake_tools)) == sorted(pulled)


def test_load_refuses_a_file_it_did_not_write(fake_tools: FakeTools, env, tmp_path) -> None:
    fake_tools.run("minikube", "start", "-p", "kubeflow")  # load looks for the cluster first (exit 3 without)
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w"):
        pass
    result = kfinstall("images", "load", str(plain), env=env)
    assert result.returncode == 1
    assert "was not written by `kfinstall images save`" in result.stderr
