"""The fake Kubeflow Pipelines API server behind the test gateway (tests/fakes/gateway.py routes `/pipeline/` here).

It answers the few routes a user's client uses, with the JSON of the real api-server (grpc-gateway over the protos,
snake_case field names as the generated clients expect: kfp_server_api models' `attribute_map`):
- v2beta1 (KFP 2.x: kubeflow/pipelines backend/api/v2beta1/run.proto, experiment.proto):
  `GET|POST /apis/v2beta1/experiments`, `GET /apis/v2beta1/experiments/{id}`,
  `GET|POST /apis/v2beta1/runs`, `GET /apis/v2beta1/runs/{run_id}`;
- v1beta1 (KFP 1.7 of Kubeflow v1.4.0, backend/api/run.proto and experiment.proto at tag 1.7.0; KFP 2.x serves it
  too): `GET|POST /apis/v1beta1/runs` (listed by `resource_reference_key.type=NAMESPACE|EXPERIMENT` and `.id`;
  created from an Argo `workflow_manifest` as the kfp 1.x SDK sends it), `GET /apis/v1beta1/runs/{id}`,
  `GET|POST /apis/v1beta1/experiments`.
Runs, experiments and how often each run was read live in a JSON file of the fakes' state directory when the
gateway gives one (as the real ones live in the api-server's MySQL: each forward to the gateway is a new process,
and `verify`'s run must still be there for the next client), else in this process's memory.

Multi-user mode, as Kubeflow deploys it (`KUBEFLOW_USERID_HEADER=kubeflow-userid`, empty prefix):
- the identity is the `kubeflow-userid` header (backend/src/apiserver/auth/authenticator_http_headers.go); the
  gateway sets it from the session oauth2-proxy or authservice proved. Without it: 401 Unauthenticated
  "Request header error: there is no user identity header." (auth/auth.go `IdentityHeaderMissingError`);
- every list, get and create is authorized on the namespace (server/run_server.go `canAccessRun`, experiment_server.go
  `canAccessExperiment` -> resource/resource_manager.go `IsAuthorized`: a SubjectAccessReview of the user for
  `pipelines.kubeflow.org` runs/experiments in that namespace). What RBAC grants there is what the profile controller
  and KFAM bound: the Profile's owner (RoleBinding `namespaceAdmin`, kubeflow/kubeflow
  components/profile-controller/controllers/profile_controller.go), the namespace's `default-editor` and
  `default-viewer` ServiceAccounts (RoleBindings of the same names, updateServiceAccount there; a bearer token's
  identity) and contributors (RoleBindings with a `User` subject, components/access-management/kfam/bindings.go),
  each as far as its ClusterRole lets it (ROLE_VERBS: kubeflow-view only reads), in a namespace that exists.
  Anything else: 403 PermissionDenied. An empty namespace: 400 "A run cannot have an empty namespace in multi-user
  mode"; v1beta1's ListRuns without a resource reference: 400 "ListRuns must filter by resource reference in
  multi-user mode." (run_server.go of 1.7.0); a run without an experiment: 400 "Experiment id can not be empty in
  multi-user mode" (resource_manager.go `GetValidExperimentNamespacePair`).

A run goes PENDING -> RUNNING -> SUCCEEDED, one step each time it is read (no clock), or FAILED as its last step when
FAKE_KFP_RUN_RESULT=failed. A run whose pipeline asks for `nvidia.com/gpu` while the cluster's node offers none stays
RUNNING: its pod is Pending and unschedulable, and Argo (hence KFP) keeps the run running, it does not fail it.

Answers leave out empty fields (an empty list is `{}`), as the api-server's marshaler does (backend/src/apiserver/
common/utils.go CustomMarshaler: UseProtoNames, EmitUnpopulated false); a request with a field the proto does not
have is refused (DiscardUnknown false), as the real one refuses it.

Simplifications, none more lenient about what a client relies on: filters support only `display_name` EQUALS (any
other filter is refused with 400, not ignored); no paging (every list fits one page, `next_page_token` empty);
the pipeline spec is checked as the api-server checks it before it compiles it to an Argo workflow
(`pipeline_problem`), not compiled.
"""

