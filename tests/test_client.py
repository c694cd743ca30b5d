"""`kfinstall client` on the double: after `up`, the real CLI logs in through the test gateway (tests/fakes/gateway.py
behind the fake port-forward, the synthetic release's v1.4.0 flavour: oidc-authservice's 302 to Dex), keeps the
session cookie in a 0600 file and prints the lines of a `kfp.Client`; the tests use that file and run those lines."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import needs_bundle, real_kubectl
from tests.releases import LocalRelease
from tests.test_readme import README, assert_shown_in_order, example
from tests.test_verify import FAKE_KUBECTL, FAST, NAMESPACE, SECRET, up

GATEWAY = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway"}


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


@pytest.fixture(scope="module")
def default_install(module_fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path_factory) -> dict[str, str]:
    """One standard install with the default password for the module's tests that only log in and read (`client`
    changes nothing on the cluster; it writes only its session under the cache, which `installed` removes)."""
    module_fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = isolated_env(module_fake_tools.env, tmp_path_factory.mktemp("default-install"))
    up(env, synthetic_release)
    return env


@pytest.fixture
def installed(default_install: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The module's default install as `up` left it (no client session yet), with a log directory of this test's."""
    shutil.rmtree(Path(default_install["KFINSTALL_CACHE_DIR"]) / "sessions", ignore_errors=True)
    return {**default_install, "KFINSTALL_LOG_DIR": str(tmp_path / "logs")}


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
    """`kfinstall client --json` (stdin never the terminal pytest may run in: no prompt) and its report; None when
    it failed before a report (then stdout is the frame's error document, `"ok": false`)."""
    extra = GATEWAY if gateway else {}
    result = kfinstall("client", "--pins", str(release.pins), "--json", *args, env={**env, **extra}, stdin=stdin)
    document = json.loads(result.stdout) if result.stdout.strip() else None
    if document is not None and "error" in document:
        assert document["ok"] is False and document["exit_code"] == result.returncode
        return result, None
    return result, document


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


def test_the_session_cookie_is_a_0600_file_that_opens_the_pipelines_api(
    installed, synthetic_release: LocalRelease
) -> None:
    env = installed
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


