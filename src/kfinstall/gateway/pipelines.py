"""Run a tiny pipeline in the user's namespace through the gateway, as the kfp SDK does, and wait for its end.

The requests are those of the SDK's `Client.create_run_from_pipeline_package` (kubeflow/pipelines
sdk/python/kfp/client/client.py): find the experiment by name in the namespace (`GET /apis/v2beta1/experiments`
with a `display_name` EQUALS filter and `namespace`), create it when missing (`POST /apis/v2beta1/experiments`
`{display_name, namespace}`), then `POST /apis/v2beta1/runs` `{display_name, experiment_id, pipeline_spec,
runtime_config}`: a v2beta1 Run has no namespace, the api-server takes the experiment's (backend/src/apiserver/
resource/resource_manager.go GetValidExperimentNamespacePair). Then `GET /apis/v2beta1/runs/{run_id}` until its
`state` (backend/api/v2beta1/run.proto RuntimeState) is final, as upstream's CI waits for a run
(kubeflow/community-distribution tests/gh-actions/run_and_wait_kubeflow_pipeline.py). All through the gateway
with the session cookie: the gateway turns the session into the `kubeflow-userid` header the api-server
authorizes (it refuses a namespace the user neither owns nor contributes to).

KFP 1.x (Kubeflow v1.4.0's KFP 1.7, the v1beta1 API) takes what the kfp 1.8 SDK's `Client.run_pipeline` sends
(sdk/python/kfp/_client.py at 1.8.22): the experiment found by a `name` EQUALS filter (`op`) with a NAMESPACE
resource reference (`GET /apis/v1beta1/experiments?resource_reference_key.type=NAMESPACE&...id=NS`), created with
`{name, resource_references: [NAMESPACE NS, OWNER]}` when missing; then `POST /apis/v1beta1/runs` `{name,
pipeline_spec: {workflow_manifest: the Argo Workflow as a JSON string}, resource_references: [EXPERIMENT id,
OWNER]}`, answered with a RunDetail whose `run.status` is the Argo phase (backend/api/run.proto at 1.7.0), polled
at `GET /apis/v1beta1/runs/{id}`.

The pipelines are shipped compiled: the KFP v2 IR (`pipelines/{cpu,gpu}.yaml`, by the kfp 2 SDK from
tests/data/pipelines/verify_pipelines.py) and Argo Workflows for KFP 1.x (`pipelines/{cpu,gpu}-v1.yaml`, by the
kfp 1.8 SDK from verify_pipelines_v1.py): kfinstall needs no kfp import. The run is left in place: it is the
user's to look at.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kfinstall.gateway import verdicts
from kfinstall.gateway.http import Response, Session
from kfinstall.gateway.verdicts import Row

#: The experiment verify's runs go into (created in the user's namespace when missing, as the SDK does).
EXPERIMENT = "kfinstall-verify"
#: Final states (run.proto RuntimeState); SKIPPED: every task cached (ours disable caching, but a user may not).
FINAL = ("SUCCEEDED", "SKIPPED", "FAILED", "CANCELED")
PASSED = ("SUCCEEDED", "SKIPPED")
#: Seconds a run may take by default: the first one on a cluster pulls KFP's driver and launcher images and the
#: step's image.
DEFAULT_TIMEOUT = 600.0
#: Polls start quick and slow down to the SDK's interval (`wait_for_run_completion`: sleep_duration=5).
FIRST_POLL, LAST_POLL = 0.5, 5.0


#: Argo's final phases, as KFP 1.x reports a run's `status` (argoproj workflow NodePhase).
FINAL_V1 = {"Succeeded": "SUCCEEDED", "Skipped": "SKIPPED", "Failed": "FAILED", "Error": "FAILED"}


@dataclass(frozen=True)
class Pipeline:
    check: str
    file: str
    what: str

    @property
    def file_v1(self) -> str:
        """The Argo Workflow of the same pipeline for KFP 1.x."""
        return self.file.replace(".yaml", "-v1.yaml")


CPU = Pipeline("pipeline run", "cpu.yaml", "a one-step CPU pipeline")
GPU = Pipeline("GPU pipeline run", "gpu.yaml", "a one-step pipeline that asks for one nvidia.com/gpu")


def _shipped(name: str) -> dict[str, Any]:
    text = resources.files("kfinstall.gateway").joinpath("pipelines", name).read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def spec(pipeline: Pipeline) -> dict[str, Any]:
    """The shipped IR document, as the SDK sends it (`_extract_pipeline_yaml(...).to_dict()`)."""
    return _shipped(pipeline.file)


def workflow(pipeline: Pipeline) -> dict[str, Any]:
    """The shipped Argo Workflow for KFP 1.x (the kfp 1.8 SDK's `_extract_pipeline_yaml`)."""
    return _shipped(pipeline.file_v1)


def name_filter(name: str) -> str:
    """The SDK's filter (client.py get_experiment): filter.proto, operation EQUALS (1) on display_name."""
    return json.dumps({"predicates": [{"operation": 1, "key": "display_name", "stringValue": name}]})


def _json(response: Response) -> dict[str, Any]:
    try:
        data = json.loads(response.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def api_error(response: Response) -> str:
    """The api-server's error in words: grpc-gateway's `message` (or v1's `error`), else the gateway's answer."""
    data = _json(response)
    message = data.get("message") or data.get("error")
    return f"{response.status}: {message}" if message else verdicts.answer(response.status)


@dataclass(frozen=True)
class Outcome:
    """Where a run got to: `run_id` once created, its last `state`, the api-server's words on a failure."""

    step: str
    run_id: str | None = None
    state: str | None = None
    error: str | None = None
    seconds: float = 0.0


def run_error(run: dict[str, Any]) -> str | None:
    """run.proto Run.error (a google.rpc.Status): its message."""
    error = run.get("error")
    return str(error.get("message") or "") or None if isinstance(error, dict) else None


@dataclass(frozen=True)
class Dialect:
    """How one Pipelines API version names the same four requests and the run's progress (see the module's
    docstring): v2beta1 as the kfp 2 SDK speaks it, v1beta1 as the kfp 1.8 SDK does."""

    version: str
    experiments_query: Callable[[str], dict[str, str]]
    new_experiment: Callable[[str], dict[str, Any]]
    experiment_id: str
    new_run: Callable[[Pipeline, str], dict[str, Any]]
    #: The Run in an answer (v1beta1 wraps it in a RunDetail), its id, and its state in v2's words (None: not final).
    run_of: Callable[[dict[str, Any]], dict[str, Any]]
    run_id: str
    final_state: Callable[[dict[str, Any]], str | None]
    error_of: Callable[[dict[str, Any]], str | None]


def _stamp() -> str:
    return time.strftime("%Y-%m-%d %H-%M-%S")


def _v2_run(pipeline: Pipeline, experiment_id: str) -> dict[str, Any]:
    ir = spec(pipeline)
    return {"display_name": f"{ir['pipelineInfo']['name']} {_stamp()}", "experiment_id": experiment_id,
            "pipeline_spec": ir, "runtime_config": {"parameters": {}}}  # fmt: skip


def _v1_run(pipeline: Pipeline, experiment_id: str) -> dict[str, Any]:
    manifest = workflow(pipeline)
    return {
        "name": f"{manifest['metadata']['generateName'].rstrip('-')} {_stamp()}",
        "pipeline_spec": {"workflow_manifest": json.dumps(manifest), "parameters": []},
        "resource_references": [{"key": {"type": "EXPERIMENT", "id": experiment_id}, "relationship": "OWNER"}],
    }


V2 = Dialect(
    version="v2beta1",
    experiments_query=lambda namespace: {"filter": name_filter(EXPERIMENT), "namespace": namespace},
    new_experiment=lambda namespace: {"display_name": EXPERIMENT, "namespace": namespace},
    experiment_id="experiment_id",
    new_run=_v2_run,
    run_of=lambda answer: answer,
    run_id="run_id",
    final_state=lambda run: str(run.get("state")) if str(run.get("state")) in FINAL else None,
    error_of=run_error,
)
V1 = Dialect(
    version="v1beta1",
    experiments_query=lambda namespace: {
        "filter": json.dumps({"predicates": [{"op": 1, "key": "name", "stringValue": EXPERIMENT}]}),
        "resource_reference_key.type": "NAMESPACE",
        "resource_reference_key.id": namespace,
    },
    new_experiment=lambda namespace: {
        "name": EXPERIMENT,
        "resource_references": [{"key": {"type": "NAMESPACE", "id": namespace}, "relationship": "OWNER"}],
    },
    experiment_id="id",
    new_run=_v1_run,
    run_of=lambda answer: answer.get("run") or {},
    run_id="id",
    final_state=lambda run: FINAL_V1.get(str(run.get("status"))),
    error_of=lambda run: str(run.get("error") or "") or None,
)
DIALECTS = {dialect.version: dialect for dialect in (V2, V1)}


def submit_and_wait(
    session: Session,
    url: str,
    namespace: str,
    pipeline: Pipeline,
    timeout: float,
    *,
    api_version: str = "v2beta1",
    say: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Find or create the experiment, create the run, poll it until it ends or `timeout` seconds pass. On v1beta1
    the Argo phase is said in v2's states (Error counts as FAILED), so that one `row` judges both."""
    dialect = DIALECTS[api_version]
    api = f"{url}/pipeline/apis/{dialect.version}"
    answer = session.get(f"{api}/experiments?{urllib.parse.urlencode(dialect.experiments_query(namespace))}")
    if answer.status != 200:
        return Outcome("listing experiments", error=api_error(answer))
    found = [e for e in _json(answer).get("experiments") or [] if isinstance(e, dict)]
    if found:
        experiment_id = str(found[0].get(dialect.experiment_id) or "")
    else:
        answer = session.post_json(f"{api}/experiments", dialect.new_experiment(namespace))
        if answer.status != 200:
            return Outcome("creating the experiment", error=api_error(answer))
        experiment_id = str(_json(answer).get(dialect.experiment_id) or "")
    answer = session.post_json(f"{api}/runs", dialect.new_run(pipeline, experiment_id))
    if answer.status != 200:
        return Outcome("creating the run", error=api_error(answer))
    run = dialect.run_of(_json(answer))
    run_id = str(run.get(dialect.run_id) or "")
    say(f"{pipeline.check}: run {run_id} of {pipeline.what} submitted to {namespace}; waiting up to {timeout:.0f} s")
    started, wait = clock(), FIRST_POLL
    while (state := dialect.final_state(run)) is None:
        if clock() - started > timeout:
            now = str(run.get("state") or run.get("status") or "PENDING")
            return Outcome("waiting", run_id, now, seconds=clock() - started)
        sleep(wait)
        wait = min(wait * 2, LAST_POLL)
        answer = session.get(f"{api}/runs/{urllib.parse.quote(run_id)}")
        if answer.status != 200:
            return Outcome("reading the run", run_id, error=api_error(answer), seconds=clock() - started)
        run = dialect.run_of(_json(answer))
    return Outcome("finished", run_id, state, dialect.error_of(run), clock() - started)


def row(outcome: Outcome, pipeline: Pipeline, namespace: str, ui: str, timeout: float) -> Row:
    """The row of one run: passed with its id, or failed with where to look."""
    pods = f"`kubectl -n {namespace} get pods`"
    if outcome.run_id is None:
        return verdicts.failed(
            pipeline.check, f"{outcome.step} in {namespace} failed: {outcome.error}",
            f"is {namespace} yours (`kubectl get profile {namespace}`)? the api-server's log: "
            "`kubectl -n kubeflow logs deploy/ml-pipeline`",
        )  # fmt: skip
    link = f"{ui}/pipeline/#/runs/details/{outcome.run_id}"
    if outcome.step == "reading the run":
        return verdicts.failed(pipeline.check, f"run {outcome.run_id}: {outcome.error}", f"see {link}")
    if outcome.step == "waiting":
        return verdicts.failed(
            pipeline.check, f"run {outcome.run_id} still {outcome.state} after {timeout:.0f} s",
            f"its pods: {pods} (Pending: images still pulling, or no node can take it); {link}; "
            "give it longer with --timeout",
        )  # fmt: skip
    if outcome.state in PASSED:
        return verdicts.passed(
            pipeline.check, f"run {outcome.run_id} {outcome.state} in {namespace} ({outcome.seconds:.0f} s)"
        )
    why = f": {outcome.error}" if outcome.error else ""
    return verdicts.failed(pipeline.check, f"run {outcome.run_id} {outcome.state}{why}", f"see {link} and {pods}")
