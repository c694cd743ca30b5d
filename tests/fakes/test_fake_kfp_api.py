"""The fake Pipelines API (tests/fakes/kfp_api.py) answers the kfp SDK as the real api-server does: the user's identity
from the gateway's `kubeflow-userid` header, the namespace the user owns or contributes to, runs that go PENDING ->
RUNNING -> SUCCEEDED as they are read. Served here by its standalone HTTP server, which plays the gateway's part (it
sets the identity header), on a cluster of plain data instead of the double."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes import kfp_api

USER = "user@example.com"
NAMESPACE = "kubeflow-user-example-com"
OTHER = "kubeflow-user-other"


#: The ServiceAccounts the profile controller binds in every profile namespace, and their ClusterRoles.
ACCOUNTS = (("default-editor", "kubeflow-edit"), ("default-viewer", "kubeflow-view"))


def binding(account: str, role: str, namespace: str) -> dict[str, Any]:
    return {"metadata": {"name": account, "namespace": namespace},
            "roleRef": {"kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]}  # fmt: skip


def cluster_get(*, gpus: int = 0, contributor: str | None = None):
    """`kubectl get ... -o json` of a cluster with the user's Profile and namespace and another user's."""
    profiles = {NAMESPACE: USER, OTHER: "other@example.com"}

    def get(*args: str) -> dict[str, Any]:
        if args[0] == "namespace":
            return {"metadata": {"name": args[1]}} if args[1] in profiles else {}
        if args[0] == "profiles.kubeflow.org":
            owner = profiles.get(args[1])
            return {"spec": {"owner": {"kind": "User", "name": owner}}} if owner else {}
        if args[0] == "rolebindings":
            items = [binding(account, role, args[2]) for account, role in ACCOUNTS]  # the profile controller's
            if contributor and args[2] == OTHER:  # KFAM's binding of a contributor
                items.append({"roleRef": {"kind": "ClusterRole", "name": "kubeflow-edit"},
                              "subjects": [{"kind": "User", "name": contributor}]})  # fmt: skip
            return {"items": items}
        if args[0] == "nodes":
            allocatable = {"cpu": "8", "nvidia.com/gpu": str(gpus)} if gpus else {"cpu": "8"}
            return {"items": [{"status": {"allocatable": allocatable}}]}
        return {}

    return get


def sdk_client(server: kfp_api.StandaloneServer, namespace: str = NAMESPACE):
    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "This client only works with KFP v2.0.0-beta.2 and later"
        return kfp.Client(host=server.url + "/pipeline", namespace=namespace)


@pytest.fixture
def served() -> Iterator[kfp_api.StandaloneServer]:
    with kfp_api.StandaloneServer(kfp_api.KfpApi(kfp_api.Cluster(cluster_get())), USER) as server:
        yield server


def spec(gpus: int = 0) -> dict[str, Any]:
    """The top level of a KFP v2 IR document, one task."""
    container: dict[str, Any] = {"image": "python:3.12", "command": ["echo", "hello"]}
    if gpus:
        container["resources"] = {"accelerator": {"resourceType": "nvidia.com/gpu", "resourceCount": str(gpus)}}
    return {
        "schemaVersion": "2.1.0",
        "sdkVersion": "kfp-2.17.3",
        "pipelineInfo": {"name": "hello"},
        "components": {"comp-hello": {"executorLabel": "exec-hello"}},
        "deploymentSpec": {"executors": {"exec-hello": {"container": container}}},
        "root": {"dag": {"tasks": {"hello": {"componentRef": {"name": "comp-hello"}, "taskInfo": {"name": "hello"}}}}},
    }


def call(api: kfp_api.KfpApi, method: str, path: str, body: Any = None, user: str | None = USER, **query: str):
    headers = {kfp_api.USERID_HEADER: user} if user else {}
    raw = json.dumps(body).encode() if body is not None else b""
    return api.handle(kfp_api.Call(method, path, query, headers, raw))


def submit(api: kfp_api.KfpApi, namespace: str = NAMESPACE, gpus: int = 0) -> dict[str, Any]:
    name = f"e{len(api.experiments)}"  # names are unique in a namespace
    experiment = call(api, "POST", "/apis/v2beta1/experiments", {"display_name": name, "namespace": namespace})
    assert experiment.status == 200, experiment.body
    run = call(api, "POST", "/apis/v2beta1/runs", {"display_name": "r", "experiment_id": experiment.body[
        "experiment_id"], "pipeline_spec": spec(gpus)})  # fmt: skip
    assert run.status == 200, run.body
    return run.body


def test_the_sdk_lists_no_runs_in_a_fresh_namespace(served: kfp_api.StandaloneServer) -> None:
    response = sdk_client(served).list_runs(namespace=NAMESPACE)
    assert response.runs is None and not response.total_size


def test_the_sdk_lists_the_runs_of_the_user_s_namespace(served: kfp_api.StandaloneServer) -> None:
    run = submit(served.api)
    submit(served.api, namespace=NAMESPACE)
    response = sdk_client(served).list_runs(namespace=NAMESPACE)
    assert response.total_size == 2
    assert run["run_id"] in {listed.run_id for listed in response.runs}
    assert {listed.state for listed in response.runs} == {"PENDING"}


def test_the_sdk_is_refused_a_namespace_the_user_does_not_own(served: kfp_api.StandaloneServer) -> None:
    import kfp_server_api

    with pytest.raises(kfp_server_api.ApiException) as refused:
        sdk_client(served, namespace=OTHER).list_runs(namespace=OTHER)
    assert refused.value.status == 403
    assert f"User '{USER}' is not authorized" in json.loads(refused.value.body)["message"]


def test_a_contributor_may_list_another_user_s_namespace() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get(contributor=USER)))
    assert call(api, "GET", "/apis/v2beta1/runs", namespace=OTHER).status == 200


def test_a_request_without_the_identity_header_is_unauthenticated() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    answer = call(api, "GET", "/apis/v2beta1/runs", user=None, namespace=NAMESPACE)
    assert answer.status == 401
    assert "there is no user identity header" in answer.body["message"]


def test_listing_runs_without_a_namespace_is_refused_in_multi_user_mode() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    answer = call(api, "GET", "/apis/v2beta1/runs")
    assert (answer.status, answer.body["message"]) == (400, "A run cannot have an empty namespace in multi-user mode")


def test_v1beta1_lists_runs_by_namespace_reference() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    run = submit(api)
    answer = call(api, "GET", "/apis/v1beta1/runs", **{"resource_reference_key.type": "NAMESPACE",
                                                       "resource_reference_key.id": NAMESPACE})  # fmt: skip
    assert answer.status == 200
    assert [(listed["id"], listed["status"]) for listed in answer.body["runs"]] == [(run["run_id"], "Pending")]


def test_v1beta1_list_runs_needs_a_resource_reference() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    answer = call(api, "GET", "/apis/v1beta1/runs")
    assert answer.status == 400
    assert answer.body["message"] == "ListRuns must filter by resource reference in multi-user mode."


def test_kfp_1_serves_no_v2beta1() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    answer = api.handle(kfp_api.Call("GET", "/apis/v2beta1/runs", {"namespace": NAMESPACE}, {}), ("v1beta1",))
    assert answer.status == 404


def test_a_run_goes_pending_running_succeeded_as_it_is_read() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    run = submit(api)
    states = [call(api, "GET", f"/apis/v2beta1/runs/{run['run_id']}").body["state"] for _ in range(3)]
    assert [run["state"], *states] == ["PENDING", "RUNNING", "SUCCEEDED", "SUCCEEDED"]


def test_a_run_fails_when_the_knob_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KFP_RUN_RESULT", "failed")
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    run = submit(api)
    states = [call(api, "GET", f"/apis/v2beta1/runs/{run['run_id']}").body["state"] for _ in range(3)]
    assert states == ["RUNNING", "FAILED", "FAILED"]


def test_a_gpu_run_stays_running_without_a_gpu_on_the_node() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get(gpus=0)))
    run = submit(api, gpus=1)
    states = [call(api, "GET", f"/apis/v2beta1/runs/{run['run_id']}").body["state"] for _ in range(4)]
    assert states == ["RUNNING"] * 4


def test_a_gpu_run_succeeds_with_a_gpu_on_the_node() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get(gpus=1)))
    run = submit(api, gpus=1)
    states = [call(api, "GET", f"/apis/v2beta1/runs/{run['run_id']}").body["state"] for _ in range(2)]
    assert states == ["RUNNING", "SUCCEEDED"]


def test_a_run_with_no_pipeline_ir_is_refused() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    experiment = call(api, "POST", "/apis/v2beta1/experiments", {"display_name": "e", "namespace": NAMESPACE})
    workflow = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}
    bad = {"display_name": "r", "experiment_id": experiment.body["experiment_id"], "pipeline_spec": workflow}
    answer = call(api, "POST", "/apis/v2beta1/runs", bad)
    assert answer.status == 400
    assert 'invalid v2 pipeline spec: proto: unknown field "apiVersion"' in answer.body["message"]


def test_a_field_the_proto_lacks_is_refused() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    answer = call(api, "POST", "/apis/v2beta1/experiments", {"name": "e", "namespace": NAMESPACE})
    assert answer.status == 400 and 'unknown field "name"' in answer.body["message"]


def test_the_sdk_finds_an_experiment_by_name(served: kfp_api.StandaloneServer) -> None:
    client = sdk_client(served)
    created = client.create_experiment("kfinstall-verify", namespace=NAMESPACE)
    assert client.get_experiment(experiment_name="kfinstall-verify", namespace=NAMESPACE).experiment_id == (
        created.experiment_id
    )


def test_the_sdk_sees_a_finished_run_as_upstream_s_ci_waits_for_it(served: kfp_api.StandaloneServer) -> None:
    """community-distribution tests/gh-actions/run_and_wait_kubeflow_pipeline.py: `finished_at > created_at`."""
    client = sdk_client(served)
    run = submit(served.api)
    first = client.get_run(run["run_id"])
    assert first.finished_at < first.created_at  # the epoch: not finished
    last = client.get_run(run["run_id"])
    assert last.state == "SUCCEEDED" and last.finished_at > last.created_at


def test_runs_outlive_the_process_in_the_store_as_in_the_api_server_s_database(tmp_path) -> None:
    store = tmp_path / "kfp-api.json"
    run = submit(kfp_api.KfpApi(kfp_api.Cluster(cluster_get()), store))
    later = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()), store)  # another gateway process
    answer = call(later, "GET", f"/apis/v2beta1/runs/{run['run_id']}")
    assert (answer.status, answer.body["state"]) == (200, "RUNNING")  # its reads counted across processes too


def v1_experiment(api: kfp_api.KfpApi, namespace: str = NAMESPACE) -> str:
    owner = [{"key": {"type": "NAMESPACE", "id": namespace}, "relationship": "OWNER"}]
    answer = call(api, "POST", "/apis/v1beta1/experiments", {"name": "e", "resource_references": owner})
    assert answer.status == 200, answer.body
    return str(answer.body["id"])


def v1_run(experiment_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """A v1beta1 run as the kfp 1.8 SDK's run_pipeline sends it."""
    owner = [{"key": {"type": "EXPERIMENT", "id": experiment_id}, "relationship": "OWNER"}]
    return {"name": "r", "pipeline_spec": {"workflow_manifest": json.dumps(manifest), "parameters": []},
            "resource_references": owner}  # fmt: skip