def test_down_keep_cluster_and_down_remove_the_clusters_sessions(env, synthetic_release: LocalRelease) -> None:
    up(env, synthetic_release)
    result, report = client(env, synthetic_release)
    assert result.returncode == 0, result.stdout + result.stderr
    sessions = Path(report["file"]).parent
    other = sessions.parent / "another-cluster"  # another cluster's session is not this down's to remove
    other.mkdir()
    removed = kfinstall("down", "--keep-cluster", "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert not sessions.exists() and other.is_dir()
    assert client(env, synthetic_release)[0].returncode == 3  # nothing installed
    up(env, synthetic_release)
    assert client(env, synthetic_release)[0].returncode == 0 and sessions.is_dir()
    deleted = kfinstall("down", "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert not sessions.exists() and other.is_dir()


def test_the_printed_lines_name_the_file_the_host_and_the_namespace(installed, synthetic_release) -> None:
    env = installed
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


def test_env_prints_only_the_variables_the_sdk_reads(installed, synthetic_release) -> None:
    env = installed
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


def test_token_on_an_authservice_release_says_it_takes_no_tokens(installed, synthetic_release) -> None:
    env = installed
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


def test_up_puts_the_access_ml_pipeline_poddefault_into_the_users_namespace(installed, module_fake_tools):
    found = module_fake_tools.run("kubectl", "--context", "kubeflow", "get", "poddefault", "access-ml-pipeline",
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
    assert "Next:      kfinstall verify" in result.stderr and "kfinstall client" not in result.stderr
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


def test_up_ends_by_suggesting_verify_client_and_the_readme_section(env, synthetic_release) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "standard", env={**env, "COLUMNS": "120"})  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    end = result.stderr.split("is ready", 1)[1]
    assert_shown_in_order([
        f"  Namespace: {NAMESPACE} (yours: notebooks and pipelines run there)",
        "  Next:      kfinstall verify (log in and check what you will use)",
        "             kfinstall client (the Python lines of a kfp.Client for your namespace)",
        "             README: After `up`: log in, open a notebook, run a pipeline",
    ], end)  # fmt: skip
    assert "## After `up`: log in, open a notebook, run a pipeline" in README


def test_the_double_mints_service_account_tokens_as_the_token_request_api_does(make_cluster) -> None:
    cluster = make_cluster(service_account_issuer="https://kubernetes.default.svc")
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"
    assert cluster.kubectl("apply", "--server-side", "-f", "-", input=namespace).returncode == 0
    uri = "/api/v1/namespaces/team/serviceaccounts/robot/token"

    def token_request(spec: dict) -> subprocess.CompletedProcess[str]:  # as `kubectl create token` posts it, in JSON
        body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
        return cluster.kubectl("create", "--raw", uri, "-f", "-", input=body)  # sent chunked: unknown length

    missing = token_request({})
    assert missing.returncode != 0 and 'serviceaccounts "robot" not found' in missing.stderr
    account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot, namespace: team}\n"
    assert cluster.kubectl("apply", "--server-side", "-f", "-", input=account).returncode == 0
    short = token_request({"expirationSeconds": 300})
    assert short.returncode != 0 and "may not specify a duration less than 10 minutes" in short.stderr
    minted = token_request({"audiences": ["pipelines.kubeflow.org"]})
    assert minted.returncode == 0, minted.stderr
    from kfinstall.gateway.sdk import token_claims

    claims = token_claims(json.loads(minted.stdout)["status"]["token"])
    assert claims["iss"] == "https://kubernetes.default.svc"
    assert claims["sub"] == "system:serviceaccount:team:robot" and claims["aud"] == ["pipelines.kubeflow.org"]
    assert int(claims["exp"]) - int(claims["iat"]) == 3600  # no expirationSeconds asked: the server's default


def test_the_fake_minikube_gives_the_double_the_issuer_of_its_extra_config(fake_tools: FakeTools) -> None:
    started = fake_tools.run("minikube", "start", "-p", "kubeflow",
                             "--extra-config=apiserver.service-account-issuer=kubernetes.default.svc")  # fmt: skip
    assert started.returncode == 0, started.stderr
    config = fake_tools.run("kubectl", "--context", "kubeflow", "get", "--raw", "/.well-known/openid-configuration")
    assert config.returncode == 0, config.stderr
    assert json.loads(config.stdout)["issuer"] == "kubernetes.default.svc"


# the printed lines, run with the kfp SDK against the fake Pipelines API (tests/fakes/kfp_api.py) ------------------

SUBMIT = """
import sys
from kfp import compiler, dsl

@dsl.component(base_image="python:3.12")
def hello() -> str:
    return "hello"

@dsl.pipeline(name="hello")
def pipeline():
    hello()

compiler.Compiler().compile(pipeline, sys.argv[1])
"""


@needs_bundle
@pytest.mark.timeout(900)
def test_the_printed_lines_list_the_users_runs_with_the_kfp_sdk(
    fake_tools, bundle_releases, shared_builds, tmp_path: Path
) -> None:
    """v1.9.1: oauth2-proxy's cookie, KFP 2.3.0's v2beta1 API, which the installed kfp 2.x SDK speaks."""
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0", kustomize="absent")
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    release = bundle_releases["v1.9.1"]
    installed = kfinstall("up", "--pins", str(release.pins), "-k", "v1.9.1", "--yes", "--profile", "minimal",
                          "--with", "pipelines", "--timeout", "300", env=env)  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    with port_forward(env) as url:
        result, report = client(env, release, "--url", url, gateway=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert Path(report["file"]).read_text().startswith("oauth2_proxy_kubeflow=")
        sdk_env = {**env, "PYTHONWARNINGS": "ignore"}
        package = tmp_path / "hello.yaml"
        source = tmp_path / "hello.py"  # kfp reads a component's source from its file (inspect.getsource)
        source.write_text(SUBMIT)
        compiled = subprocess.run([sys.executable, str(source), str(package)], env=sdk_env, capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
        assert compiled.returncode == 0, compiled.stderr
        submit = report["python"].replace(
            "print(client.list_runs())",
            f"print(client.create_run_from_pipeline_package({str(package)!r}, experiment_name='first').run_id)",
        )
        submitted = subprocess.run([sys.executable, "-c", submit], env=sdk_env, capture_output=True, text=True,
                                   timeout=120)  # fmt: skip
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
        run_id = submitted.stdout.strip().splitlines()[-1]
        listed = subprocess.run([sys.executable, "-c", report["python"]], env=sdk_env, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert run_id in listed.stdout
    # a session over 4 KB (a user in many groups): oauth2-proxy splits its cookie into NAME_0, NAME_1; the login
    # sees it as set, the file keeps every chunk in order, and the SDK's requests with it are the user's
    split_env = {**env, "FAKE_GW_SESSION_BYTES": "6000"}
    with port_forward(split_env) as url:
        result, report = client(split_env, release, "--url", url, gateway=False)
        assert result.returncode == 0, result.stdout + result.stderr
        saved = Path(report["file"]).read_text()
        assert saved.startswith("oauth2_proxy_kubeflow_0=") and "; oauth2_proxy_kubeflow_1=" in saved
        listed = subprocess.run([sys.executable, "-c", report["python"]], env=sdk_env, capture_output=True,
                                text=True, timeout=120)  # fmt: skip
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert run_id in listed.stdout
    # README's example is what `client` prints for this release (the cache directory and the expiry aside)
    human = kfinstall("client", "--pins", str(release.pins), env={**env, **GATEWAY}, stdin="")
    assert human.returncode == 0, human.stderr
    printed = (human.stderr + human.stdout).replace(env["KFINSTALL_CACHE_DIR"], "/home/you/.cache/kfinstall")
    printed = re.sub(r"expires \d{4}-\d\d-\d\d \d\d:\d\d UTC", "expires 2026-12-02 14:50 UTC", printed)
    assert_shown_in_order(example("kfinstall client"), printed)
    # the default overlay m2m-dex-only takes no service-account tokens: --token says so and how to get them
    refused, _ = client(env, release, "--token")
    assert refused.returncode == 1
    assert "its oauth2-proxy overlay trusts Dex's tokens only (m2m-dex-only" in refused.stderr
    assert "`kfinstall up --variant oauth2-proxy=m2m-dex-and-kind`" in refused.stderr


@needs_bundle
@pytest.mark.timeout(900)
def test_token_with_the_m2m_overlay_is_a_0600_token_the_gateway_trusts(
    fake_tools, bundle_releases, shared_builds, tmp_path
) -> None:
    """v1.10.2 with `--variant oauth2-proxy=m2m-dex-and-kind`: its RequestAuthentication m2m-token-issuer trusts
    https://kubernetes.default.svc, the issuer kfinstall gives minikube for this release (the pins' apiserver flags,
    passed on to the double by the fake minikube); the test gateway checks the token as Istio would."""
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0", kustomize="absent")
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    release = bundle_releases["v1.10.2"]
    installed = kfinstall("up", "--pins", str(release.pins), "-k", "v1.10.2", "--yes", "--profile", "minimal",
                          "--with", "pipelines", "--variant", "oauth2-proxy=m2m-dex-and-kind", "--timeout", "300",
                          env=env)  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    result, report = client(env, release, "--token", "--env")
    assert result.returncode == 0, result.stdout + result.stderr
    token_file = Path(report["file"])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    from kfinstall.gateway.sdk import token_claims

    token = token_file.read_text()
    claims = token_claims(token)
    assert claims["iss"] == "https://kubernetes.default.svc"
    assert claims["sub"] == f"system:serviceaccount:{NAMESPACE}:default-editor"
    assert claims["aud"] == ["pipelines.kubeflow.org"]
    assert report["env"] == {"KF_PIPELINES_ENDPOINT": "http://localhost:8080/pipeline",
                             "KF_PIPELINES_SA_TOKEN_PATH": str(token_file)}  # fmt: skip
    assert f"existing_token=open({str(token_file)!r}).read().strip()" in report["python"]
    assert token not in result.stdout + result.stderr
    logs = "".join(path.read_text() for path in Path(env["KFINSTALL_LOG_DIR"]).glob("*client*.log"))
    assert "serviceaccounts/default-editor/token" in logs and token not in logs  # kubectl's answer, redacted
    # through the gateway as Istio checks it (tests/fakes/istio_jwt.py): the printed lines list the namespace's runs
    # with the token (its sub is the kubeflow-userid; the default-editor RoleBinding lets Pipelines' access check
    # pass); the same token with one signature byte changed is Envoy's 401
    with port_forward(env) as url:
        result, report = client(env, release, "--token", "--url", url, gateway=False)
        assert result.returncode == 0, result.stdout + result.stderr
        listed = subprocess.run([sys.executable, "-c", report["python"]], env={**env, "PYTHONWARNINGS": "ignore"},
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        header, claims_part, signature = Path(report["file"]).read_text().split(".")
        forged = ".".join(
            (header, claims_part, ("B" if signature[10] == "A" else "A").join((signature[:10], signature[11:])))
        )
        runs = f"{url}/pipeline/apis/v2beta1/runs?namespace={NAMESPACE}"
        request = urllib.request.Request(runs, headers={"Authorization": f"Bearer {forged}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        answer = refused.value.read().decode()  # while the forward still runs: the body is read from it
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert refused.value.code == 401 and answer == "Jwt verification fails"


@needs_bundle
@pytest.mark.timeout(900)
def test_a_v1_9_1_token_is_trusted_and_refused_once_the_overlay_trusts_another_issuer(
    fake_tools, bundle_releases, shared_builds, tmp_path
) -> None:
    """v1.9.1's m2m-dex-and-kind trusts https://kubernetes.default.svc.cluster.local only: the issuer kfinstall now
    gives minikube for it (kubeadm's default). Where the two disagree (a cluster an older kfinstall started with the
    README's kubernetes.default.svc, here the overlay edited to trust only that), Istio would answer every request
    with such a token 401, so `client --token` says so instead of writing it."""
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0", kustomize="absent")
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    release = bundle_releases["v1.9.1"]
    installed = kfinstall("up", "--pins", str(release.pins), "-k", "v1.9.1", "--yes", "--profile", "minimal",
                          "--with", "pipelines", "--variant", "oauth2-proxy=m2m-dex-and-kind", "--timeout", "300",
                          env=env)  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    result, report = client(env, release, "--token")
    assert result.returncode == 0, result.stdout + result.stderr
    from kfinstall.gateway.sdk import token_claims

    assert token_claims(Path(report["file"]).read_text())["iss"] == "https://kubernetes.default.svc.cluster.local"

    kubectl = [str(real_kubectl()), "-n", "istio-system"]
    shown = subprocess.run([*kubectl, "get", "requestauthentication", "m2m-token-issuer", "-o", "json"], env=env,
                           capture_output=True, text=True, check=True)  # fmt: skip
    authentication = json.loads(shown.stdout)
    authentication["spec"]["jwtRules"][0]["issuer"] = "https://kubernetes.default.svc"
    subprocess.run([*kubectl, "replace", "-f", "-"], env=env, input=json.dumps(authentication), capture_output=True,
                   text=True, check=True)  # fmt: skip
    refused, report = client(env, release, "--token")
    assert refused.returncode == 1 and report is None
    assert (
        "the gateway trusts tokens issued by https://kubernetes.default.svc, but this cluster issues them as "
        "https://kubernetes.default.svc.cluster.local: it would refuse them"
    ) in " ".join(refused.stderr.split())


# the pure parts: gateway/sdk.py -----------------------------------------------------------------------------


def test_a_split_oauth2_proxy_cookie_is_sent_whole_and_in_order_without_the_csrf_cookie() -> None:
    from kfinstall.gateway.sdk import Cookie, cookie_header, expiry, session_cookies

    jar = [Cookie("oauth2_proxy_kubeflow_1", "B", 200), Cookie("oauth2_proxy_kubeflow_csrf", "x"),
           Cookie("oauth2_proxy_kubeflow_0", "A", 100), Cookie("other", "y")]  # fmt: skip
    mine = session_cookies(jar, "oauth2_proxy_kubeflow")
    assert cookie_header(mine) == "oauth2_proxy_kubeflow_0=A; oauth2_proxy_kubeflow_1=B"
    assert expiry(mine) == 100


def test_token_claims_are_read_without_a_signature_and_a_non_jwt_has_none() -> None:
    import base64

    from kfinstall.gateway.sdk import token_claims

    payload = base64.urlsafe_b64encode(b'{"iss": "https://kubernetes.default.svc", "exp": 5}').rstrip(b"=").decode()
    assert token_claims(f"e30.{payload}.sig") == {"iss": "https://kubernetes.default.svc", "exp": 5}
    assert token_claims("not-a-token") == {} and token_claims("a.%%%.c") == {}


def test_the_issuers_a_request_authentication_trusts() -> None:
    from kfinstall.gateway.sdk import jwt_issuers

    ra = {"spec": {"jwtRules": [{"issuer": "https://kubernetes.default.svc.cluster.local"},
                                {"issuer": "https://kubernetes.default.svc"}, {"jwksUri": "x"}]}}  # fmt: skip
    assert jwt_issuers(ra) == ["https://kubernetes.default.svc.cluster.local", "https://kubernetes.default.svc"]
    assert jwt_issuers({}) == []