from __future__ import annotations

import calendar
import contextlib
import fcntl
import json
import os
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Kubeflow's api-server config: KUBEFLOW_USERID_HEADER (apps/pipeline/upstream/base/installs/multi-user/
#: api-service/params.env of kubeflow/pipelines), read by common/config.go GetKubeflowUserIDHeader.
USERID_HEADER = "kubeflow-userid"
#: google.golang.org/grpc codes and their HTTP statuses (grpc-gateway runtime/errors.go HTTPStatusFromCode).
INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED = 3, 5, 7, 16
HTTP_STATUS = {INVALID_ARGUMENT: 400, NOT_FOUND: 404, PERMISSION_DENIED: 403, UNAUTHENTICATED: 401}
#: v2beta1 RuntimeState (run.proto) in the order a run goes through them; v1beta1's `status` is the Argo phase.
V1_STATUS = {"PENDING": "Pending", "RUNNING": "Running", "SUCCEEDED": "Succeeded", "FAILED": "Failed"}
#: filter.proto Predicate.Operation (the SDK sends the number: kfp/client/client.py _FILTER_OPERATIONS).
EQUALS = ("EQUALS", 1)
GPU = "nvidia.com/gpu"
EPOCH = "1970-01-01T00:00:00Z"
#: The fields of the messages a client sends (v2beta1 run.proto Run, experiment.proto Experiment).
RUN_FIELDS = set(
    [
        "experiment_id",
        "run_id",
        "display_name",
        "storage_state",
        "description",
        "pipeline_version_id",
        "pipeline_spec",
        "pipeline_version_reference",
        "runtime_config",
        "service_account",
        "created_at",
        "scheduled_at",
        "finished_at",
        "state",
        "error",
        "run_details",
        "recurring_run_id",
        "state_history",
    ]
)
EXPERIMENT_FIELDS = set(
    ["experiment_id", "display_name", "description", "created_at", "namespace", "storage_state", "last_run_created_at"]
)
V2 = "kubeflow.pipelines.backend.api.v2beta1."


def known_fields(body: Any, fields: set[str], message: str) -> dict[str, Any]:
    """protojson with DiscardUnknown false: an unknown field fails the whole request."""
    if not isinstance(body, dict):
        raise ApiError(INVALID_ARGUMENT, f"the body is not a {message}")
    unknown = sorted(set(body) - fields)
    if unknown:
        raise ApiError(INVALID_ARGUMENT, f'proto: (line 1:2): unknown field "{unknown[0]}" in {message}')
    return body


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Call:
    """One request as the api-server sees it: the path without the gateway's `/pipeline` prefix."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            raise ApiError(INVALID_ARGUMENT, "the request body is not JSON") from None


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def text(self) -> str:
        return json.dumps(self.body)


@dataclass
class Run:
    run_id: str
    display_name: str
    experiment_id: str
    namespace: str
    created_at: str
    pipeline_spec: dict[str, Any]
    runtime_config: dict[str, Any]
    gpus: int
    finished_at: str = EPOCH
    #: The v1beta1 run's Argo Workflow (`pipeline_spec.workflow_manifest`, kfp 1.x), or None for a v2 spec.
    workflow_manifest: str | None = None
    #: The states it goes through, one per read; the last one stays.
    states: list[str] = field(default_factory=lambda: ["PENDING", "RUNNING", "SUCCEEDED"])
    reads: int = 0

    @property
    def state(self) -> str:
        return self.states[min(self.reads, len(self.states) - 1)]


@dataclass
class Experiment:
    experiment_id: str
    display_name: str
    namespace: str
    description: str
    created_at: str


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Cluster:
    """What the api-server asks Kubernetes: may this user touch this namespace, does a node offer GPUs.
    `get(*args)` is `kubectl get ARGS -o json` on the double (tests/fakes/gateway.py Cluster.get), {} on an error."""

    def __init__(self, get: Callable[..., dict[str, Any]]) -> None:
        self.get = get

    def authorized(self, user: str, namespace: str, verb: str = "get") -> bool:
        if not self.get("namespace", namespace):
            return False  # no namespace, no RoleBinding in it: the SubjectAccessReview denies
        profile = self.get("profiles.kubeflow.org", namespace)
        if ((profile.get("spec") or {}).get("owner") or {}).get("name") == user:
            return True  # the profile controller's RoleBinding namespaceAdmin
        bindings = self.get("rolebindings", "-n", namespace).get("items") or []
        return any(
            verb in ROLE_VERBS.get(str((binding.get("roleRef") or {}).get("name")), ())
            and any(_user_name(subject, namespace) == user for subject in binding.get("subjects") or [])
            for binding in bindings
        )

    def gpus(self) -> int:
        nodes = self.get("nodes").get("items") or []
        return sum(int((node.get("status") or {}).get("allocatable", {}).get(GPU, 0) or 0) for node in nodes)


def _user_name(subject: dict[str, Any], namespace: str) -> str | None:
    """The user name a RoleBinding subject grants: a User's name, a ServiceAccount's
    `system:serviceaccount:NS:NAME` (kubernetes/kubernetes plugin/pkg/auth/authorizer/rbac/subject_locator.go
    appliesToUser; serviceaccount.MakeUsername), the namespace defaulting to the binding's."""
    if subject.get("kind") == "User":
        return str(subject.get("name"))
    if subject.get("kind") == "ServiceAccount":
        return f"system:serviceaccount:{subject.get('namespace') or namespace}:{subject.get('name')}"
    return None


