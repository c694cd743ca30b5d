"""`kfinstall verify --pipeline` and `--gpu`: a tiny pipeline, shipped compiled, runs in the user's namespace through
the gateway and is waited for. On the double the test gateway routes `/pipeline/` to the fake Pipelines API
(tests/fakes/kfp_api.py), which authorizes the session's user on the namespace and moves a run PENDING -> RUNNING
-> SUCCEEDED as it is read (FAILED with FAKE_KFP_RUN_RESULT=failed).

The synthetic release has v1.4.0's Pipelines (KFP 1.7, v1beta1); `kfp2_release` is the same set with KFP 2's
api-server (the image tag the fake gateway reads its API versions from) and pins that say v2beta1, as v1.9.1's do.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kfinstall.gateway import pipelines
from kfinstall.gateway.http import Session
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes import kfp_api
from tests.fakes.fixtures import FakeTools
from tests.fakes.test_fake_kfp_api import NAMESPACE, OTHER, USER, cluster_get
from tests.paths import REPO_ROOT, needs_bundle
from tests.releases import SYNTHETIC_MANIFESTS, SYNTHETIC_PINS, LocalRelease, release_tools, write_pins

FAKE_KUBECTL = Path(__file__).resolve().parent / "fakes" / "bin" / "kubectl-portforward"
FAST = "--set crd_establish_delay=0.1 --set ready_delay=0.1 --set seed=5"
SOURCE = REPO_ROOT / "tests" / "data" / "pipelines" / "verify_pipelines.py"
SHIPPED = REPO_ROOT / "src" / "kfinstall" / "gateway" / "pipelines"


# -- the shipped pipelines ---------------------------------------------------------------------------------------


def test_the_shipped_pipelines_are_what_the_kfp_sdk_compiles_from_their_source(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(SOURCE), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ("cpu.yaml", "gpu.yaml"):
        # the SDK's own version aside (pyproject allows kfp 2.x): every other byte is the compiler's
        shipped, compiled = (sdk_version_aside((where / name).read_text()) for where in (SHIPPED, tmp_path))
        regenerate = f"run `python {SOURCE.relative_to(REPO_ROOT)}`"
        assert shipped == compiled, f"{name} differs from the SDK's compile: {regenerate}"


def sdk_version_aside(text: str) -> str:
    return re.sub(r"(?m)^sdkVersion: kfp-.*$", "sdkVersion: kfp-X", text)


def test_only_the_gpu_pipeline_asks_for_a_gpu() -> None:
    assert kfp_api.gpus_asked(pipelines.spec(pipelines.GPU)) == 1
    assert kfp_api.gpus_asked(pipelines.spec(pipelines.CPU)) == 0


def test_the_shipped_pipelines_pass_the_api_server_s_checks() -> None:
    assert kfp_api.pipeline_problem(pipelines.spec(pipelines.CPU)) is None
    assert kfp_api.pipeline_problem(pipelines.spec(pipelines.GPU)) is None


def test_the_experiment_filter_is_the_sdk_s() -> None:
    from kfp.client.client import _FILTER_OPERATIONS

    sdk = {"predicates": [{"operation": _FILTER_OPERATIONS["EQUALS"], "key": "display_name", "stringValue": "x"}]}
    assert json.loads(pipelines.name_filter("x")) == sdk


# -- submit and wait, against the fake API on its own port -------------------------------------------------------


class Clock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def run_on_fake(pipeline: pipelines.Pipeline, *, user: str = USER, namespace: str = NAMESPACE, gpus: int = 0,
                timeout: float = 60, api_version: str = "v2beta1",
                ) -> tuple[pipelines.Outcome, kfp_api.KfpApi, Clock]:  # fmt: skip
    """submit_and_wait against the fake API serving `api_version` only (v1beta1: KFP 1.7's)."""
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get(gpus=gpus)))
    clock = Clock()
    with kfp_api.StandaloneServer(api, user, serves=(api_version,)) as server:
        outcome = pipelines.submit_and_wait(
            Session(), server.url, namespace, pipeline, timeout, api_version=api_version, sleep=clock.sleep,
            clock=clock,
        )  # fmt: skip
    return outcome, api, clock


