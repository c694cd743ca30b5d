"""Fields the API server refuses to change on an update, with its answer: 422 `Invalid`.

kubectl prints it as `The Deployment "minio" is invalid: spec.selector: Invalid value: ...: field is immutable`, the
failure upstream's upgrade notes tell users to fix by deleting the object and applying again
(kubeflow/community-distribution README, "Upgrading and Extending"). Sources (kubernetes/kubernetes):
- Deployment, ReplicaSet, DaemonSet `spec.selector` in apps/v1: pkg/registry/apps/{deployment,replicaset,daemonset}/
  strategy.go `ValidateUpdate` -> `apivalidation.ValidateImmutableField` (apimachinery
  pkg/api/validation/generic.go: `FieldImmutableErrorMsg = "field is immutable"`);
- StatefulSet: pkg/apis/apps/validation/validation.go `ValidateStatefulSetUpdate` (a Forbidden on `spec` when a field
  other than replicas, ordinals, template, updateStrategy, persistentVolumeClaimRetentionPolicy, minReadySeconds
  changes);
- RoleBinding, ClusterRoleBinding `roleRef`: pkg/apis/rbac/validation/validation.go `ValidateRoleBindingUpdate`
  ("cannot change roleRef").
The value in the message is the old one as JSON (the apiserver prints Go syntax: `v1.LabelSelector{...}`).
"""

from __future__ import annotations

import json
from typing import Any

from tests.double import errors

Obj = dict[str, Any]

_SELECTOR_KINDS = {("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "DaemonSet")}
_BINDINGS = {("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding")}
#: What ValidateStatefulSetUpdate lets change.
_STATEFULSET_MUTABLE = frozenset(
    {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}
)


def check(group: str, kind: str, current: Obj, new: Obj) -> None:
    """Raise the apiserver's 422 when `new` changes a field of `current` that cannot change."""
    name = str((current.get("metadata") or {}).get("name", ""))
    qualified = f"{kind}.{group}" if group else kind
    spec, old_spec = new.get("spec") or {}, current.get("spec") or {}
    if (group, kind) in _SELECTOR_KINDS and spec.get("selector") != old_spec.get("selector"):
        value = json.dumps(spec.get("selector"), sort_keys=True)
        _invalid(qualified, name, kind, group, "spec.selector", f"Invalid value: {value}: field is immutable")
    if (group, kind) in _BINDINGS and new.get("roleRef") != current.get("roleRef"):
        value = json.dumps(new.get("roleRef"), sort_keys=True)
        _invalid(qualified, name, kind, group, "roleRef", f"Invalid value: {value}: cannot change roleRef")
    if (group, kind) == ("apps", "StatefulSet"):
        fixed = {k: v for k, v in spec.items() if k not in _STATEFULSET_MUTABLE}
        old_fixed = {k: v for k, v in old_spec.items() if k not in _STATEFULSET_MUTABLE}
        if any(fixed.get(k) != old_fixed.get(k) for k in fixed):  # a field the update leaves out keeps its value
            _invalid(qualified, name, kind, group, "spec",
                     "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                     "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
                     "are forbidden")  # fmt: skip


def _invalid(qualified: str, name: str, kind: str, group: str, field: str, message: str) -> None:
    reason = "FieldValueForbidden" if message.startswith("Forbidden") else "FieldValueInvalid"
    details: Obj = {"name": name, **({"group": group} if group else {}), "kind": kind,
                    "causes": [{"reason": reason, "message": message, "field": field}]}  # fmt: skip
    raise errors.ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {field}: {message}', details)