#: What Kubeflow's ClusterRoles let a RoleBinding's subject do with Pipelines' runs and experiments
#: (kubeflow/pipelines manifests installs/multi-user/view-edit-cluster-roles.yaml: kubeflow-pipelines-view, get and
#: list, aggregated into kubeflow-view; kubeflow-pipelines-edit, also create and the rest, into kubeflow-edit, which
#: kubeflow-admin aggregates). Any other role grants nothing here.
_READ = ("get", "list")
_WRITE = (*_READ, "create", "delete", "archive", "unarchive", "retry", "terminate")
ROLE_VERBS = {"kubeflow-view": _READ, "kubeflow-edit": _WRITE, "kubeflow-admin": _WRITE}


#: PipelineSpec's fields (api/v2alpha1/pipeline_spec.proto of KFP 2.3.0), JSON names.
PIPELINE_SPEC_FIELDS = {"pipelineInfo", "deploymentSpec", "sdkVersion", "schemaVersion", "components", "root",
                        "defaultPipelineRoot"}  # fmt: skip
NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def pipeline_problem(spec: Any) -> str | None:
    """What the api-server refuses in a run's pipeline spec (backend/src/apiserver/template/v2_template.go of 2.3.0,
    New: protojson.Unmarshal into PipelineSpec, which refuses an unknown field; schema version 2.1.0 only; a name;
    a root component), or None. The executors (deploymentSpec, a Struct) are not checked there either."""
    if not isinstance(spec, dict):
        return "cannot convert v2 pipeline spec to json format"
    if "pipeline_spec" in spec and "platform_spec" in spec:  # the SDK's two-document package
        spec = spec["pipeline_spec"]
    unknown = sorted(set(spec) - PIPELINE_SPEC_FIELDS)
    if unknown:
        return f'invalid v2 pipeline spec: proto: unknown field "{unknown[0]}"'
    if spec.get("schemaVersion") != "2.1.0":
        return f"KFP only supports schema version 2.1.0, but the pipeline spec has version {spec.get('schemaVersion')}"
    name = str((spec.get("pipelineInfo") or {}).get("name") or "")
    if not name:
        return "invalid v2 pipeline spec: name is empty"
    if not NAME.match(name):
        return "invalid v2 pipeline spec: name should consist of lower case alphanumeric characters, '-' or '.'"
    if not spec.get("root"):
        return "invalid v2 pipeline spec: root component is empty"
    return None


