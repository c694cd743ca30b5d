"""The log file holds every command kfinstall runs with its full output, but no secret in clear: Secret values,
Dex's password hash and the dashboard password are redacted (keys and sizes stay, so the log stays useful)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.secret_release import (
    SECRET_DATA_VALUE,
    SECRET_MULTILINE_VALUE,
    SECRET_STRING_VALUE,
)

PASSWORD = "Tr0ub4dor-and-3"
FAST = "--set crd_establish_delay=0.1 --set ready_delay=0.1 --set seed=3"


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
