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


def submit_and_wait(
    session: Session,
    url: str,
    namespace: str,
    pipeline: Pipeline,
    timeout: float,
    *,
    say: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Find or create the experiment, create the run, poll it until it ends or `timeout` seconds pass."""
    api = f"{url}/pipeline/apis/v2beta1"
    query = urllib.parse.urlencode({"filter": name_filter(EXPERIMENT), "namespace": namespace})
    answer = session.get(f"{api}/experiments?{query}")
    if answer.status != 200:
        return Outcome("listing experiments", error=api_error(answer))
    found = [e for e in _json(answer).get("experiments") or [] if isinstance(e, dict)]
    if found:
        experiment_id = str(found[0].get("experiment_id") or "")
    else:
        answer = session.post_json(f"{api}/experiments", {"display_name": EXPERIMENT, "namespace": namespace})
        if answer.status != 200:
            return Outcome("creating the experiment", error=api_error(answer))
        experiment_id = str(_json(answer).get("experiment_id") or "")
    body = {
        "display_name": f"{spec(pipeline)['pipelineInfo']['name']} {time.strftime('%Y-%m-%d %H-%M-%S')}",
        "experiment_id": experiment_id,
        "pipeline_spec": spec(pipeline),
        "runtime_config": {"parameters": {}},
    }
    answer = session.post_json(f"{api}/runs", body)
    if answer.status != 200:
        return Outcome("creating the run", error=api_error(answer))
    run = _json(answer)
    run_id = str(run.get("run_id") or "")
    say(f"{pipeline.check}: run {run_id} of {pipeline.what} submitted to {namespace}; waiting up to {timeout:.0f} s")
    started, wait = clock(), FIRST_POLL
    while str(run.get("state")) not in FINAL:
        if clock() - started > timeout:
            return Outcome("waiting", run_id, str(run.get("state")), seconds=clock() - started)
        sleep(wait)
        wait = min(wait * 2, LAST_POLL)
        answer = session.get(f"{api}/runs/{urllib.parse.quote(run_id)}")
        if answer.status != 200:
            return Outcome("reading the run", run_id, error=api_error(answer), seconds=clock() - started)
        run = _json(answer)
    return Outcome("finished", run_id, str(run.get("state")), run_error(run), clock() - started)


def submit_and_wait_v1(
    session: Session,
    url: str,
    namespace: str,
    pipeline: Pipeline,
    timeout: float,
    *,
    say: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """submit_and_wait on KFP 1.x's v1beta1 API, as the kfp 1.8 SDK does it; the Argo phase mapped to the v2
    states (Error counts as FAILED) so that one `row` judges both."""
    api = f"{url}/pipeline/apis/v1beta1"
    name_only = json.dumps({"predicates": [{"op": 1, "key": "name", "stringValue": EXPERIMENT}]})
    query = urllib.parse.urlencode({"filter": name_only, "resource_reference_key.type": "NAMESPACE",
                                    "resource_reference_key.id": namespace})  # fmt: skip
    answer = session.get(f"{api}/experiments?{query}")
    if answer.status != 200:
        return Outcome("listing experiments", error=api_error(answer))
    found = [e for e in _json(answer).get("experiments") or [] if isinstance(e, dict)]
    if found:
        experiment_id = str(found[0].get("id") or "")
    else:
        owner = [{"key": {"type": "NAMESPACE", "id": namespace}, "relationship": "OWNER"}]
        answer = session.post_json(f"{api}/experiments", {"name": EXPERIMENT, "resource_references": owner})
        if answer.status != 200:
            return Outcome("creating the experiment", error=api_error(answer))
        experiment_id = str(_json(answer).get("id") or "")
    manifest = workflow(pipeline)
    body = {
        "name": f"{manifest['metadata']['generateName'].rstrip('-')} {time.strftime('%Y-%m-%d %H-%M-%S')}",
        "pipeline_spec": {"workflow_manifest": json.dumps(manifest), "parameters": []},
        "resource_references": [{"key": {"type": "EXPERIMENT", "id": experiment_id}, "relationship": "OWNER"}],
    }
    answer = session.post_json(f"{api}/runs", body)
    if answer.status != 200:
        return Outcome("creating the run", error=api_error(answer))
    run = _json(answer).get("run") or {}
    run_id = str(run.get("id") or "")
    say(f"{pipeline.check}: run {run_id} of {pipeline.what} submitted to {namespace}; waiting up to {timeout:.0f} s")
    started, wait = clock(), FIRST_POLL
    while str(run.get("status")) not in FINAL_V1:
        if clock() - started > timeout:
            return Outcome("waiting", run_id, str(run.get("status") or "Pending"), seconds=clock() - started)
        sleep(wait)
        wait = min(wait * 2, LAST_POLL)
        answer = session.get(f"{api}/runs/{urllib.parse.quote(run_id)}")
        if answer.status != 200:
            return Outcome("reading the run", run_id, error=api_error(answer), seconds=clock() - started)
        run = _json(answer).get("run") or {}
    error = str(run.get("error") or "") or None
    return Outcome("finished", run_id, FINAL_V1[str(run.get("status"))], error, clock() - started)


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