def gpus_asked(spec: dict[str, Any]) -> int:
    """The most `nvidia.com/gpu` one executor's container asks for (PipelineContainerSpec.resources.accelerator:
    `resourceType`/`resourceCount` from KFP SDK 2.x, `type`/`count` before)."""
    spec = spec.get("pipeline_spec", spec)
    most = 0
    for executor in ((spec.get("deploymentSpec") or {}).get("executors") or {}).values():
        accelerator = (((executor.get("container") or {}).get("resources") or {}).get("accelerator")) or {}
        kind = accelerator.get("resourceType") or accelerator.get("type")
        if kind == GPU:
            most = max(most, int(accelerator.get("resourceCount") or accelerator.get("count") or 0))
    return most


def workflow_gpus(workflow: dict[str, Any]) -> int:
    """The most `nvidia.com/gpu` one template's container limits ask for (kfp 1.x `set_gpu_limit`)."""
    templates = (workflow.get("spec") or {}).get("templates") or []
    limits = [((t.get("container") or {}).get("resources") or {}).get("limits") or {} for t in templates]
    return max((int(limit.get(GPU, 0) or 0) for limit in limits), default=0)


def display_name_filter(raw: str | None) -> str | None:
    """The display name a filter asks for; None for no filter. Other filters are refused, not ignored."""
    if not raw:
        return None
    try:
        predicates = json.loads(raw).get("predicates") or []
    except (ValueError, AttributeError):
        raise ApiError(INVALID_ARGUMENT, "Failed to create list options: invalid filter") from None
    names = []
    for predicate in predicates:
        value = predicate.get("string_value", predicate.get("stringValue"))
        operation = predicate.get("operation", predicate.get("op"))  # filter.proto: v2beta1 `operation`, v1 `op`
        if predicate.get("key") not in ("display_name", "name") or operation not in EQUALS or value is None:
            raise ApiError(INVALID_ARGUMENT, f"the fake api-server supports only display_name EQUALS: {predicate}")
        names.append(str(value))
    return names[0] if len(names) == 1 else None


