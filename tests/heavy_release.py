"""`heavy_release`: the synthetic release whose Pipelines also runs a Deployment asking for 5 GiB and 2 CPUs, so
that the standard profile outgrows a small minikube while the minimal one fits (tests of the measured requests)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.releases import SYNTHETIC_MANIFESTS, SYNTHETIC_PINS, LocalRelease, write_pins

#: A Pipelines Deployment that asks for 5 GiB and 2 CPUs: standard (with Pipelines) outgrows a 4 GB minikube.
HEAVY = """---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: heavy-cache
  namespace: kubeflow
spec:
  replicas: 1
  selector:
    matchLabels: {app: heavy-cache}
  template:
    metadata:
      labels: {app: heavy-cache}
    spec:
      containers:
      - name: cache
        image: docker.io/kfsynthetic/heavy-cache:1
        resources:
          requests: {cpu: "2", memory: 5Gi}
"""


@pytest.fixture(scope="module")
def heavy_release(tmp_path_factory: pytest.TempPathFactory) -> LocalRelease:
    """The synthetic release whose Pipelines also runs the 5 GiB `heavy-cache` Deployment."""
    root = tmp_path_factory.mktemp("heavy")
    repo = root / "manifests"
    shutil.copytree(SYNTHETIC_MANIFESTS, repo)
    pipelines = repo / "apps/pipeline/base/pipelines.yaml"
    pipelines.write_text(pipelines.read_text() + HEAVY)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@kfinstall.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@kfinstall.invalid"}  # fmt: skip

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout

    git("init", "--quiet", "-b", "master")
    git("add", ".")
    git("commit", "--quiet", "-m", "synthetic manifests with a heavy Pipelines Deployment")
    git("tag", "v0.1.0")
    commit = git("rev-parse", "HEAD").strip()
    url = f"file://{repo}"
    return LocalRelease("v0.1.0", write_pins(SYNTHETIC_PINS, root / "pins.yaml", url, {"v0.1.0": commit}), url, commit)
