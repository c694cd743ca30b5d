"""`kfinstall client` on the double: after `up`, the real CLI logs in through the test gateway (tests/fakes/gateway.py
behind the fake port-forward, the synthetic release's v1.4.0 flavour: oidc-authservice's 302 to Dex), keeps the
session cookie in a 0600 file and prints the lines of a `kfp.Client`; the tests use that file and run those lines."""

from __future__ import annotations

import contextlib
import json
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease
from tests.test_verify import FAKE_KUBECTL, FAST, NAMESPACE, SECRET, up

GATEWAY = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway"}


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def port_forward(env: dict[str, str]) -> Iterator[str]:
    """`kfinstall port-forward` as the user keeps it running; its URL once it says the gateway answers."""
    port = free_port()
    command = [sys.executable, "-m", "kfinstall", "port-forward", "--port", str(port)]
    forward = subprocess.Popen(command, env={**env, **GATEWAY}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)  # fmt: skip
    try:
        assert forward.stdout is not None
        assert forward.stdout.readline().strip() == f"Kubeflow is at http://localhost:{port}"
        yield f"http://localhost:{port}"
    finally:
        forward.terminate()
        forward.wait(timeout=30)


def client(env: dict[str, str], release: LocalRelease, *args: str, stdin: str = "", gateway: bool = True):
    """`kfinstall client --json` (stdin never the terminal pytest may run in: no prompt)."""
    extra = GATEWAY if gateway else {}
    result = kfinstall("client", "--pins", str(release.pins), "--json", *args, env={**env, **extra}, stdin=stdin)
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def get(url: str, cookie: str | None = None) -> int:
    """The status of a GET that follows no redirect (a 302 to Dex is the answer of a request without a session)."""

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirects())
    try:
        with opener.open(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_session_cookie_is_a_0600_file_that_opens_the_pipelines_api(env, synthetic_release: LocalRelease) -> None:
    up(env, synthetic_release)
    with port_forward(env) as url:
        result, report = client(env, synthetic_release, "--url", url, gateway=False)
        assert result.returncode == 0, result.stdout + result.stderr
        cookie_file = Path(report["file"])
        assert stat.S_IMODE(cookie_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(cookie_file.parent.stat().st_mode) == 0o700
        assert cookie_file.is_relative_to(Path(env["KFINSTALL_CACHE_DIR"]) / "sessions")
        cookie = cookie_file.read_text()
        assert cookie.startswith("authservice_session=")  # v1.4.0's session cookie, nothing else of the login
        healthz = f"{url}/pipeline/apis/v1beta1/healthz"
        assert get(healthz) == 302  # without the session: to Dex
        assert get(healthz, cookie) == 200
    assert report["namespace"] == NAMESPACE and report["credential"] == "cookie"
    assert cookie.partition("=")[2] not in result.stdout + result.stderr  # the value is never printed


def test_the_printed_lines_name_the_file_the_host_and_the_namespace(env, synthetic_release) -> None:
    up(env, synthetic_release)
    result = kfinstall("client", "--pins", str(synthetic_release.pins), env={**env, **GATEWAY}, stdin="")
    assert result.returncode == 0, result.stderr
    cookie_file = Path(env["KFINSTALL_CACHE_DIR"]) / "sessions" / "kubeflow" / "cookie"
    assert result.stdout.splitlines() == [
        "import kfp",
        f"client = kfp.Client(host='http://localhost:8080/pipeline', cookies=open('{cookie_file}').read().strip(), "
        f"namespace='{NAMESPACE}')",
        "print(client.list_runs())",
    ]
    assert "keep `kfinstall port-forward` running" in result.stderr
    assert "mode 0600" in result.stderr
    assert cookie_file.read_text().partition("=")[2] not in result.stdout + result.stderr


def test_env_prints_only_the_variables_the_sdk_reads(env, synthetic_release) -> None:
    up(env, synthetic_release)
    result = kfinstall("client", "--pins", str(synthetic_release.pins), "--env", env={**env, **GATEWAY}, stdin="")
    assert result.returncode == 0, result.stderr
    exports = [line for line in result.stdout.splitlines() if line.startswith("export ")]
    assert exports == ["export KF_PIPELINES_ENDPOINT=http://localhost:8080/pipeline"]
    assert "kfp.Client(cookies=open(" in result.stdout


def test_a_wrong_password_fails_with_the_login_row_and_hint_of_verify(env, synthetic_release) -> None:
    up(env, synthetic_release, "--password-stdin", stdin=SECRET + "\n")
    result, report = client(env, synthetic_release, "--password-stdin", stdin="not-the-password\n")
    assert result.returncode == 1
    assert report["file"] is None and "python" not in report
    [login] = report["checks"]
    assert (login["check"], login["state"], login["reason"]) == ("login", "fail", "the password was refused by Dex")
    assert "kfinstall password" in login["hint"]
    assert not (Path(env["KFINSTALL_CACHE_DIR"]) / "sessions" / "kubeflow" / "cookie").exists()


def test_token_on_an_authservice_release_says_it_takes_no_tokens(env, synthetic_release) -> None:
    up(env, synthetic_release)
    result, report = client(env, synthetic_release, "--token")
    assert result.returncode == 1 and report is None
    assert "oidc-authservice, which takes no Kubernetes service-account tokens" in result.stderr
    assert "`kfinstall client` without --token" in result.stderr


def test_client_without_pipelines_says_so_before_any_login(env, synthetic_release) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "minimal", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    result, report = client(env, synthetic_release)
    assert result.returncode == 1 and report is None
    assert "Kubeflow Pipelines is not installed on context 'kubeflow' (profile minimal)" in result.stderr


# upstream's access-ml-pipeline PodDefault in the user's namespace ---------------------------------------------

POD_DEFAULT = (Path(__file__).resolve().parent / "data" / "synthetic-manifests" / "tests"
               / "poddefaults.access-ml-pipeline.kubeflow-user-example-com.yaml")  # fmt: skip
POD_DEFAULT_CRD = (Path(__file__).resolve().parent / "data" / "synthetic-manifests" / "apps" / "admission-webhook"
                   / "base" / "webhook.yaml")  # fmt: skip


def test_up_puts_the_access_ml_pipeline_poddefault_into_the_users_namespace(env, fake_tools, synthetic_release):
    up(env, synthetic_release)
    found = fake_tools.run("kubectl", "--context", "kubeflow", "get", "poddefault", "access-ml-pipeline",
                           "-n", NAMESPACE, "-o", "json")  # fmt: skip
    assert found.returncode == 0, found.stderr
    pod_default = json.loads(found.stdout)
    assert pod_default["spec"]["selector"] == {"matchLabels": {"access-ml-pipeline": "true"}}
    assert pod_default["spec"]["env"] == [
        {"name": "KF_PIPELINES_SA_TOKEN_PATH", "value": "/var/run/secrets/kubeflow/pipelines/token"}
    ]
    [source] = pod_default["spec"]["volumes"][0]["projected"]["sources"]
    assert source["serviceAccountToken"]["audience"] == "pipelines.kubeflow.org"
    assert pod_default["metadata"]["labels"]["kfinstall.dev/component"] == "user-namespace"  # `down` removes it


def test_a_minimal_install_has_no_poddefault_for_pipelines_it_lacks(env, fake_tools, synthetic_release) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "minimal", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    found = fake_tools.run("kubectl", "--context", "kubeflow", "get", "poddefaults", "-n", NAMESPACE, "-o", "name")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == ""


def test_the_double_refuses_the_poddefault_before_its_crd_and_before_its_namespace(make_cluster) -> None:
    """As a real API server: no PodDefault kind before admission-webhook's CRD is served (kubectl's RESTMapper: `no
    matches for kind`), none in a namespace the profile controller has not made yet (kubernetes/kubernetes
    plugin/pkg/admission/namespace/lifecycle/admission.go: NotFound)."""
    cluster = make_cluster()
    manifest = POD_DEFAULT.read_text()
    early = cluster.kubectl("apply", "--server-side", "-f", "-", input=manifest)
    assert early.returncode != 0
    assert 'no matches for kind "PodDefault"' in early.stderr
    crd_only = POD_DEFAULT_CRD.read_text().split("\n---\n")[0]  # the CRD, not the webhook's Deployment and Certificate
    crd = cluster.kubectl("apply", "--server-side", "-f", "-", input=crd_only)
    assert crd.returncode == 0, crd.stderr
    established = cluster.kubectl("wait", "--for=condition=Established", "crd/poddefaults.kubeflow.org",
                                  "--timeout=30s")  # fmt: skip
    assert established.returncode == 0, established.stderr
    no_namespace = cluster.kubectl("apply", "--server-side", "-f", "-", input=manifest)
    assert no_namespace.returncode != 0
    assert f'namespaces "{NAMESPACE}" not found' in no_namespace.stderr