class KfpApi:
    """One api-server's state; each call says which API versions the api-server's image serves (KFP 1.x:
    v1beta1; 2.x: both)."""

    def __init__(self, cluster: Cluster, store: Path | None = None) -> None:
        self.cluster = cluster
        self.runs: dict[str, Run] = {}
        self.experiments: dict[str, Experiment] = {}
        self.lock = threading.Lock()
        #: Where runs and experiments outlive this process, as the real ones outlive the api-server in its MySQL
        #: (every forward to the gateway is a new process); None: this process's memory only.
        self.store = store

    @contextlib.contextmanager
    def stored(self) -> Iterator[None]:
        """The state loaded from the store and written back, under a lock other processes respect."""
        with self.lock:
            if self.store is None:
                yield
                return
            self.store.parent.mkdir(parents=True, exist_ok=True)
            with open(self.store.with_suffix(".lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                data = json.loads(self.store.read_text()) if self.store.exists() else {}
                self.runs = {k: Run(**v) for k, v in (data.get("runs") or {}).items()}
                self.experiments = {k: Experiment(**v) for k, v in (data.get("experiments") or {}).items()}
                try:
                    yield
                finally:
                    state = {"runs": {k: asdict(v) for k, v in self.runs.items()},
                             "experiments": {k: asdict(v) for k, v in self.experiments.items()}}  # fmt: skip
                    self.store.write_text(json.dumps(state))

    # -- entry -----------------------------------------------------------------------------------------------

    def handle(self, call: Call, serves: tuple[str, ...] = ("v1beta1", "v2beta1")) -> Answer:
        parts = call.path.strip("/").split("/")
        try:
            if len(parts) < 3 or parts[0] != "apis" or parts[1] not in serves:
                raise ApiError(NOT_FOUND, "Not Found")
            version, collection, rest = parts[1], parts[2], parts[3:]
            user = self.identity(call)
            route = (version, collection, call.method, len(rest))
            handlers: dict[tuple[str, str, str, int], Callable[[], dict[str, Any]]] = {
                ("v2beta1", "experiments", "GET", 0): lambda: self.list_experiments(user, call, version),
                ("v2beta1", "experiments", "POST", 0): lambda: self.create_experiment(
                    user, known_fields(call.json(), EXPERIMENT_FIELDS, V2 + "Experiment")
                ),
                ("v2beta1", "experiments", "GET", 1): lambda: self.v2_experiment(self.experiment(user, rest[0])),
                ("v2beta1", "runs", "GET", 0): lambda: self.list_runs_v2(user, call),
                ("v2beta1", "runs", "POST", 0): lambda: self.create_run(
                    user, known_fields(call.json(), RUN_FIELDS, V2 + "Run")
                ),
                ("v2beta1", "runs", "GET", 1): lambda: self.v2_run(self.read_run(user, rest[0])),
                ("v1beta1", "experiments", "GET", 0): lambda: self.list_experiments(user, call, version),
                ("v1beta1", "experiments", "POST", 0): lambda: self.v1_experiment(
                    self.experiment(user, self.create_experiment_v1(user, call.json())["experiment_id"])
                ),
                ("v1beta1", "runs", "GET", 0): lambda: self.list_runs_v1(user, call),
                ("v1beta1", "runs", "POST", 0): lambda: {"run": self.v1_run(self.create_run_v1(user, call.json()))},
                ("v1beta1", "runs", "GET", 1): lambda: {"run": self.v1_run(self.read_run(user, rest[0]))},
            }
            if route not in handlers:
                raise ApiError(NOT_FOUND, "Not Found")
            with self.stored():
                return Answer(200, handlers[route]())
        except ApiError as error:
            body: dict[str, Any] = {"code": error.code, "message": error.message, "details": []}
            if "v2beta1" not in serves:  # grpc-gateway v1 (KFP 1.x) also sends `error`
                body["error"] = error.message
            return Answer(HTTP_STATUS[error.code], body)

    def identity(self, call: Call) -> str:
        user = next((value for name, value in call.headers.items() if name.lower() == USERID_HEADER), "")
        if not user:
            raise ApiError(
                UNAUTHENTICATED,
                "Failed to check authorization. User identity is empty in the request header: "
                "Request header error: there is no user identity header.",
            )
        return user

    def authorize(self, user: str, namespace: str, verb: str, resource: str) -> None:
        if not namespace:
            raise ApiError(INVALID_ARGUMENT, "A run cannot have an empty namespace in multi-user mode")
        if not self.cluster.authorized(user, namespace, verb):
            raise ApiError(
                PERMISSION_DENIED,
                f"Check if you have access to namespace {namespace}: PermissionDenied: User '{user}' is not "
                f"authorized with reason:  (request: &ResourceAttributes{{Namespace:{namespace},Verb:{verb},"
                f"Group:pipelines.kubeflow.org,Version:v1beta1,Resource:{resource},}})",
            )

    # -- experiments -----------------------------------------------------------------------------------------

    def experiment(self, user: str, experiment_id: str) -> Experiment:
        experiment = self.experiments.get(experiment_id)
        if experiment is None:
            raise ApiError(NOT_FOUND, f"Experiment {experiment_id} not found")
        self.authorize(user, experiment.namespace, "get", "experiments")
        return experiment

    def list_experiments(self, user: str, call: Call, version: str) -> dict[str, Any]:
        if version == "v2beta1":
            namespace = call.query.get("namespace", "")
        else:
            namespace = call.query.get("resource_reference_key.id", "")
            if call.query.get("resource_reference_key.type") != "NAMESPACE":
                raise ApiError(INVALID_ARGUMENT, "Invalid resource references for experiment. Expect namespace type")
        self.authorize(user, namespace, "list", "experiments")
        name = display_name_filter(call.query.get("filter"))
        found = [e for e in self.experiments.values() if e.namespace == namespace and name in (None, e.display_name)]
        render = self.v2_experiment if version == "v2beta1" else self.v1_experiment
        listed = [render(e) for e in found]
        return {"experiments": listed, "total_size": len(listed)} if listed else {}

    def create_experiment(self, user: str, body: Any) -> dict[str, Any]:
        name, namespace = str(body.get("display_name") or ""), str(body.get("namespace") or "")
        if not name:
            raise ApiError(INVALID_ARGUMENT, "Experiment name is empty. Please specify a valid experiment name")
        self.authorize(user, namespace, "create", "experiments")
        if any(e.display_name == name and e.namespace == namespace for e in self.experiments.values()):
            raise ApiError(INVALID_ARGUMENT, f"Failed to create a new experiment: the name {name} already exists")
        experiment = Experiment(str(uuid.uuid4()), name, namespace, str(body.get("description") or ""), now())
        self.experiments[experiment.experiment_id] = experiment
        return self.v2_experiment(experiment)

    def create_experiment_v1(self, user: str, body: Any) -> dict[str, Any]:
        references = body.get("resource_references") or []
        namespace = next(
            (r["key"].get("id", "") for r in references if (r.get("key") or {}).get("type") == "NAMESPACE"), ""
        )
        return self.create_experiment(user, {**body, "display_name": body.get("name"), "namespace": namespace})

    @staticmethod
    def v2_experiment(e: Experiment) -> dict[str, Any]:
        return {"experiment_id": e.experiment_id, "display_name": e.display_name, "description": e.description,
                "created_at": e.created_at, "namespace": e.namespace, "storage_state": "AVAILABLE"}  # fmt: skip

    @staticmethod
    def v1_experiment(e: Experiment) -> dict[str, Any]:
        reference = {"key": {"type": "NAMESPACE", "id": e.namespace}, "relationship": "OWNER"}
        return {"id": e.experiment_id, "name": e.display_name, "description": e.description,
                "created_at": e.created_at, "resource_references": [reference],
                "storage_state": "STORAGESTATE_AVAILABLE"}  # fmt: skip

    # -- runs ------------------------------------------------------------------------------------------------

    def create_run(self, user: str, body: Any) -> dict[str, Any]:
        """RunServer.CreateRun (v2beta1): name, experiment (hence namespace), authorization, the spec."""
        if not isinstance(body, dict) or not body.get("display_name"):
            raise ApiError(INVALID_ARGUMENT, "The run name is empty. Please specify a valid name")
        experiment_id = str(body.get("experiment_id") or "")
        experiment = self.owning_experiment(user, experiment_id, "Experiment id can not be empty in multi-user mode")
        spec = body.get("pipeline_spec")
        problem = pipeline_problem(spec)
        if problem is not None:
            raise ApiError(INVALID_ARGUMENT, f"Failed to create a run: Invalid input error: {problem}")
        run = Run(
            run_id=str(uuid.uuid4()),
            display_name=str(body["display_name"]),
            experiment_id=experiment_id,
            namespace=experiment.namespace,
            created_at=now(),
            pipeline_spec=spec,
            runtime_config=body.get("runtime_config") or {},
            gpus=gpus_asked(spec),
        )
        self.start(run)
        return self.v2_run(run)

    def owning_experiment(self, user: str, experiment_id: str, missing: str) -> Experiment:
        """The experiment a new run goes into (its namespace is the run's), the user authorized to create runs."""
        if not experiment_id:
            raise ApiError(INVALID_ARGUMENT, missing)
        experiment = self.experiments.get(experiment_id)
        if experiment is None:
            raise ApiError(NOT_FOUND, f"Failed to fetch namespace for experiment {experiment_id}")
        self.authorize(user, experiment.namespace, "create", "runs")
        return experiment

    def start(self, run: Run) -> None:
        """Keep a new run, with the states it will go through."""
        if run.gpus and self.cluster.gpus() < run.gpus:
            run.states = ["PENDING", "RUNNING"]  # its pod stays Pending (Insufficient nvidia.com/gpu)
        elif os.environ.get("FAKE_KFP_RUN_RESULT") == "failed":
            run.states = ["PENDING", "RUNNING", "FAILED"]
        self.runs[run.run_id] = run

    def create_run_v1(self, user: str, body: Any) -> Run:
        """RunServer.CreateRun of 1.7.0 (backend/src/apiserver/server/run_server.go validateCreateRunRequest, util.go
        ValidatePipelineSpecAndResourceReferences, resource_manager.go CreateRun): a name, one way to name the
        pipeline, an Argo Workflow, an EXPERIMENT owner reference in multi-user mode (its namespace is the run's).
        The checks are those; the words of the refusals other than the name's are the fake's own."""
        if not isinstance(body, dict) or not body.get("name"):
            raise ApiError(INVALID_ARGUMENT, "The run name is empty. Please specify a valid name.")
        spec = body.get("pipeline_spec") or {}
        manifest = spec.get("workflow_manifest")
        if not manifest or spec.get("pipeline_id") or spec.get("pipeline_manifest"):
            raise ApiError(INVALID_ARGUMENT, "Please specify a pipeline by a workflow manifest or a pipeline id")
        try:
            workflow = json.loads(manifest)
        except ValueError:
            workflow = None
        if (
            not isinstance(workflow, dict)
            or workflow.get("kind") != "Workflow"
            or not str(workflow.get("apiVersion", "")).startswith("argoproj.io/")
        ):
            raise ApiError(INVALID_ARGUMENT, "Invalid argo workflow format. Workflow: " + str(manifest)[:80])
        references = body.get("resource_references") or []
        experiment_id = next(
            (r["key"].get("id", "") for r in references
             if (r.get("key") or {}).get("type") == "EXPERIMENT" and r.get("relationship") == "OWNER"), "",
        )  # fmt: skip
        missing = "Failed to get namespace from resource references: experiment is required"
        experiment = self.owning_experiment(user, experiment_id, missing)
        run = Run(
            run_id=str(uuid.uuid4()), display_name=str(body["name"]), experiment_id=experiment_id,
            namespace=experiment.namespace, created_at=now(), pipeline_spec={}, runtime_config={},
            gpus=workflow_gpus(workflow), workflow_manifest=manifest,
        )  # fmt: skip
        self.start(run)
        return run

    def read_run(self, user: str, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise ApiError(NOT_FOUND, f"Run {run_id} not found")
        self.authorize(user, run.namespace, "get", "runs")
        run.reads += 1
        if run.state in ("SUCCEEDED", "FAILED") and run.finished_at == EPOCH:  # a second after it was created at least
            created = calendar.timegm(time.strptime(run.created_at, "%Y-%m-%dT%H:%M:%SZ"))
            run.finished_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(max(time.time(), created + 1)))
        return run

    def list_runs_v2(self, user: str, call: Call) -> dict[str, Any]:
        """BaseRunServer.listRuns: by experiment (its namespace) or by namespace, authorized on the namespace."""
        experiment_id = call.query.get("experiment_id", "")
        namespace = call.query.get("namespace", "")
        if experiment_id:
            namespace = self.experiment(user, experiment_id).namespace
        self.authorize(user, namespace, "list", "runs")
        runs = self.runs_in(namespace, experiment_id, display_name_filter(call.query.get("filter")))
        listed = [self.v2_run(r) for r in runs]
        return {"runs": listed, "total_size": len(listed)} if listed else {}

    def runs_in(self, namespace: str, experiment_id: str, name: str | None) -> list[Any]:
        """The runs a list returns: of the namespace, of the experiment when one is named, of the display name."""
        return [
            r for r in self.runs.values()
            if r.namespace == namespace and experiment_id in ("", r.experiment_id) and name in (None, r.display_name)
        ]  # fmt: skip

    def list_runs_v1(self, user: str, call: Call) -> dict[str, Any]:
        """RunServer.ListRuns of 1.7.0: a NAMESPACE or EXPERIMENT resource reference is required."""
        kind, key = call.query.get("resource_reference_key.type", ""), call.query.get("resource_reference_key.id", "")
        if not kind:
            raise ApiError(INVALID_ARGUMENT, "ListRuns must filter by resource reference in multi-user mode.")
        if kind == "NAMESPACE":
            if not key:
                raise ApiError(INVALID_ARGUMENT, "Invalid resource references for ListRuns. Namespace is empty.")
            namespace, experiment_id = key, ""
        elif kind == "EXPERIMENT":
            namespace, experiment_id = self.experiment(user, key).namespace, key
        else:
            raise ApiError(INVALID_ARGUMENT, f"Invalid resource references for ListRuns: {kind}")
        self.authorize(user, namespace, "list", "runs")
        runs = self.runs_in(namespace, experiment_id, display_name_filter(call.query.get("filter")))
        listed = [self.v1_run(r) for r in runs]
        return {"runs": listed, "total_size": len(listed)} if listed else {}

    @staticmethod
    def v2_run(run: Run) -> dict[str, Any]:
        """run.proto Run (v2beta1)."""
        seen = run.states[: min(run.reads, len(run.states) - 1) + 1]
        history = [{"update_time": run.created_at, "state": state} for state in seen]
        return {
            "experiment_id": run.experiment_id,
            "run_id": run.run_id,
            "display_name": run.display_name,
            "storage_state": "AVAILABLE",
            "pipeline_spec": run.pipeline_spec,
            "runtime_config": run.runtime_config,
            "service_account": "default-editor",
            "created_at": run.created_at,
            "scheduled_at": run.created_at,
            # server/api_converter.go toApiRun: always a Timestamp, {Seconds: 0} until the run finishes (upstream's
            # CI waits for `finished_at > created_at`: community-distribution tests/gh-actions/
            # run_and_wait_kubeflow_pipeline.py)
            "finished_at": run.finished_at,
            "state": run.state,
            "state_history": history,
        }

    @staticmethod
    def v1_run(run: Run) -> dict[str, Any]:
        """run.proto Run of 1.7.0 (v1beta1): `id`, `name`, the Argo phase as `status`, references to the owner."""
        return {
            "id": run.run_id,
            "name": run.display_name,
            "storage_state": "STORAGESTATE_AVAILABLE",
            "pipeline_spec": {"workflow_manifest": run.workflow_manifest}
            if run.workflow_manifest
            else {"pipeline_manifest": json.dumps(run.pipeline_spec)},
            "resource_references": [
                {"key": {"type": "EXPERIMENT", "id": run.experiment_id}, "relationship": "OWNER"},
                {"key": {"type": "NAMESPACE", "id": run.namespace}, "relationship": "OWNER"},
            ],
            "service_account": "default-editor",
            "created_at": run.created_at,
            "scheduled_at": run.created_at,
            "status": V1_STATUS[run.state],
        }


def parse_query(raw: str) -> dict[str, str]:
    return {key: values[-1] for key, values in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}


class StandaloneServer:
    """The API on its own HTTP port for tests without a cluster: it plays the gateway's one part here, the
    `kubeflow-userid` header (`user`, or none), and serves under `/pipeline` as the gateway does. Use as a context
    manager; `url` is the gateway-like base (`kfp.Client(host=url + "/pipeline")`)."""

    def __init__(self, api: KfpApi, user: str | None, serves: tuple[str, ...] = ("v1beta1", "v2beta1")) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def answer(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != USERID_HEADER}
                if outer.user:
                    headers[USERID_HEADER] = outer.user
                path = url.path.removeprefix("/pipeline")
                answer = outer.api.handle(Call(self.command, path, parse_query(url.query), headers, body), serves)
                data = answer.text.encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = answer

        self.api, self.user = api, user
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StandaloneServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
