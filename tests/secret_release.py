"""A release whose build holds a Secret: the synthetic manifests with one added to katib (tests/releases.py)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess

import pytest

from tests.releases import SYNTHETIC_MANIFESTS, SYNTHETIC_PINS, LocalRelease, write_pins

#: A Secret of the kind Kubeflow's manifests ship (KFP's mysql and minio credentials), in katib's build.
SECRET_DATA_VALUE = "s3cr3t-minio-access-key-42"
SECRET_STRING_VALUE = "mysql-root-p4ssw0rd-17"
SECRET_MULTILINE_VALUE = "line-one-of-a-private-thing\nline-two-of-a-private-thing\n"
SECRET = f"""---
apiVersion: v1
kind: Secret
metadata:
  name: mlpipeline-minio-artifact
  namespace: kubeflow
type: Opaque
data:
  accesskey: {base64.b64encode(SECRET_DATA_VALUE.encode()).decode()}
stringData:
  rootpassword: {SECRET_STRING_VALUE}
  config.ini: |
    line-one-of-a-private-thing
    line-two-of-a-private-thing
"""
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@kfinstall.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@kfinstall.invalid",
}


@pytest.fixture(scope="module")
def release_with_a_secret(tmp_path_factory: pytest.TempPathFactory) -> LocalRelease:
    """The synthetic release whose katib component also ships a Secret with `data` and `stringData`."""
    root = tmp_path_factory.mktemp("with-a-secret")
    repo = root / "manifests"
    shutil.copytree(SYNTHETIC_MANIFESTS, repo)
    katib = repo / "apps/katib/base/katib.yaml"
    katib.write_text(katib.read_text() + SECRET)

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    git("init", "--quiet", "-b", "master")
    git("add", ".")
    git("commit", "--quiet", "-m", "synthetic manifests with a Secret")
    git("tag", "v0.1.0")
    commit = git("rev-parse", "HEAD")
    url = f"file://{repo}"
    return LocalRelease("v0.1.0", write_pins(SYNTHETIC_PINS, root / "pins.yaml", url, {"v0.1.0": commit}), url, commit)
