"""The dashboard password: set by `up` from a file, stdin or a prompt, changed by `kfinstall password`; the
plaintext never reaches a manifest, a log, a process argument, the install record or the output."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import bcrypt
import pytest
import yaml

from kfinstall.manifests.login import LOGIN_ANNOTATION, Login, hash_password, set_login
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import MANIFESTS_BUNDLE, needs_bundle, real_kubectl
from tests.releases import LocalRelease

SECRET = "correct-horse-battery"
FAST = "--set crd_establish_delay=0.1 --set ready_delay=0.1 --set seed=3"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def up(env: dict[str, str], release: LocalRelease, *args: str, stdin: str | None = None):
    return kfinstall(
        "up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", *args,
        env=env, stdin=stdin,
    )  # fmt: skip


def dex_user(fake_tools: FakeTools) -> dict:
    result = fake_tools.run("kubectl", "--context", "kubeflow", "get", "configmap", "dex", "-n", "auth", "-o", "json")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(json.loads(result.stdout)["data"]["config.yaml"])["staticPasswords"][0]


def record(fake_tools: FakeTools) -> dict:
    result = fake_tools.run(
        "kubectl", "--context", "kubeflow", "get", "configmap", "kfinstall-install", "-n", "kube-system", "-o", "json"
    )
    return json.loads(json.loads(result.stdout)["data"]["install.json"])


def everything_written(env: dict[str, str], fake_tools: FakeTools) -> str:
    """The logs, the recorded process arguments of every fake tool, and the cluster's whole state."""
    logs = "".join(path.read_text(errors="replace") for path in Path(env["KFINSTALL_LOG_DIR"]).glob("*.log"))
    calls = json.dumps([fake_tools.calls(tool) for tool in ("minikube", "kustomize", "docker")])
    state = fake_tools.run("kubectl", "--context", "kubeflow", "get", "configmaps,secrets", "-A", "-o", "json").stdout
    return logs + calls + state


