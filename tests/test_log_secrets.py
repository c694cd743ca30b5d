"""The log file holds every command kfinstall runs with its full output, but no secret in clear: Secret values,
Dex's password hash and the dashboard password are redacted (keys and sizes stay, so the log stays useful)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import SYNTHETIC_MANIFESTS, SYNTHETIC_PINS, LocalRelease, write_pins

PASSWORD = "Tr0ub4dor-and-3"
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
FAST = "--set crd_establish_delay=0.1 --set ready_delay=0.1 --set seed=3"
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


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def logs(env: dict[str, str]) -> str:
    return "".join(path.read_text() for path in sorted(Path(env["KFINSTALL_LOG_DIR"]).glob("*.log")))


def test_the_log_names_secrets_and_their_keys_but_holds_no_secret_value_password_or_hash(
    fake_tools: FakeTools, env, release_with_a_secret
) -> None:
    result = kfinstall(
        "up", "--pins", str(release_with_a_secret.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
        "--password-stdin", env=env, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    secret = fake_tools.run("kubectl", "--context", "kubeflow", "get", "secret", "mlpipeline-minio-artifact",
                            "-n", "kubeflow", "-o", "jsonpath={.data.rootpassword}")  # fmt: skip
    assert base64.b64decode(secret.stdout).decode() == SECRET_STRING_VALUE  # the cluster got the real values
    text = logs(env)
    assert "mlpipeline-minio-artifact" in text and "accesskey" in text and "rootpassword" in text
    assert "<redacted " in text
    hashes = fake_tools.run("kubectl", "--context", "kubeflow", "get", "configmap", "dex", "-n", "auth",
                            "-o", "jsonpath={.data.config\\.yaml}").stdout  # fmt: skip
    (dex_hash,) = [line.split(":", 1)[1].strip() for line in hashes.splitlines() if "hash:" in line]
    for value in (
        SECRET_DATA_VALUE,
        base64.b64encode(SECRET_DATA_VALUE.encode()).decode(),
        SECRET_STRING_VALUE,
        "line-one-of-a-private-thing",
        base64.b64encode(SECRET_MULTILINE_VALUE.encode()).decode()[:20],
        PASSWORD,
        dex_hash,
    ):
        assert value not in text, value