def test_a_run_is_created_in_an_experiment_of_the_user_s_namespace_and_waited_for() -> None:
    outcome, api, clock = run_on_fake(pipelines.CPU)
    assert (outcome.step, outcome.state) == ("finished", "SUCCEEDED")
    (experiment,) = api.experiments.values()
    assert (experiment.display_name, experiment.namespace) == (pipelines.EXPERIMENT, NAMESPACE)
    assert api.runs[str(outcome.run_id)].experiment_id == experiment.experiment_id
    assert clock.sleeps == [0.5, 1.0]  # polls start quick


def test_on_kfp_1_the_argo_workflow_runs_in_an_experiment_of_the_user_s_namespace() -> None:
    outcome, api, _ = run_on_fake(pipelines.CPU, api_version="v1beta1")
    assert (outcome.step, outcome.state) == ("finished", "SUCCEEDED")
    (experiment,) = api.experiments.values()
    assert (experiment.display_name, experiment.namespace) == (pipelines.EXPERIMENT, NAMESPACE)
    run = api.runs[str(outcome.run_id)]
    assert run.experiment_id == experiment.experiment_id
    assert json.loads(str(run.workflow_manifest)) == pipelines.workflow(pipelines.CPU)


def test_on_kfp_1_a_gpu_run_that_cannot_be_scheduled_times_out_in_argo_s_words() -> None:
    outcome, _, _ = run_on_fake(pipelines.GPU, gpus=0, timeout=30, api_version="v1beta1")
    assert (outcome.step, outcome.state) == ("waiting", "Running")


def test_a_second_run_reuses_the_experiment() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    clock = Clock()
    with kfp_api.StandaloneServer(api, USER) as server:
        for _ in range(2):
            pipelines.submit_and_wait(Session(), server.url, NAMESPACE, pipelines.CPU, 60, sleep=clock.sleep,
                                      clock=clock)  # fmt: skip
    assert len(api.experiments) == 1 and len(api.runs) == 2


def test_a_namespace_the_user_does_not_own_fails_with_the_api_server_s_words() -> None:
    outcome, _, _ = run_on_fake(pipelines.CPU, namespace=OTHER)
    assert outcome.run_id is None and outcome.step == "listing experiments"
    assert outcome.error is not None and outcome.error.startswith("403: ") and f"User '{USER}'" in outcome.error
    row = pipelines.row(outcome, pipelines.CPU, OTHER, "http://localhost:8080", 60)
    assert row.state == "fail" and f"kubectl get profile {OTHER}" in str(row.hint)


def test_a_gpu_run_that_cannot_be_scheduled_times_out_with_a_hint_to_its_pods() -> None:
    outcome, _, clock = run_on_fake(pipelines.GPU, gpus=0, timeout=30)
    assert (outcome.step, outcome.state) == ("waiting", "RUNNING")
    assert clock.now > 30 and max(clock.sleeps) == pipelines.LAST_POLL
    row = pipelines.row(outcome, pipelines.GPU, NAMESPACE, "http://localhost:8080", 30)
    assert row.reason == f"run {outcome.run_id} still RUNNING after 30 s"
    assert f"kubectl -n {NAMESPACE} get pods" in str(row.hint) and "--timeout" in str(row.hint)


