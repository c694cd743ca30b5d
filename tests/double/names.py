"""`metadata.name` validation of every kind, as kube-apiserver and apiextensions-apiserver do it on create.

Each kind's strategy validates ObjectMeta with a name function (`ValidateObjectMeta(meta, namespaced, nameFn, path)`,
kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go); every message the function
returns is one `metadata.name: Invalid value` error, and the errors become a 422 `Invalid` Status
(staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go `NewInvalid`). The name functions used here:

- most built-in kinds and **every custom resource**: `NameIsDNSSubdomain` (pkg/apis/core/validation/validation.go,
  pkg/apis/apps/validation/validation.go ...; for custom resources
  staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/validator.go `Validate`);
- Namespace: `ValidateNamespaceName` = `NameIsDNSLabel` (pkg/apis/core/validation/validation.go);
- Service: `ValidateServiceName` = `NameIsDNS1035Label` (pkg/apis/core/validation/validation.go);
- Role, ClusterRole, RoleBinding, ClusterRoleBinding: `ValidateRBACName` = `path.IsValidPathSegmentName`
  (pkg/apis/rbac/validation/validation.go; staging/src/k8s.io/apimachinery/pkg/api/validation/path/name.go), so
  `system:aggregate-to-edit` or even `$(x)` are valid role names;
- CustomResourceDefinition: `NameIsDNSSubdomain` plus `must be spec.names.plural+"."+spec.group`
  (staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation/validation.go).

Not simulated, because no pinned release comes near them: PriorityClass names starting `system-` are reserved
(pkg/apis/scheduling/validation/validation.go; Argo's is `workflow-controller`), a CSIDriver name is at most 63
characters (pkg/apis/storage/validation/validation.go), an APIService is named `version.group` (kube-aggregator).

The message texts are those of staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go (`IsDNS1123Label`,
`IsDNS1123Subdomain`, `IsDNS1035Label`, `RegexError`, `MaxLenError`). Before Kubernetes 1.20 the RFC 1123 errors
began "a DNS-1123 subdomain/label must ..." (kubernetes/kubernetes#94182, merged for 1.20, made it "a lowercase
RFC 1123 ..."); the double words them by its `k8s_version`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.double import errors

Obj = dict[str, Any]

_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + "(\\." + _LABEL_FMT + ")*"
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_LABEL = re.compile(_LABEL_FMT)
_SUBDOMAIN = re.compile(_SUBDOMAIN_FMT)
_DNS1035 = re.compile(_DNS1035_FMT)


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    """`RegexError` of apimachinery's util/validation (its double space before `or` included)."""
    if examples:
        message += " (e.g. " + ",  or ".join(f"'{e}'" for e in examples) + ", "
    else:
        message += " ("
    return message + f"regex used for validation is '{fmt}')"


def _max_len(limit: int) -> str:
    return f"must be no more than {limit} characters"


def _rfc1123(what: str, minor: int) -> str:
    return f"a DNS-1123 {what}" if minor < 20 else f"a lowercase RFC 1123 {what}"


def dns1123_subdomain(name: str, minor: int = 99) -> list[str]:
    """`IsDNS1123Subdomain`: at most 253 characters of dot-separated RFC 1123 labels."""
    found = [_max_len(253)] if len(name) > 253 else []
    if not _SUBDOMAIN.fullmatch(name):
        found.append(
            _regex_error(
                _rfc1123("subdomain", minor) + " must consist of lower case alphanumeric characters, '-' or '.', and "
                "must start and end with an alphanumeric character",
                _SUBDOMAIN_FMT,
                "example.com",
            )
        )
    return found


def dns1123_label(name: str, minor: int = 99) -> list[str]:
    """`IsDNS1123Label`: at most 63 characters; a valid subdomain with dots gets its own message."""
    found = [_max_len(63)] if len(name) > 63 else []
    if not _LABEL.fullmatch(name):
        if _SUBDOMAIN.fullmatch(name):
            found.append("must not contain dots")
        else:
            found.append(
                _regex_error(
                    _rfc1123("label", minor) + " must consist of lower case alphanumeric characters or '-', and must "
                    "start and end with an alphanumeric character",
                    _LABEL_FMT,
                    "my-name",
                    "123-abc",
                )
            )
    return found


def dns1035_label(name: str, minor: int = 99) -> list[str]:
    """`IsDNS1035Label`: like an RFC 1123 label, but starting with a letter."""
    found = [_max_len(63)] if len(name) > 63 else []
    if not _DNS1035.fullmatch(name):
        found.append(
            _regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
                "character, and end with an alphanumeric character",
                _DNS1035_FMT,
                "my-name",
                "abc-123",
            )
        )
    return found


def path_segment(name: str, minor: int = 99) -> list[str]:
    """`IsValidPathSegmentName`: not `.` or `..`, no `/` or `%`."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def _crd_name(name: str, body: Obj, minor: int) -> list[str]:
    spec = body.get("spec") or {}
    found = dns1123_subdomain(name, minor)
    if name != f"{(spec.get('names') or {}).get('plural', '')}.{spec.get('group', '')}":
        found.append('must be spec.names.plural+"."+spec.group')
    return found


RBAC = "rbac.authorization.k8s.io"
#: (group, kind) → the name function of its strategy; every other kind, custom resources included, is a subdomain.
_RULES: dict[tuple[str, str], Callable[[str, Obj, int], list[str]]] = {
    ("", "Namespace"): lambda name, _, minor: dns1123_label(name, minor),
    ("", "Service"): lambda name, _, minor: dns1035_label(name, minor),
    **{
        (RBAC, kind): (lambda name, _, minor: path_segment(name, minor))
        for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
    },
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd_name,
}


def name_errors(group: str, kind: str, name: str, body: Obj, minor: int = 99) -> list[str]:
    """The messages of the name function of `group`/`kind` for `name` on Kubernetes 1.`minor` (empty: valid)."""
    rule = _RULES.get((group, kind))
    return rule(name, body, minor) if rule else dns1123_subdomain(name, minor)


def validate(group: str, kind: str, body: Obj, minor: int = 99) -> None:
    """Raise the apiserver's 422 Invalid Status when `body`'s metadata.name is invalid for its kind."""
    name = str((body.get("metadata") or {}).get("name") or "")
    if not name:
        return  # generateName: the server makes a valid name
    found = name_errors(group, kind, name, body, minor)
    if not found:
        return
    causes = [
        {"reason": "FieldValueInvalid", "message": f'Invalid value: "{name}": {msg}', "field": "metadata.name"}
        for msg in found
    ]
    lines = [f"metadata.name: {cause['message']}" for cause in causes]
    aggregate = lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
    qualified = f"{kind}.{group}" if group else kind
    details: Obj = {"name": name, **({"group": group} if group else {}), "kind": kind, "causes": causes}
    raise errors.ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {aggregate}', details)