def test_a_password_file_sets_dex_s_hash_and_the_plaintext_is_nowhere(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text(SECRET + "\n")
    result = up(env, synthetic_release, "--password-file", str(secret_file), "--email", "ada@lab.example")
    assert result.returncode == 0, result.stderr
    user = dex_user(fake_tools)
    assert user["email"] == "ada@lab.example"
    assert bcrypt.checkpw(SECRET.encode(), user["hash"].encode())
    assert record(fake_tools)["default_password"] is False
    assert record(fake_tools)["email"] == "ada@lab.example"
    assert "ada@lab.example (with the password you set)" in result.stderr
    assert SECRET not in result.stdout + result.stderr + everything_written(env, fake_tools)


def test_password_stdin_sets_it_too(fake_tools: FakeTools, env, synthetic_release) -> None:
    result = up(env, synthetic_release, "--password-stdin", stdin=SECRET + "\n")
    assert result.returncode == 0, result.stderr
    assert bcrypt.checkpw(SECRET.encode(), dex_user(fake_tools)["hash"].encode())
    assert SECRET not in result.stdout + result.stderr + everything_written(env, fake_tools)


def test_yes_without_a_password_keeps_the_default_with_a_prominent_warning(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    result = up(env, synthetic_release)
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "default password (12341234)" in result.stderr
    assert "Login:     user@example.com / 12341234" in result.stderr
    assert record(fake_tools)["default_password"] is True


def test_kfinstall_password_changes_it_and_restarts_dex(fake_tools: FakeTools, env, synthetic_release) -> None:
    assert up(env, synthetic_release).returncode == 0
    result = kfinstall("password", "--password-stdin", env=env, stdin="another-secret-1\n")
    assert result.returncode == 0, result.stderr
    assert "password changed for user@example.com; Dex restarted" in result.stdout
    assert bcrypt.checkpw(b"another-secret-1", dex_user(fake_tools)["hash"].encode())
    assert record(fake_tools)["default_password"] is False
    deployment = fake_tools.run("kubectl", "--context", "kubeflow", "get", "deploy", "dex", "-n", "auth", "-o", "json")
    annotations = json.loads(deployment.stdout)["spec"]["template"]["metadata"].get("annotations", {})
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert "another-secret-1" not in result.stdout + result.stderr + everything_written(env, fake_tools)


def test_a_rerun_with_a_new_password_sets_it_and_rolls_dex(fake_tools: FakeTools, env, synthetic_release) -> None:
    assert up(env, synthetic_release, "--password-stdin", stdin=SECRET).returncode == 0
    first = dex_pod_template(fake_tools)
    again = up(env, synthetic_release, "--password-stdin", stdin="a-new-password")
    assert again.returncode == 0, again.stderr
    assert bcrypt.checkpw(b"a-new-password", dex_user(fake_tools)["hash"].encode())
    assert dex_pod_template(fake_tools)[LOGIN_ANNOTATION] != first[LOGIN_ANNOTATION]


def dex_pod_template(fake_tools: FakeTools) -> dict:
    result = fake_tools.run("kubectl", "--context", "kubeflow", "get", "deploy", "dex", "-n", "auth", "-o", "json")
    return json.loads(result.stdout)["spec"]["template"]["metadata"].get("annotations") or {}


def test_a_rerun_with_the_same_manifests_keeps_the_password_set(fake_tools: FakeTools, env, synthetic_release) -> None:
    assert up(env, synthetic_release, "--password-stdin", stdin=SECRET).returncode == 0
    again = up(env, synthetic_release)
    assert again.returncode == 0, again.stderr
    assert bcrypt.checkpw(SECRET.encode(), dex_user(fake_tools)["hash"].encode())
    assert "(with the password you set)" in again.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--password-file", "/nonexistent/pw"), None, "password file /nonexistent/pw does not exist"),
        (("--password-stdin",), "", "the password from standard input is empty"),
        (("--password-stdin",), "short\n", "shorter than 8 characters"),
        (("--password-stdin", "--password-file", "x"), "whatever-1\n", "both give the password"),
        (("--email", "not-an-email"), None, "is not an email address"),
    ],
    ids=["missing-file", "empty-stdin", "too-short", "two-sources", "bad-email"],
)
def test_a_bad_password_input_changes_nothing(fake_tools: FakeTools, env, synthetic_release, args, stdin, message):
    result = up(env, synthetic_release, *args, stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr
    assert not fake_tools.calls("minikube")


# The transformation on the real manifests of each shape ----------------------------------------------------


def built_dex(tmp_path: Path, tag: str, path: str) -> list[dict]:
    checkout = tmp_path / tag
    subprocess.run(["git", "clone", "-q", "-b", tag, str(MANIFESTS_BUNDLE), str(checkout)], check=True)
    out = subprocess.run([real_kubectl(), "kustomize", checkout / path], check=True, capture_output=True, text=True)
    return [obj for obj in yaml.safe_load_all(out.stdout) if obj]


def dex_template_annotations(objects: list[dict]) -> dict:
    (deployment,) = [obj for obj in objects if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "dex"]
    return deployment["spec"]["template"]["metadata"].get("annotations") or {}


def static_user(objects: list[dict]) -> dict:
    (config,) = [obj for obj in objects if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "dex"]
    return yaml.safe_load(config["data"]["config.yaml"])["staticPasswords"][0]


@needs_bundle
def test_v1_4_keeps_the_hash_inline_in_dex_s_config(tmp_path: Path) -> None:
    objects = built_dex(tmp_path, "v1.4.0", "common/dex/base")
    changed = set_login(objects, Login("ada@lab.example", hash_password(SECRET)))
    assert changed is not None
    user = static_user(changed)
    assert user["email"] == "ada@lab.example"
    assert bcrypt.checkpw(SECRET.encode(), user["hash"].encode())
    assert LOGIN_ANNOTATION in dex_template_annotations(changed)


@needs_bundle
@pytest.mark.parametrize("tag", ["v1.9.1", "v1.11.0"])
def test_later_releases_keep_the_hash_in_the_dex_passwords_secret(tmp_path: Path, tag: str) -> None:
    objects = built_dex(tmp_path, tag, "common/dex/overlays/oauth2-proxy")
    changed = set_login(objects, Login("ada@lab.example", hash_password(SECRET)))
    assert changed is not None
    assert static_user(changed)["hashFromEnv"] == "DEX_USER_PASSWORD"
    (secret,) = [obj for obj in changed if obj["kind"] == "Secret" and obj["metadata"]["name"] == "dex-passwords"]
    assert bcrypt.checkpw(SECRET.encode(), secret["stringData"]["DEX_USER_PASSWORD"].encode())
    assert LOGIN_ANNOTATION in dex_template_annotations(changed)


def test_a_live_secret_s_base64_data_is_replaced_encoded() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dex"}, "data": {"config.yaml": (
        "issuer: http://dex\nstaticPasswords:\n- email: user@example.com\n  hashFromEnv: DEX_USER_PASSWORD\n"
    )}}  # fmt: skip
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dex-passwords"},
              "data": {"DEX_USER_PASSWORD": base64.b64encode(b"old").decode()}}  # fmt: skip
    hashed = hash_password(SECRET)
    changed = set_login([config, secret], Login(hash=hashed))
    assert changed is not None
    assert base64.b64decode(changed[1]["data"]["DEX_USER_PASSWORD"]).decode() == hashed