def test_a_failed_run_s_row_links_the_run_in_the_ui(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KFP_RUN_RESULT", "failed")
    outcome, _, _ = run_on_fake(pipelines.CPU)
    row = pipelines.row(outcome, pipelines.CPU, NAMESPACE, "http://localhost:8080", 60)
    assert (row.state, row.reason) == ("fail", f"run {outcome.run_id} FAILED")
    assert f"http://localhost:8080/pipeline/#/runs/details/{outcome.run_id}" in str(row.hint)


def test_the_api_server_s_error_message_is_read_from_grpc_gateway_s_body() -> None:
    from email.message import Message

    from kfinstall.gateway.http import Response

    body = json.dumps({"code": 7, "message": "User 'a' is not authorized", "details": []}).encode()
    assert pipelines.api_error(Response(403, "u", Message(), body)) == "403: User 'a' is not authorized"
    v1 = json.dumps({"error": "ListRuns must filter", "code": 3}).encode()
    assert pipelines.api_error(Response(400, "u", Message(), v1)) == "400: ListRuns must filter"
    assert pipelines.api_error(Response(503, "u", Message(), b"no healthy upstream")) == ("503: no ready pod behind it")


def test_a_run_s_error_is_its_status_message() -> None:
    assert pipelines.run_error({"error": {"code": 2, "message": "pod failed"}}) == "pod failed"
    assert pipelines.run_error({"state": "FAILED"}) is None


# -- the CLI on the double ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kfp2_release(tmp_path_factory: pytest.TempPathFactory) -> LocalRelease:
    """The synthetic set with KFP 2.5.0's api-server, and pins whose gateway says v2beta1."""
    root = tmp_path_factory.mktemp("synthetic-kfp2")
    repo = root / "manifests"
    shutil.copytree(SYNTHETIC_MANIFESTS, repo)
    manifest = repo / "apps" / "pipeline" / "base" / "pipelines.yaml"
    manifest.write_text(manifest.read_text().replace("kfsynthetic/api-server:1.7.0", "kfsynthetic/api-server:2.5.0"))
    git = ["git", "-c", "user.name=kfinstall tests", "-c", "user.email=tests@kfinstall.invalid"]
    for args in (["init", "--quiet", "-b", "master"], ["add", "."], ["commit", "--quiet", "-m", "kfp2"],
                 ["tag", "v0.1.0"]):  # fmt: skip
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True)
    pins = yaml.safe_load(SYNTHETIC_PINS.read_text())
    pins["releases"][0]["gateway"].update(kfp_api="v2beta1", source="synthetic: KFP 2.5.0's api-server")
    source = root / "source-pins.yaml"
    source.write_text(yaml.safe_dump(pins, sort_keys=False))
    url = f"file://{repo}"
    path = write_pins(source, root / "pins.yaml", url, {"v0.1.0": commit.stdout.strip()})
    return LocalRelease("v0.1.0", path, url, commit.stdout.strip())


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def up(env: dict[str, str], release: LocalRelease, profile: str = "standard") -> None:
    result = kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", profile, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


def verify(env: dict[str, str], release: LocalRelease, *args: str, **knobs: str):
    gateway = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway", **knobs}
    result = kfinstall("verify", "--pins", str(release.pins), "--json", *args, env={**env, **gateway}, stdin="")
    report = json.loads(result.stdout) if result.stdout.strip() else None
    if report is not None and "error" in report:  # the frame's error document: refused before any check
        assert report["ok"] is False and report["exit_code"] == result.returncode
        return result, {}
    return result, ({row["check"]: row for row in report["checks"]} if report else {})


def test_verify_pipeline_runs_the_pipeline_in_the_user_s_namespace(env, kfp2_release: LocalRelease) -> None:
    up(env, kfp2_release)
    result, rows = verify(env, kfp2_release, "--pipeline")
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows["pipeline run"]["state"] == "pass"
    assert rows["pipeline run"]["reason"].startswith("run ")
    assert f" SUCCEEDED in {NAMESPACE} (" in rows["pipeline run"]["reason"]
    gateway = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway"}
    human = kfinstall("verify", "--pins", str(kfp2_release.pins), "--pipeline", env={**env, **gateway}, stdin="")
    assert human.returncode == 0, human.stderr
    assert f"of a one-step CPU pipeline submitted to {NAMESPACE}; waiting up to 600 s" in human.stderr
    assert "✓ pipeline run" in human.stderr


def test_verify_pipeline_fails_with_the_pipeline_row_when_the_run_fails(env, kfp2_release: LocalRelease) -> None:
    up(env, kfp2_release)
    result, rows = verify(env, kfp2_release, "--pipeline", FAKE_KFP_RUN_RESULT="failed")
    assert result.returncode == 1
    row = rows["pipeline run"]
    assert row["state"] == "fail" and row["reason"].endswith(" FAILED")
    assert f"kubectl -n {NAMESPACE} get pods" in row["hint"] and "/pipeline/#/runs/details/" in row["hint"]
    assert all(r["state"] == "pass" for name, r in rows.items() if name != "pipeline run")