STEP = {"name": "step", "container": {"image": "python:3.12", "resources": {"limits": {"nvidia.com/gpu": 1}}}}
WORKFLOW = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": {"templates": [STEP]}}


def test_a_v1beta1_run_of_an_argo_workflow_reports_its_argo_phase() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get(gpus=1)))
    created = call(api, "POST", "/apis/v1beta1/runs", v1_run(v1_experiment(api), WORKFLOW))
    assert created.status == 200, created.body
    run = created.body["run"]
    phases = [call(api, "GET", f"/apis/v1beta1/runs/{run['id']}").body["run"]["status"] for _ in range(3)]
    assert [run["status"], *phases] == ["Pending", "Running", "Succeeded", "Succeeded"]
    assert json.loads(run["pipeline_spec"]["workflow_manifest"]) == WORKFLOW


def test_a_v1beta1_run_needs_an_argo_workflow_and_an_experiment() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    experiment_id = v1_experiment(api)
    not_argo = call(api, "POST", "/apis/v1beta1/runs", v1_run(experiment_id, {"kind": "PipelineSpec"}))
    assert not_argo.status == 400 and "Invalid argo workflow format" in not_argo.body["message"]
    orphan = {**v1_run(experiment_id, WORKFLOW), "resource_references": []}
    assert call(api, "POST", "/apis/v1beta1/runs", orphan).status == 400


