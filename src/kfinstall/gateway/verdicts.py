"""Pure verdicts: the answers of the gateway turned into the rows `kfinstall verify` shows (✓/✗/–, reason, hint).

The endpoints and their answers, by source:
- the dashboard's `GET /api/workgroup/env-info` (kubeflow/kubeflow components/centraldashboard app/api_workgroup.ts
  `getProfileAwareEnv`): `{"user", "platform", "namespaces": [{"user", "namespace", "role"}], "isClusterAdmin"}`,
  the namespaces being the Profiles' bindings the user has (`owner` for the Profile's owner);
- Pipelines' `GET /pipeline/apis/{v1beta1,v2beta1}/healthz` (kubeflow/pipelines backend/api/*/healthz.proto):
  200 with `{"commit_sha", "tag_name", "multi_user"}` when the API server answers;
- the notebooks (`/jupyter/`) and Katib (`/katib/`) web apps: their page, 200.
Behind the gateway, Istio's Envoy answers 404 for a path no VirtualService routes (response flag NR) and 503
`no healthy upstream` when the Service has no ready endpoint (envoyproxy/envoy, router filter).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

State = Literal["pass", "fail", "skip"]

STATUS_HINT = "see `kfinstall status`"


@dataclass(frozen=True)
class Row:
    check: str
    state: State
    reason: str
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.state != "fail"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def passed(check: str, reason: str) -> Row:
    return Row(check, "pass", reason)


def failed(check: str, reason: str, hint: str | None = STATUS_HINT) -> Row:
    return Row(check, "fail", reason, hint)


def not_installed(check: str, component: str) -> Row:
    return Row(check, "skip", f"not installed (no {component} in this install)", None)


def answer(status: int) -> str:
    """What an HTTP status means at the gateway, in words."""
    if status == 404:
        return "404: no route (not installed, or its VirtualService is missing)"
    if status == 503:
        return "503: no ready pod behind it"
    if status in (401, 403):
        return f"{status}: the session was not accepted"
    return f"HTTP {status}"


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def dashboard(status: int, body: str, email: str, namespace: str) -> list[Row]:
    """The dashboard row and the user-namespace row from env-info's answer."""
    if status != 200:
        return [
            failed("dashboard", f"/api/workgroup/env-info answered {answer(status)}"),
            failed("user namespace", "the dashboard did not say", STATUS_HINT),
        ]
    data = _json(body)
    if not isinstance(data, dict):
        return [failed("dashboard", "/api/workgroup/env-info did not answer JSON"), failed("user namespace", "unknown")]
    user = data.get("user")
    rows = [passed("dashboard", f"answers for {user}")]
    if user != email:
        rows[0] = failed("dashboard", f"answers for {user!r}, not {email}", "log in as the installed user")
    bindings = [b for b in data.get("namespaces") or [] if isinstance(b, dict)]
    mine = [b for b in bindings if b.get("namespace") == namespace]
    if not mine:
        known = ", ".join(str(b.get("namespace")) for b in bindings) or "none"
        rows.append(failed(
            "user namespace",
            f"the dashboard knows no namespace {namespace} for {email} (it lists: {known})",
            f"is the Profile there and its namespace made? `kubectl get profile {namespace}`, "
            f"`kubectl get namespace {namespace}`; `kfinstall up` re-applies user-namespace",
        ))  # fmt: skip
    elif mine[0].get("role") != "owner":
        rows.append(failed("user namespace", f"{email} is {mine[0].get('role')!r} of {namespace}, not its owner",
                           f"the Profile's spec.owner.name must be {email}"))  # fmt: skip
    else:
        rows.append(passed("user namespace", f"{namespace}, owned by {email}"))
    return rows


def pipelines(status: int, body: str, api: str) -> Row:
    path = f"/pipeline/apis/{api}/healthz"
    if status != 200:
        return failed("pipelines API", f"{path} answered {answer(status)}")
    data = _json(body)
    tag = data.get("tag_name") if isinstance(data, dict) else None
    return passed("pipelines API", f"{path} healthy" + (f" (KFP {tag})" if tag else ""))


def web_app(check: str, path: str, status: int) -> Row:
    if status != 200:
        return failed(check, f"{path} answered {answer(status)}")
    return passed(check, f"{path} answers")
