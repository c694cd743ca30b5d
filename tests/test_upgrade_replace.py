"""An upgrade whose new release changes an immutable field: the object is deleted, then applied anew.

Two synthetic releases (tests/data/synthetic-manifests, tagged v0.1.0 and v0.2.0 in a local repository): v0.2.0
adds a label to the selector of Deployment katib-ui, which the API server refuses to change in place (the double
answers `field is immutable`, tests/double/immutable.py), and drops the Service katib-ui. `up -k v0.2.0` replaces
the Deployment and prunes the Service.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import SYNTHETIC_MANIFESTS, SYNTHETIC_PINS

RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"
GIT = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@kfinstall.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@kfinstall.invalid"}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT}, check=True, capture_output=True,
                          text=True)  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def two_releases(tmp_path: Path) -> Path:
    """The pins of v0.1.0 and v0.2.0 of the synthetic set, served from a local repository."""
    repo = tmp_path / "manifests"
    shutil.copytree(SYNTHETIC_MANIFESTS, repo)
    git(repo, "init", "--quiet", "-b", "master")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "v0.1.0")
    git(repo, "tag", "v0.1.0")
    first = git(repo, "rev-parse", "HEAD")
    katib = repo / "apps" / "katib" / "base" / "katib.yaml"
    documents = list(yaml.safe_load_all(katib.read_text()))
    for document in documents:
        if document and document["kind"] == "Deployment" and document["metadata"]["name"] == "katib-ui":
            document["spec"]["selector"]["matchLabels"]["component"] = "ui"
            document["spec"]["template"]["metadata"]["labels"]["component"] = "ui"
    documents = [d for d in documents if d and not (d["kind"] == "Service" and d["metadata"]["name"] == "katib-ui")]
    katib.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    git(repo, "commit", "--quiet", "-am", "v0.2.0")
    git(repo, "tag", "v0.2.0")
    second = git(repo, "rev-parse", "HEAD")
    data = yaml.safe_load(SYNTHETIC_PINS.read_text())
    (release,) = data["releases"]
    release.update(repo=f"file://{repo}", commit=first)
    data["releases"] = [release, {**release, "tag": "v0.2.0", "commit": second}]
    pins = tmp_path / "pins.yaml"
    pins.write_text(yaml.safe_dump(data, sort_keys=False))
    return pins


def kubectl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--context", "kubeflow", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def test_a_changed_selector_is_replaced_and_a_dropped_service_pruned(
    fake_tools: FakeTools, two_releases: Path, tmp_path: Path
) -> None:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0")
    env = {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_STATE_DIR": str(tmp_path / "state")}
    first = kfinstall("up", "--pins", str(two_releases), "-k", "v0.1.0", "--profile", "minimal", "--yes", env=env)
    assert first.returncode == 0, first.stderr

    plan = kfinstall("plan", "--pins", str(two_releases), "-k", "v0.2.0", "--json", env=env)
    assert plan.returncode == 0, plan.stderr
    listed = json.loads(plan.stdout)["upgrade_plan"]
    assert listed["replace"] == [{"object": "deployment.apps/katib-ui -n kubeflow", "fields": ["spec.selector"]}]
    assert listed["prune"] == ["service/katib-ui -n kubeflow"]

    done = kfinstall("up", "--pins", str(two_releases), "-k", "v0.2.0", "--yes", env=env)

    assert done.returncode == 0, done.stderr
    assert "replacing deployment.apps/katib-ui -n kubeflow (spec.selector changes)" in done.stderr
    assert "pruning katib (1 object): service/katib-ui -n kubeflow" in done.stderr
    shown = kubectl(env, "get", "deployment", "katib-ui", "-n", "kubeflow", "-o", "json")
    deployment = json.loads(shown.stdout)
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "katib-ui", "component": "ui"}
    assert deployment["metadata"]["labels"]["kfinstall.dev/release"] == "v0.2.0"
    assert kubectl(env, "get", "service", "katib-ui", "-n", "kubeflow").returncode == 1