def test_a_v1beta1_run_in_another_users_namespace_is_denied() -> None:
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    experiment_id = v1_experiment(api)
    denied = call(api, "POST", "/apis/v1beta1/runs", v1_run(experiment_id, WORKFLOW), user="other@example.com")
    assert denied.status == 403


def test_a_viewer_service_account_lists_runs_but_may_not_create_one() -> None:
    """kubeflow-view aggregates kubeflow-pipelines-view: get and list only (the pipelines manifests'
    installs/multi-user/view-edit-cluster-roles.yaml); kubeflow-edit may create."""
    api = kfp_api.KfpApi(kfp_api.Cluster(cluster_get()))
    viewer, editor = (f"system:serviceaccount:{NAMESPACE}:{account}" for account, _ in ACCOUNTS[::-1])
    experiment = call(api, "POST", "/apis/v2beta1/experiments", {"display_name": "e", "namespace": NAMESPACE})
    body = {"display_name": "r", "experiment_id": experiment.body["experiment_id"], "pipeline_spec": spec()}
    assert call(api, "GET", "/apis/v2beta1/runs", user=viewer, namespace=NAMESPACE).status == 200
    denied = call(api, "POST", "/apis/v2beta1/runs", body, user=viewer)
    assert denied.status == 403 and "Verb:create" in denied.body["message"]
    assert call(api, "POST", "/apis/v2beta1/runs", body, user=editor).status == 200
