"""`kfinstall verify` on the double: after `up`, the real CLI logs in through the release's gateway flow (its own
port-forward, answered by the test gateway of tests/fakes/gateway.py, which checks the password against the
bcrypt hash `up` put into Dex's config on the double) and checks the dashboard, the user's namespace, Pipelines,
the notebooks and Katib. The synthetic release has v1.4.0's flavour: oidc-authservice's 302 to Dex."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease
from tests.test_port_forward import gone

FAKE_KUBECTL = Path(__file__).resolve().parent / "fakes" / "bin" / "kubectl-portforward"
FAST = "--set crd_establish_delay=0.1 --set ready_delay=0.1 --set seed=5"
SECRET = "correct-horse-battery"
NAMESPACE = "kubeflow-user-example-com"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_builds: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path, builds=shared_builds)  # the builds are not what is tested


@pytest.fixture(scope="module")
def default_install(
    module_fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path_factory, shared_builds: Path
) -> dict[str, str]:
    """One standard install with the default password for the module's tests that only read it (verify changes
    nothing on the cluster: its port-forward ends with it)."""
    module_fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = isolated_env(module_fake_tools.env, tmp_path_factory.mktemp("default-install"), builds=shared_builds)
    up(env, synthetic_release)
    return env


@pytest.fixture
def installed(default_install: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The module's default install, with a log directory of this test's own."""
    return {**default_install, "KFINSTALL_LOG_DIR": str(tmp_path / "logs")}