def test_objects_without_dex_are_not_changed() -> None:
    assert set_login([{"kind": "ConfigMap", "data": {"a": "b"}}], Login(hash="x")) is None


def test_a_profile_owned_by_the_old_email_follows_the_new_one() -> None:
    config = {"kind": "ConfigMap", "data": {"config.yaml": "issuer: x\nstaticPasswords:\n- email: user@example.com\n"}}
    profile = {"apiVersion": "kubeflow.org/v1", "kind": "Profile", "spec": {"owner": {"name": "user@example.com"}}}
    changed = set_login([config, profile], Login("ada@lab.example"))
    assert changed is not None and changed[1]["spec"]["owner"]["name"] == "ada@lab.example"


def test_log_files_which_hold_the_applied_secrets_are_readable_by_the_user_only(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    assert up(env, synthetic_release).returncode == 0
    logs = [path for path in Path(env["KFINSTALL_LOG_DIR"]).glob("*.log") if not path.is_symlink()]
    assert logs and all(path.stat().st_mode & 0o777 == 0o600 for path in logs)


def test_on_a_terminal_up_prompts_twice_and_sets_what_was_typed(fake_tools: FakeTools, env, synthetic_release) -> None:
    """getpass on a pseudo-terminal: the prompt, the confirmation, nothing echoed."""
    import os
    import pty
    import sys

    controller, terminal = pty.openpty()
    argv = [sys.executable, "-m", "kfinstall", "up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0"]
    process = subprocess.Popen(
        [*argv, "--profile", "minimal", "--skip-checks"],
        env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    assert process.stderr is not None
    seen = ""
    for prompt in ("Dashboard password", "Again"):  # getpass flushes what was typed before it asks
        while prompt not in seen:
            chunk = os.read(process.stderr.fileno(), 1)
            assert chunk, seen
            seen += chunk.decode()
        os.write(controller, (SECRET + "\n").encode())
    _, rest = process.communicate(timeout=120)
    os.close(controller)
    stderr = seen + rest
    assert process.returncode == 0, stderr
    assert bcrypt.checkpw(SECRET.encode(), dex_user(fake_tools)["hash"].encode())
    assert SECRET not in stderr


def test_a_password_file_saved_by_notepad_loses_its_byte_order_mark_and_crlf(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    """Notepad writes UTF-8 with a BOM and CRLF line ends: neither is part of the password Dex should check."""
    secret_file = tmp_path / "pw.txt"
    secret_file.write_bytes(b"\xef\xbb\xbf" + SECRET.encode() + b"\r\n")
    result = up(env, synthetic_release, "--password-file", str(secret_file))
    assert result.returncode == 0, result.stderr
    assert bcrypt.checkpw(SECRET.encode(), dex_user(fake_tools)["hash"].encode())


def test_a_password_on_stdin_that_is_not_utf_8_is_refused_without_a_traceback(fake_tools: FakeTools, env) -> None:
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "kfinstall", "password", "--password-stdin"],
        env={**env, "PYTHONIOENCODING": "utf-8"}, input=b"caf\xe9-latin-1\n", capture_output=True, check=False,
    )  # fmt: skip
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "error: the password from standard input is not UTF-8 text" in stderr
    assert "Traceback" not in stderr


def test_the_prompt_refuses_a_password_longer_than_dex_s_72_bytes(fake_tools: FakeTools, env, synthetic_release):
    """On a terminal too: refused before the confirmation (asked again, 3 tries in all), and nothing is started."""
    import os
    import pty
    import sys

    controller, terminal = pty.openpty()
    argv = [sys.executable, "-m", "kfinstall", "up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0"]
    process = subprocess.Popen(
        [*argv, "--profile", "minimal", "--skip-checks"],
        env=env, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    assert process.stderr is not None
    seen = ""
    for _ in range(3):
        asked = seen.count("Dashboard password: ")
        while seen.count("Dashboard password: ") == asked:
            chunk = os.read(process.stderr.fileno(), 1)
            assert chunk, seen
            seen += chunk.decode()
        os.write(controller, ("y" * 73 + "\n").encode())
    _, rest = process.communicate(timeout=120)
    os.close(controller)
    stderr = seen + rest
    assert process.returncode == 2, stderr
    assert "error: the password from the prompt is 73 bytes long: Dex's bcrypt reads at most 72" in stderr
    assert "Traceback" not in stderr
    assert not any(call[:1] == ["start"] for call in fake_tools.calls("minikube"))
