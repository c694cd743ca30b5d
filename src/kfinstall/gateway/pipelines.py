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

The pipelines are shipped compiled (the KFP v2 IR, `pipelines/*.yaml`, compiled by the kfp SDK from
tests/data/pipelines/verify_pipelines.py): kfinstall needs no kfp import. Only the v2beta1 API runs them: KFP 1.x
(Kubeflow v1.4.0, v1beta1) runs Argo workflows compiled by the kfp 1.x SDK, which kfinstall does not ship (its
output cannot be reproduced and checked here), so there the row says so instead of pretending. The run is left
in place: it is the user's to look at.
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


@dataclass(frozen=True)
class Pipeline:
    check: str
    file: str
    what: str


CPU = Pipeline("pipeline run", "cpu.yaml", "a one-step CPU pipeline")
GPU = Pipeline("GPU pipeline run", "gpu.yaml", "a one-step pipeline that asks for one nvidia.com/gpu")


def spec(pipeline: Pipeline) -> dict[str, Any]:
    """The shipped IR document, as the SDK sends it (`_extract_pipeline_yaml(...).to_dict()`)."""
    text = resources.files("kfinstall.gateway").joinpath("pipelines", pipeline.file).read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


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


def unsupported(pipeline: Pipeline, release: str, api: str) -> Row:
    return Row(
        pipeline.check,
        "skip",
        f"not supported on {release}: its Pipelines ({api}) runs kfp 1.x Argo workflows; kfinstall ships only "
        "KFP v2 pipelines (Kubeflow v1.9.1 and later)",
    )