def up(env: dict[str, str], release: LocalRelease, *args: str, stdin: str | None = None) -> None:
    result = kfinstall(
        "up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "standard", *args,
        env=env, stdin=stdin,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def verify(env: dict[str, str], release: LocalRelease, *args: str, stdin: str | None = None, **knobs: str):
    """`kfinstall verify --json` with the fake port-forward answering as Kubeflow's gateway."""
    gateway = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway", **knobs}
    stdin = "" if stdin is None else stdin  # never the terminal pytest may run in: no prompt
    result = kfinstall("verify", "--pins", str(release.pins), "--json", *args, env={**env, **gateway}, stdin=stdin)
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def rows(report: dict) -> dict[str, dict]:
    return {row["check"]: row for row in report["checks"]}


def test_verify_passes_after_up_with_the_default_password(installed, synthetic_release: LocalRelease) -> None:
    result, report = verify(installed, synthetic_release)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = rows(report)
    assert {name: row["state"] for name, row in checks.items()} == {
        "login": "pass", "dashboard": "pass", "user namespace": "pass", "pipelines API": "pass",
        "notebooks": "pass", "katib": "pass",
    }  # fmt: skip
    assert "302 to /dex/auth" in checks["login"]["reason"]  # oidc-authservice's answer without a session
    assert checks["user namespace"]["reason"] == f"{NAMESPACE}, owned by user@example.com"
    assert "/pipeline/apis/v1beta1/healthz" in checks["pipelines API"]["reason"]


def test_verify_stops_the_port_forward_it_started(installed, synthetic_release) -> None:
    result, _ = verify(installed, synthetic_release)
    assert result.returncode == 0, result.stdout + result.stderr
    pids = [int(pid) for pid in (Path(installed["FAKE_TOOLS_STATE"]) / "kubectl-portforward.pids").read_text().split()]
    assert pids and all(gone(pid) for pid in pids)


def test_verify_logs_in_with_the_password_set_at_up_and_never_shows_it(
    env, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    up(env, synthetic_release, "--password-stdin", stdin=SECRET + "\n")
    secret_file = tmp_path / "pw"
    secret_file.write_text(SECRET + "\n")
    result, _ = verify(env, synthetic_release, "--password-file", str(secret_file))
    assert result.returncode == 0, result.stdout + result.stderr
    logs = "".join(path.read_text() for path in Path(env["KFINSTALL_LOG_DIR"]).glob("*verify*.log"))
    assert "gateway GET /dex/auth" in logs  # the flow is in the log ...
    assert SECRET not in result.stdout + result.stderr + logs  # ... the password is not
    assert "authservice_session=" not in logs


def test_a_wrong_password_is_refused_by_dex_and_verify_says_so(env, synthetic_release) -> None:
    up(env, synthetic_release, "--password-stdin", stdin=SECRET + "\n")
    result, report = verify(env, synthetic_release, "--password-stdin", stdin="not-the-password\n")
    assert result.returncode == 1
    login = rows(report)["login"]
    assert login["state"] == "fail"
    assert login["reason"] == "the password was refused by Dex"
    assert "kfinstall password" in login["hint"]
    assert rows(report)["dashboard"]["state"] == "skip"


def test_the_default_password_no_longer_works_once_another_is_set(env, synthetic_release) -> None:
    up(env, synthetic_release, "--password-stdin", stdin=SECRET + "\n")
    result, report = verify(env, synthetic_release, "--password-stdin", stdin="12341234\n")
    assert result.returncode == 1
    assert rows(report)["login"]["reason"] == "the password was refused by Dex"


def test_a_missing_profile_namespace_fails_the_user_namespace_row(
    env, fake_tools: FakeTools, synthetic_release
) -> None:
    up(env, synthetic_release)
    deleted = fake_tools.run("kubectl", "--context", "kubeflow", "delete", "profile", NAMESPACE, "--wait=true")
    assert deleted.returncode == 0, deleted.stderr
    result, report = verify(env, synthetic_release)
    assert result.returncode == 1
    checks = rows(report)
    assert checks["login"]["state"] == "pass" and checks["dashboard"]["state"] == "pass"
    assert checks["user namespace"]["state"] == "fail"
    assert f"no namespace {NAMESPACE}" in checks["user namespace"]["reason"]
    assert f"kubectl get profile {NAMESPACE}" in checks["user namespace"]["hint"]


def test_dex_without_a_ready_pod_fails_the_login_row_naming_dex(env, fake_tools: FakeTools, synthetic_release) -> None:
    up(env, synthetic_release)
    scaled = fake_tools.run("kubectl", "--context", "kubeflow", "patch", "deployment", "dex", "-n", "auth",
                            "--type=merge", "-p", '{"spec": {"replicas": 0}}')  # fmt: skip
    assert scaled.returncode == 0, scaled.stderr
    result, report = verify(env, synthetic_release)
    assert result.returncode == 1
    login = rows(report)["login"]
    assert login["reason"] == "Dex answered 503: no ready pod behind it at /dex/auth"
    assert "kubectl -n auth get pods" in login["hint"]


def test_a_new_password_from_kfinstall_password_is_the_one_dex_accepts(env, synthetic_release) -> None:
    up(env, synthetic_release)
    changed = kfinstall("password", "--password-stdin", env=env, stdin=SECRET + "\n")
    assert changed.returncode == 0, changed.stderr
    assert verify(env, synthetic_release, "--password-stdin", stdin="12341234\n")[0].returncode == 1
    result, _ = verify(env, synthetic_release, "--password-stdin", stdin=SECRET + "\n")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_pipelines_api_answering_503_fails_its_row_only(installed, synthetic_release) -> None:
    result, report = verify(installed, synthetic_release, FAKE_GW_KFP_STATUS="503")
    assert result.returncode == 1
    checks = rows(report)
    assert checks["pipelines API"]["state"] == "fail"
    assert "503" in checks["pipelines API"]["reason"]
    assert [name for name, row in checks.items() if row["state"] == "fail"] == ["pipelines API"]


def test_components_left_out_are_not_installed_rather_than_failed(env, synthetic_release) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "minimal", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    result, report = verify(env, synthetic_release)
    assert result.returncode == 0, result.stdout + result.stderr
    pipelines = rows(report)["pipelines API"]
    assert (pipelines["state"], pipelines["reason"]) == ("skip", "not installed (no pipelines in this install)")


def test_the_human_output_has_one_row_per_check_and_the_verdict(installed, synthetic_release) -> None:
    gateway = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway"}
    result = kfinstall("verify", "--pins", str(synthetic_release.pins), env={**installed, **gateway})
    assert result.returncode == 0, result.stderr
    assert "✓ login" in result.stderr and "✓ katib" in result.stderr
    assert f"Kubeflow {synthetic_release.tag} works for user@example.com" in result.stderr


def test_verify_without_an_install_says_so(env, synthetic_release, fake_tools: FakeTools) -> None:
    started = fake_tools.run("minikube", "start", "-p", "kubeflow")
    assert started.returncode == 0, started.stderr
    result, report = verify(env, synthetic_release)
    assert result.returncode == 3 and report is not None  # nothing installed (errors.py), as a JSON error document
    assert report["ok"] is False and report["error"]["exit_code"] == 3
    assert "kfinstall installed nothing on context 'kubeflow'" in result.stderr
    assert "log: " in result.stderr


def test_verify_uses_a_running_port_forward_given_by_url(installed, synthetic_release) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gateway = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway"}
    command = [sys.executable, "-m", "kfinstall", "port-forward", "--port", str(port)]
    quiet = {"stdout": subprocess.PIPE, "stderr": subprocess.DEVNULL, "text": True}
    forward = subprocess.Popen(command, env={**installed, **gateway}, **quiet)
    try:
        assert forward.stdout is not None
        assert forward.stdout.readline().strip() == f"Kubeflow is at http://localhost:{port}"
        url = f"http://localhost:{port}"  # verify's env has no fake kubectl: it could start no forward of its own
        result = kfinstall("verify", "--pins", str(synthetic_release.pins), "--json", "--url", url, env=installed)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["url"] == f"http://localhost:{port}"
    finally:
        forward.terminate()
        forward.wait(timeout=30)


def test_a_set_password_must_be_given_when_there_is_no_terminal(env, synthetic_release) -> None:
    up(env, synthetic_release, "--password-stdin", stdin=SECRET + "\n")
    result, report = verify(env, synthetic_release)
    assert result.returncode == 2 and report is not None and report["ok"] is False  # --json: an error document
    assert "no password was given" in result.stderr
    assert "--password-file" in result.stderr