def test_verify_pipeline_on_a_minimal_install_says_not_installed(env, kfp2_release: LocalRelease) -> None:
    up(env, kfp2_release, "minimal")
    result, rows = verify(env, kfp2_release, "--pipeline")
    assert result.returncode == 0, result.stdout + result.stderr
    row = rows["pipeline run"]
    assert (row["state"], row["reason"], row["hint"]) == ("skip", "not installed (no pipelines in this install)", None)


def test_verify_gpu_is_refused_on_a_cluster_without_gpus(env, kfp2_release: LocalRelease) -> None:
    up(env, kfp2_release)
    result, _ = verify(env, kfp2_release, "--gpu")
    assert result.returncode == 2
    assert "--gpu needs a node that offers a nvidia.com/gpu, and this cluster has none" in result.stderr
    assert "kfinstall up --gpus all" in result.stderr


def test_verify_gpu_runs_the_gpu_pipeline_on_a_cluster_with_a_gpu(
    fake_tools: FakeTools, tmp_path: Path, kfp2_release: LocalRelease
) -> None:
    """The fake machine has one GPU and the nvidia runtime (as tests/test_gpu.py's); `up --gpus all` waits until
    the node offers it, and the fake Pipelines API, reading the node, lets the GPU step run."""
    fake_tools.set(double_args=FAST, gpus=1, docker_runtimes=["io.containerd.runc.v2", "nvidia", "runc"],
                   minikube_version="v1.37.0")  # fmt: skip
    env = isolated_env(fake_tools.env, tmp_path)
    result = kfinstall("up", "--pins", str(kfp2_release.pins), "-k", kfp2_release.tag, "--yes", "--profile",
                       "standard", "--gpus", "all", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    result, rows = verify(env, kfp2_release, "--gpu")
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows["GPU pipeline run"]["state"] == "pass"
    assert "pipeline run" not in rows  # --gpu alone runs only the GPU pipeline


def test_verify_pipeline_on_kfp_1_runs_the_argo_workflow_through_the_v1beta1_api(env, synthetic_release) -> None:
    """The synthetic release's Pipelines is KFP 1.7's (v1beta1, as Kubeflow v1.4.0's): verify submits the shipped
    Argo Workflow as the kfp 1.8 SDK does and waits for its Argo phase; a run that fails is the row's failure."""
    up(env, synthetic_release)
    result, rows = verify(env, synthetic_release, "--pipeline")
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows["pipeline run"]["state"] == "pass"
    assert re.fullmatch(rf"run [0-9a-f-]{{36}} SUCCEEDED in {NAMESPACE} \(\d+ s\)", rows["pipeline run"]["reason"])
    result, rows = verify(env, synthetic_release, "--pipeline", FAKE_KFP_RUN_RESULT="failed")
    assert result.returncode == 1
    assert re.fullmatch(r"run [0-9a-f-]{36} FAILED", rows["pipeline run"]["reason"])


def test_the_shipped_argo_workflows_are_the_v2_pipelines_steps() -> None:
    """kfp 1.x cannot live beside the test environment's kfp 2, so the Workflows (compiled by kfp 1.8 from
    tests/data/pipelines/verify_pipelines_v1.py) are held to the v2 pipelines: one step each, the same image,
    command, arguments and limits, caching off (max_cache_staleness P0D), as Argo takes them."""
    for pipeline in (pipelines.CPU, pipelines.GPU):
        workflow, ir = pipelines.workflow(pipeline), pipelines.spec(pipeline)
        assert (workflow["apiVersion"], workflow["kind"]) == ("argoproj.io/v1alpha1", "Workflow")
        assert workflow["metadata"]["generateName"] == ir["pipelineInfo"]["name"] + "-"
        steps = [t for t in workflow["spec"]["templates"] if "container" in t]
        (executor,) = ir["deploymentSpec"]["executors"].values()
        assert len(steps) == 1
        container = steps[0]["container"]
        wanted = executor["container"]
        assert (container["image"], container["command"], container.get("args", [])) == (
            wanted["image"], wanted["command"], wanted.get("args", []),
        )  # fmt: skip
        assert steps[0]["metadata"]["annotations"]["pipelines.kubeflow.org/max_cache_staleness"] == "P0D"
        assert kfp_api.workflow_gpus(workflow) == kfp_api.gpus_asked(ir)
    assert pipelines.workflow(pipelines.CPU)["spec"]["templates"][1]["container"]["resources"]["limits"] == {
        "cpu": "500m", "memory": "256M",
    }  # fmt: skip


@contextlib.contextmanager
def gateway_at(env: dict[str, str]) -> Iterator[str]:
    """The test gateway on a free port, as the fake `kubectl port-forward` serves it for `kfinstall port-forward`."""
    from kfinstall.commands.verify import free_port

    port = free_port()
    args = [str(FAKE_KUBECTL), "--context", "kubeflow", "port-forward", "svc/istio-ingressgateway", "-n",
            "istio-system", f"{port}:80"]  # fmt: skip
    forward = subprocess.Popen(args, env={**env, "FAKE_PF_ANSWER": "gateway"}, stdout=subprocess.PIPE, text=True)
    try:
        assert forward.stdout is not None
        assert forward.stdout.readline().startswith("Forwarding from"), "the fake port-forward did not start"
        threading.Thread(target=forward.stdout.read, daemon=True).start()  # `Handling connection` lines
        yield f"http://127.0.0.1:{port}"
    finally:
        forward.terminate()
        forward.wait(timeout=30)


def test_the_kfp_sdk_with_the_session_cookie_lists_the_run_verify_left(env, kfp2_release: LocalRelease) -> None:
    """What `kfinstall client` prints: `kfp.Client(host=.../pipeline, cookies=...)`; the gateway turns the cookie
    into the user's identity, the API lists the user's namespace, and verify's run is still there."""
    import kfp

    from kfinstall.gateway.login import log_in
    from kfinstall.manifests.login import DEFAULT_PASSWORD

    up(env, kfp2_release)
    result, rows = verify(env, kfp2_release, "--pipeline")
    assert rows["pipeline run"]["state"] == "pass", result.stdout + result.stderr
    run_id = rows["pipeline run"]["reason"].split()[1]
    with gateway_at(env) as url:
        session = Session()
        assert log_in(session, url, USER, DEFAULT_PASSWORD, "authservice_session").ok
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            client = kfp.Client(host=url + "/pipeline", cookies=cookies, namespace=NAMESPACE)
        listed = client.list_runs(namespace=NAMESPACE)
    assert [run.run_id for run in listed.runs] == [run_id]
    assert listed.runs[0].state == "SUCCEEDED"


def test_an_identity_header_without_a_session_does_not_reach_the_api(env, kfp2_release: LocalRelease) -> None:
    """The user's identity is the gateway's to set (oidc-authservice: USERID_HEADER), never the client's."""
    up(env, kfp2_release)
    with gateway_at(env) as url:
        host = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        connection.request("GET", f"/pipeline/apis/v2beta1/runs?namespace={NAMESPACE}", headers={
            kfp_api.USERID_HEADER: USER})  # fmt: skip
        answer = connection.getresponse()
        connection.close()
    assert answer.status == 302 and str(answer.getheader("Location")).startswith("/dex/auth?")


def test_verify_refuses_a_timeout_of_zero(env, kfp2_release: LocalRelease) -> None:
    result, _ = verify(env, kfp2_release, "--pipeline", "--timeout", "0")
    assert result.returncode == 2
    assert "--timeout must be more than 0 seconds" in result.stderr


@needs_bundle
@pytest.mark.timeout(1500)
def test_verify_pipeline_passes_after_a_standard_install_of_v1_9_1(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path
) -> None:
    """The real manifests of v1.9.1 (KFP 2.3.0, oauth2-proxy): the pins' v2beta1, the gateway's session, the
    profile's namespace made by the double's profile controller."""
    fake_tools.set(double_args="--set crd_establish_delay=0.2 --set ready_delay=[0.1,0.3] --set seed=11",
                   minikube_version="v1.37.0", **release_tools("v1.9.1"))  # fmt: skip
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    release = bundle_releases["v1.9.1"]
    result = kfinstall("up", "--pins", str(release.pins), "-k", "v1.9.1", "--yes", "--profile", "standard",
                       "--timeout", "600", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    result, rows = verify(env, release, "--pipeline")
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows["pipeline run"]["state"] == "pass"
    assert f" SUCCEEDED in {NAMESPACE} (" in rows["pipeline run"]["reason"]
