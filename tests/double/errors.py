"""API errors with the apiserver's own Status bodies (reason, code, details) and message texts."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the double answers with a `Status` object, exactly as kube-apiserver would."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:  # metav1.StatusReasonUnknown is "", omitted from the JSON (apimachinery types.go omitempty)
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(group_resource: str, name: str) -> dict[str, Any]:
    plural, _, group = group_resource.partition(".")
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def not_found(group_resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{group_resource} "{name}" not found', _details(group_resource, name))


def already_exists(group_resource: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{group_resource} "{name}" already exists', _details(group_resource, name))


def conflict(group_resource: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {group_resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(group_resource, name),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def unavailable() -> ApiError:
    return ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")


def forbidden_terminating(group_resource: str, name: str, namespace: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{group_resource} "{name}" is forbidden: unable to create new content in namespace {namespace} '
        "because it is being terminated",
        {
            **_details(group_resource, name),
            "causes": [
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ],
        },
    )
