"""Which `kubectl apply` failures are worth retrying.

Installing Kubeflow races against the cluster: CRDs are not Established yet, webhooks have no serving pod,
namespaces arrive later in the same stream, the apiserver restarts. Those failures heal by themselves and the
same apply succeeds a little later. Anything else (an invalid object, a forbidden request) will fail the same
way forever and must stop the install at once with kubectl's own message. This module decides which is which,
from kubectl's output alone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from kfinstall.runner import TIMEOUT_EXIT_CODE

#: (reason shown to the user, pattern found in kubectl's output). Order matters: the first match names the reason.
#: The patterns are matched against kubectl's text with every quoted string masked (`_matchable`): names, field
#: values and URLs (Go quotes them: `Post "https://...?timeout=10s": ...`) never decide whether to retry.
RETRYABLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        ("CRD not established yet", r"no matches for kind|ensure CRDs are installed first|unable to recognize"),
        # A kind kubectl still knows from its discovery cache (~/.kube/cache, kept for hours) whose CRD was deleted
        # and is applied again, not yet served: apiextensions-apiserver's crdHandler hands a request for a CRD that
        # is not Established to the NotFound handler (kubernetes/kubernetes staging/src/k8s.io/apiextensions-apiserver
        # pkg/apiserver/customresource_handler.go ServeHTTP), whose words these are
        # (apimachinery pkg/api/errors/errors.go NewGenericServerResponse for 404). Seen after `down --keep-cluster`.
        (
            "CRD not established yet",
            r"Error from server \(NotFound\): the server could not find the requested resource",
        ),
        # kubernetes/apiserver pkg/util/webhook/error.go (ErrCallingWebhook) and
        # pkg/admission/plugin/webhook/{mutating,validating}/dispatcher.go: whatever the cause (refused, no
        # endpoints, `context deadline exceeded` while its pod starts), the webhook's server did not answer.
        ("webhook not serving yet", r"failed calling webhook|failed to call webhook"),
        ("webhook not serving yet", r"no endpoints available for service"),
        ("namespace not created yet", r'namespaces? "[^"]+" not found'),
        ("namespace still terminating", r"because it is being terminated"),
        ("API server unavailable", r"the server is currently unable to handle the request"),
        ("API server unavailable", r"connection refused|connection reset by peer|broken pipe"),
        ("API server unavailable", r"The connection to the server \S+ was refused"),
        ("API server unavailable", r"Unable to connect to the server|server sent GOAWAY|EOF$"),
        # the API server went away mid-response: klog's `E1129 ... request.go:...] "Unexpected error when reading
        # response body" err="unexpected EOF"` (kubernetes/client-go rest/request.go)
        ("API server unavailable", r"error when reading response body|unexpected EOF"),
        ("API server unavailable", r"etcdserver: (request timed out|leader changed)"),
        # the Status reason kubectl prints in parentheses (kubernetes/apimachinery pkg/api/errors/errors.go)
        ("API server unavailable", r"Error from server \((ServiceUnavailable|InternalError|TooManyRequests)\)"),
        ("timed out", r"Error from server \((Timeout|ServerTimeout)\)"),
        # The real timeout texts, never the bare word (a field `timeoutSeconds`, a name `idle_timeout`):
        (
            "timed out",
            "|".join(
                (
                    # Go's context.DeadlineExceeded (golang/go src/context/context.go), e.g. a webhook or a
                    # `--request-timeout`: `Get "https://...": context deadline exceeded`
                    r"context deadline exceeded",
                    # golang/go src/net/http/client.go: `(Client.Timeout exceeded while awaiting headers)`,
                    # `(Client.Timeout or context cancellation while reading body)`
                    r"Client\.Timeout (exceeded while awaiting headers|or context cancellation while reading body)",
                    # golang/go src/net/http/transport.go: `net/http: TLS handshake timeout`,
                    # `net/http: timeout awaiting response headers` (http2: the same words)
                    r"TLS handshake timeout",
                    r"(net/http|http2): timeout awaiting response headers",
                    # golang/go src/internal/poll/fd.go DeadlineExceededError: `dial tcp ...: i/o timeout`
                    r"\bi/o timeout\b",
                    # kubernetes/apimachinery pkg/api/errors/errors.go: NewTimeoutError's `Timeout: MESSAGE`
                    # (apiserver pkg/server/filters/timeout.go, pkg/endpoints/handlers/finisher/finisher.go,
                    # pkg/admission/plugin/webhook/*/dispatcher.go: `request did not complete within requested
                    # timeout`, `... within the allotted timeout`) and a 504's generic message
                    r"Timeout: request did not complete within (requested|the allotted) timeout",
                    r"the server was unable to return a response in the time allotted",
                    # NewServerTimeout (reason ServerTimeout, kubernetes/apimachinery pkg/api/errors/errors.go)
                    r"could not be completed at this time, please try again",
                    # kubernetes/apimachinery pkg/util/wait/error.go ErrWaitTimeout
                    r"timed out waiting for the condition",
                )
            ),
        ),
        ("object changed meanwhile", r"please apply your changes to the latest version and try again"),
    )
)

#: kubectl starts every failure of a single object on a line like these; anything else is context.
_ERROR_LINE = re.compile(
    r"^(error:|Error from server|Error:|resource mapping not found|unable to recognize|The |failed to "
    r"|Unable to connect to the server|error when )",
)

#: klog's header, `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg` (kubernetes/klog klog.go `header` and
#: `formatHeader`, internal/buffer/buffer.go `FormatHeader`): L is one of severity.Char "IWEF", the thread id is
#: space-padded to 7 digits, file is a base name (`dir/file` with -add_dir_header). kubectl (client-go) prints its
#: own notices so, e.g. rest/request.go's throttling notice `I1201 09:12:33.456789   48213 request.go:752]
#: "Waited before sending request" delay="1.04s" reason="client-side throttling, not priority and fairness" ...`.
_KLOG = re.compile(
    r"^(?P<severity>[IWEF])(?P<month>\d\d)(?P<day>\d\d) (?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)\.\d{6}"
    r" +\d+ [^\s:\]]+:\d+\](?: (?P<message>.*))?$"
)
#: The longest day of each month (29 in February: klog prints the local date, leap years included).
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: A Go-quoted string (strconv.Quote / `%q`): how kubectl and the API server quote names, values and URLs.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class KlogLine:
    """A klog line: `severity` is I(nfo), W(arning), E(rror) or F(atal); `message` what follows the header."""

    severity: str
    message: str


def parse_klog(line: str) -> KlogLine | None:
    """The klog line `line` is, or None: the header must be exact (a real month, day and time of day)."""
    match = _KLOG.match(line)
    if not match:
        return None
    month, day = int(match["month"]), int(match["day"])
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]):
        return None
    if int(match["hour"]) > 23 or int(match["minute"]) > 59 or int(match["second"]) > 59:
        return None
    return KlogLine(match["severity"], match["message"] or "")


def _is_noise(line: str) -> bool:
    """Warnings and notices that say nothing about whether the apply worked: the API server's `Warning:` lines and
    kubectl's klog info/warning lines (throttling, deprecated flags, config notices), of every month and day."""
    if line.startswith("Warning:"):
        return True
    klog = parse_klog(line)
    return klog is not None and klog.severity in "IW"


