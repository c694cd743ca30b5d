"""Which `kubectl apply` failures are worth retrying.

Installing Kubeflow races against the cluster: CRDs are not Established yet, webhooks have no serving pod,
namespaces arrive later in the same stream, the apiserver restarts. Those failures heal by themselves and the
same apply succeeds a little later. Anything else (an invalid object, a forbidden request) will fail the same
way forever and must stop the install at once with kubectl's own message. This module decides which is which,
from kubectl's output alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: (reason shown to the user, pattern found in kubectl's output). Order matters: the first match names the reason.
RETRYABLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        ("CRD not established yet", r"no matches for kind|ensure CRDs are installed first|unable to recognize"),
        ("webhook not serving yet", r"failed calling webhook|failed to call webhook"),
        ("webhook not serving yet", r"no endpoints available for service"),
        ("namespace not created yet", r'namespaces? "[^"]+" not found'),
        ("namespace still terminating", r"because it is being terminated"),
        ("API server unavailable", r"the server is currently unable to handle the request"),
        ("API server unavailable", r"connection refused|connection reset by peer|broken pipe"),
        ("API server unavailable", r"The connection to the server \S+ was refused"),
        ("API server unavailable", r"Unable to connect to the server|server sent GOAWAY|EOF$"),
        # the API server went away mid-response: klog's `E1129 ... request.go:...] "Unexpected error when reading
        # response body" err="unexpected EOF"`
        ("API server unavailable", r"error when reading response body|unexpected EOF"),
        ("API server unavailable", r"etcdserver: (request timed out|leader changed)"),
        ("API server unavailable", r"Error from server \((ServiceUnavailable|InternalError|Timeout|TooManyRequests)\)"),
        ("timed out", r"timed out|timeout|i/o timeout|context deadline exceeded|TLS handshake"),
        ("object changed meanwhile", r"please apply your changes to the latest version and try again"),
    )
)

#: kubectl starts every failure of a single object on a line like these; anything else is context.
_ERROR_LINE = re.compile(
    r"^(error:|Error from server|Error:|resource mapping not found|unable to recognize|The |failed to "
    r"|Unable to connect to the server|error when |W\d{4} )",
)


@dataclass(frozen=True)
class ApplyFailure:
    """A classified failed apply: `retryable`, the short `reason`, and kubectl's error lines for the user."""

    retryable: bool
    reason: str
    errors: tuple[str, ...]

    @property
    def first_error(self) -> str:
        return self.errors[0] if self.errors else ""


def error_lines(output: str) -> list[str]:
    """The lines of kubectl output that report a failure (warnings and progress lines dropped).

    kubectl prints one error per failed object and may continue with the next line of context (for example
    `ensure CRDs are installed first`); those continuation lines are joined to their error.
    """
    errors: list[str] = []
    for raw in output.splitlines():
        line = raw.strip()
        if not line or line.startswith(("Warning:", "W0", "I0")) or _is_success_line(line):
            continue
        if _ERROR_LINE.match(line) or not errors:
            errors.append(line)
        else:
            errors[-1] = f"{errors[-1]} {line}"
    return errors


def _is_success_line(line: str) -> bool:
    """`configmap/x serverside-applied`, `namespace/y created` ... lines say what went well."""
    return bool(re.match(r"^[\w.-]+(/[\w.:-]+)? (serverside-applied|created|configured|unchanged)$", line))


#: Exit codes of a kubectl killed by a signal (128 + SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGTERM), as shells report.
_KILLED_EXIT_CODES = frozenset({129, 130, 137, 141, 143})
#: What a shell wrapper around kubectl prints when its child is killed (`Killed`, `Terminated`, ...).
_SHELL_KILL_NOTICE = re.compile(r"^(.*: )?(\d+: )?(Killed|Terminated|Hangup|Interrupt|Broken pipe)\b.*$")


def classify_apply_failure(output: str, exit_code: int | None = None) -> ApplyFailure:
    """Classify the output of a failed `kubectl apply`.

    Retryable only when every error in it is retryable: one invalid object among a hundred webhook refusals
    still needs the user, and retrying would only hide it behind a timeout. A kubectl killed by a signal (the
    OOM killer, a suspended laptop) says nothing about the objects: server-side apply is idempotent, so the same
    apply is retried.
    """
    killed = exit_code is not None and (exit_code in _KILLED_EXIT_CODES or exit_code < 0)
    if killed and not [line for line in error_lines(output) if not _SHELL_KILL_NOTICE.match(line)]:
        return ApplyFailure(True, "kubectl was killed", (f"kubectl was killed (exit code {exit_code})",))
    errors = error_lines(output) or [output.strip() or "kubectl apply failed without a message"]
    reasons = [_retry_reason(line) for line in errors]
    fatal = [line for line, reason in zip(errors, reasons, strict=True) if reason is None]
    if fatal:
        return ApplyFailure(False, "rejected by the cluster", tuple(fatal))
    return ApplyFailure(True, next(r for r in reasons if r), tuple(errors))


def _retry_reason(line: str) -> str | None:
    for reason, pattern in RETRYABLE_PATTERNS:
        if pattern.search(line):
            return reason
    return None