def _matchable(line: str) -> str:
    """The text of `line` the retry patterns look at: a klog line's message (a structured one with klog's own
    quoting undone: `"msg" err="Post \\"...\\": ..."` reads `msg err=Post "...": ...`), then every quoted string
    masked, so that a name, a field value or a URL with `?timeout=10s` in it cannot make an error look retryable."""
    klog = parse_klog(line)
    text = klog.message if klog else line
    if klog and text.startswith('"'):
        text = _QUOTED.sub(lambda quoted: _unquote(quoted.group()), text)
    return _QUOTED.sub('"…"', text)


def _unquote(quoted: str) -> str:
    try:
        value = json.loads(quoted)  # Go's quoting is JSON's for what klog writes, bar rare \x escapes
    except ValueError:
        return quoted[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value if isinstance(value, str) else quoted


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
        if not line or _is_noise(line) or _is_success_line(line):
            continue
        if _ERROR_LINE.match(line) or parse_klog(line) is not None or not errors:
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


#: runner's note on a program it stopped at its timeout (runner.run: `timed out after Ns`).
_TIMEOUT_NOTE = re.compile(r"^timed out after [\d.]+s$")


def classify_apply_failure(output: str, exit_code: int | None = None) -> ApplyFailure:
    """Classify the output of a failed `kubectl apply`.

    Retryable only when every error in it is retryable: one invalid object among a hundred webhook refusals
    still needs the user, and retrying would only hide it behind a timeout. A kubectl killed by a signal (the
    OOM killer, a suspended laptop) says nothing about the objects: server-side apply is idempotent, so the same
    apply is retried; so is one runner stopped at its call timeout (exit 124) that printed no error of its own
    that needs the user.
    """
    killed = exit_code is not None and (exit_code in _KILLED_EXIT_CODES or exit_code < 0)
    if killed and not [line for line in error_lines(output) if not _SHELL_KILL_NOTICE.match(line)]:
        return ApplyFailure(True, "kubectl was killed", (f"kubectl was killed (exit code {exit_code})",))
    if exit_code == TIMEOUT_EXIT_CODE:  # runner stopped it at its call timeout: an API server that did not answer
        told = [line for line in error_lines(output) if not _TIMEOUT_NOTE.match(line)]
        if not [line for line in told if _retry_reason(line) is None]:
            return ApplyFailure(True, "kubectl timed out", tuple(told) or ("kubectl apply timed out",))
    errors = error_lines(output)
    if not errors:  # nothing but notices (or nothing at all): kubectl failed without saying why
        return ApplyFailure(
            False, "rejected by the cluster", (output.strip() or "kubectl apply failed without a message",)
        )
    reasons = [_retry_reason(line) for line in errors]
    fatal = [line for line, reason in zip(errors, reasons, strict=True) if reason is None]
    if fatal:
        return ApplyFailure(False, "rejected by the cluster", tuple(fatal))
    return ApplyFailure(True, next(r for r in reasons if r), tuple(errors))


def _retry_reason(line: str) -> str | None:
    text = _matchable(line)
    for reason, pattern in RETRYABLE_PATTERNS:
        if pattern.search(text):
            return reason
    return None
