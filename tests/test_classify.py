"""Which kubectl apply failures kfinstall retries, and which stop the install with kubectl's own words."""

from __future__ import annotations

import pytest

from kfinstall.kube.classify import KlogLine, classify_apply_failure, error_lines, parse_klog

CRD_MISSING = (
    'resource mapping not found for name: "selfsigning-issuer" namespace: "" from "STDIN": '
    'no matches for kind "ClusterIssuer" in version "cert-manager.io/v1alpha2"\n'
    "ensure CRDs are installed first\n"
)
WEBHOOK_DOWN = (
    'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling '
    'webhook "webhook.cert-manager.io": Post "https://cert-manager-webhook.cert-manager.svc:443/mutate?timeout=10s":'
    " dial tcp 10.96.170.43:443: connect: connection refused\n"
)
NAMESPACE_MISSING = 'Error from server (NotFound): namespaces "kubeflow" not found\n'
APISERVER_DOWN = "The connection to the server 127.0.0.1:8443 was refused - did you specify the right host or port?\n"
UNAVAILABLE = "Error from server (ServiceUnavailable): the server is currently unable to handle the request\n"
INVALID = 'The Deployment "katib-controller" is invalid: spec.template.spec.containers[0].image: Required value\n'
FORBIDDEN = (
    'Error from server (Forbidden): error when creating "STDIN": clusterroles.rbac.authorization.k8s.io '
    '"kubeflow-admin" is forbidden: user "dev" cannot create resource "clusterroles"\n'
)


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (CRD_MISSING, "CRD not established yet"),
        (
            'unable to recognize "STDIN": no matches for kind "Gateway" in version "networking.istio.io/v1alpha3"\n',
            "CRD not established yet",
        ),
        # a kind from kubectl's discovery cache whose re-created CRD is not served yet (after down --keep-cluster)
        (
            "profile.kubeflow.org/kubeflow-user-example-com serverside-applied\n"
            "Error from server (NotFound): the server could not find the requested resource\n",
            "CRD not established yet",
        ),
        (WEBHOOK_DOWN, "webhook not serving yet"),
        (NAMESPACE_MISSING, "namespace not created yet"),
        (APISERVER_DOWN, "API server unavailable"),
        (UNAVAILABLE, "API server unavailable"),
        ("Unable to connect to the server: net/http: TLS handshake timeout\n", "API server unavailable"),
        (
            'E1129 09:56:54.067015   10393 request.go:1198] "Unexpected error when reading response body" '
            'err="unexpected EOF"\n',
            "API server unavailable",
        ),
        ("error: timed out waiting for the condition\n", "timed out"),
    ],
)
def test_races_that_heal_by_themselves_are_retryable(output: str, reason: str) -> None:
    failure = classify_apply_failure(output)
    assert failure.retryable
    assert failure.reason == reason


@pytest.mark.parametrize("output", [INVALID, FORBIDDEN, "error: error parsing STDIN: yaml: line 3: bad\n"])
def test_invalid_or_forbidden_objects_fail_at_once(output: str) -> None:
    failure = classify_apply_failure(output)
    assert not failure.retryable
    assert failure.first_error == output.strip()


def test_one_invalid_object_among_retryable_errors_is_not_retried() -> None:
    failure = classify_apply_failure(WEBHOOK_DOWN + INVALID + CRD_MISSING)
    assert not failure.retryable
    assert failure.errors == (INVALID.strip(),)


def test_continuation_lines_join_their_error_and_success_lines_are_dropped() -> None:
    output = "namespace/cert-manager serverside-applied\n" + CRD_MISSING
    assert error_lines(output) == [CRD_MISSING.strip().replace("\n", " ")]


def test_warnings_alone_do_not_count_as_errors() -> None:
    output = "Warning: apiextensions.k8s.io/v1beta1 CustomResourceDefinition is deprecated\n" + NAMESPACE_MISSING
    assert error_lines(output) == [NAMESPACE_MISSING.strip()]


def test_empty_output_is_still_explained() -> None:
    failure = classify_apply_failure("")
    assert not failure.retryable
    assert failure.errors == ("kubectl apply failed without a message",)


@pytest.mark.parametrize("exit_code", [137, 143, -9])
def test_a_killed_kubectl_is_retried_since_server_side_apply_is_idempotent(exit_code: int) -> None:
    failure = classify_apply_failure("configmap/a serverside-applied\nKilled\n", exit_code)
    assert failure.retryable and failure.reason == "kubectl was killed"


def test_a_kubectl_apply_stopped_at_its_call_timeout_is_retried() -> None:
    failure = classify_apply_failure("configmap/a serverside-applied\ntimed out after 120s", 124)
    assert failure.retryable and failure.reason == "kubectl timed out"


def test_a_timed_out_kubectl_apply_that_reported_a_real_error_is_not_retried() -> None:
    output = 'The Deployment "x" is invalid: spec.replicas: Invalid value: -1\ntimed out after 120s'
    assert not classify_apply_failure(output, 124).retryable


def test_a_killed_kubectl_that_reported_a_real_error_is_not_retried() -> None:
    output = 'The Deployment "x" is invalid: spec.replicas: Invalid value: -1'
    assert not classify_apply_failure(output, 137).retryable


# ---- klog lines of every month (kubernetes/klog internal/buffer/buffer.go FormatHeader: `Lmmdd hh:mm:ss.uuuuuu
# threadid file:line] msg`) ------------------------------------------------------------------------------------

#: client-go's throttling notice as kubectl >= 1.33 prints it (kubernetes/client-go rest/request.go
#: tryThrottleWithInfo, structured since Kubernetes 1.33), on a December day.
DECEMBER_THROTTLING = (
    'I1201 09:12:33.456789   48213 request.go:752] "Waited before sending request" delay="1.043586012s" '
    'reason="client-side throttling, not priority and fairness" verb="PATCH" '
    'URL="https://192.168.49.2:8443/apis/cert-manager.io/v1/clusterissuers/kubeflow-self-signing-issuer'
    '?fieldManager=kfinstall-cert-manager&force=true"\n'
)
#: The same notice as kubectl 1.21-1.32 printed it (`Waited for %v due to client-side throttling, ...`).
NOVEMBER_THROTTLING = (
    "I1115 10:02:03.123456   12345 request.go:697] Waited for 1.045545s due to client-side throttling, not priority "
    "and fairness, request: GET:https://192.168.49.2:8443/apis/kubeflow.org/v1beta1?timeout=32s\n"
)
#: client-go tools/clientcmd/loader.go, as a klog warning on New Year's Eve.
DECEMBER_WARNING = "W1231 23:59:59.999999    7 loader.go:223] Config not found: /home/dev/.kube/config\n"


@pytest.mark.parametrize("month", range(1, 13))
def test_klog_info_and_warning_lines_of_every_month_are_noise(month: int) -> None:
    for severity, day in (("I", "01"), ("W", "28"), ("I", "30" if month != 2 else "29")):
        notice = f"{severity}{month:02d}{day} 09:12:33.456789   48213 request.go:752] Waited for 1.04s\n"
        assert error_lines(notice + NAMESPACE_MISSING) == [NAMESPACE_MISSING.strip()]


@pytest.mark.parametrize(
    "line",
    [
        "I1301 09:12:33.456789   48213 request.go:752] a 13th month",
        "I0230 09:12:33.456789   48213 request.go:752] February 30th",
        "I1200 09:12:33.456789   48213 request.go:752] day zero",
        "I1201 24:00:00.000000   48213 request.go:752] hour 24",
        "I1201 09:12:33.4567   48213 request.go:752] not microseconds",
        "X1201 09:12:33.456789   48213 request.go:752] severity X",
        "I1201 09:12:33.456789   48213 request.go:752 no bracket",
    ],
)
def test_only_an_exact_klog_header_is_one(line: str) -> None:
    assert parse_klog(line) is None


def test_a_klog_header_gives_its_severity_and_message() -> None:
    assert parse_klog("E1129 09:56:54.067015   10393 request.go:1198] boom") == KlogLine("E", "boom")
    assert parse_klog("F0101 00:00:00.000000 1234567 cmd/apply.go:1] fatal") == KlogLine("F", "fatal")


def test_a_december_throttling_notice_before_a_webhook_race_is_retried() -> None:
    failure = classify_apply_failure(DECEMBER_THROTTLING + WEBHOOK_DOWN)
    assert failure.retryable
    assert failure.reason == "webhook not serving yet"
    assert failure.errors == (WEBHOOK_DOWN.strip(),)


def test_a_december_throttling_notice_before_an_invalid_object_shows_only_the_error() -> None:
    failure = classify_apply_failure(DECEMBER_THROTTLING + INVALID)
    assert not failure.retryable
    assert failure.errors == (INVALID.strip(),)


def test_klog_error_lines_are_errors_of_their_own_judged_by_their_content() -> None:
    refused = (
        'E1201 09:12:33.456789   48213 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group '
        'list: Get \\"https://192.168.49.2:8443/api?timeout=32s\\": dial tcp 192.168.49.2:8443: connect: connection '
        'refused" logger="UnhandledError"'
    )
    assert error_lines(INVALID + refused + "\n") == [INVALID.strip(), refused]
    assert classify_apply_failure(refused + "\n" + APISERVER_DOWN).reason == "API server unavailable"
    assert not classify_apply_failure("E1201 09:12:33.456789   48213 apply.go:1] " + INVALID).retryable


# ---- timeouts: the real texts, never the word in a name, a field or a URL ------------------------------------

#: kubectl v1.37.1's `error validating data` line, captured against a server that accepts TCP and never answers
#: (`net/http: TLS handshake timeout`; with --request-timeout=2s `context deadline exceeded`) and one whose
#: certificate has no IP SANs, minikube's address put in; `i/o timeout` and `Client.Timeout` in the same shape.
_OPENAPI = (
    'error: error validating "STDIN": error validating data: failed to download openapi: '
    'Get "https://192.168.49.2:8443/openapi/v2?timeout=32s": '
)
_VALIDATE_OFF = "; if you choose to ignore these errors, turn validation off with --validate=false\n"


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (DECEMBER_THROTTLING + WEBHOOK_DOWN, "webhook not serving yet"),
        (NOVEMBER_THROTTLING + CRD_MISSING, "CRD not established yet"),
        (DECEMBER_WARNING + NAMESPACE_MISSING, "namespace not created yet"),
        (
            'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling '
            'webhook "validation.webhook.serving.knative.dev": failed to call webhook: Post '
            '"https://webhook.knative-serving.svc:443/resource-validation?timeout=10s": context deadline exceeded\n',
            "webhook not serving yet",
        ),
        (_OPENAPI + "net/http: TLS handshake timeout" + _VALIDATE_OFF, "timed out"),
        (_OPENAPI.replace("32s", "2s") + "context deadline exceeded" + _VALIDATE_OFF, "timed out"),
        (_OPENAPI + "dial tcp 192.168.49.2:8443: i/o timeout" + _VALIDATE_OFF, "timed out"),
        (
            _OPENAPI + "net/http: request canceled (Client.Timeout exceeded while awaiting headers)" + _VALIDATE_OFF,
            "timed out",
        ),
        (
            'Error from server (Timeout): error when creating "STDIN": Timeout: request did not complete within '
            "requested timeout - context deadline exceeded\n",
            "timed out",
        ),
        (
            "Error from server (Timeout): error when applying patch: the server was unable to return a response in the "
            "time allotted, but may still be processing the request (patch configmaps katib-config)\n",
            "timed out",
        ),
        (
            "Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded while awaiting "
            "headers)\n",
            "API server unavailable",
        ),
    ],
)
def test_real_timeouts_and_races_after_klog_notices_are_retried(output: str, reason: str) -> None:
    failure = classify_apply_failure(output)
    assert failure.retryable, failure
    assert failure.reason == reason


#: apimachinery pkg/util/validation IsDNS1123Subdomain's message, as the API server returns it for a ConfigMap.
IDLE_TIMEOUT = (
    'The ConfigMap "idle_timeout" is invalid: metadata.name: Invalid value: "idle_timeout": a lowercase RFC 1123 '
    "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n"
)


@pytest.mark.parametrize(
    "output",
    [
        IDLE_TIMEOUT,
        DECEMBER_THROTTLING + IDLE_TIMEOUT,
        # kubernetes/kubernetes pkg/apis/admissionregistration/validation (validation_test.go's expected error)
        'The ValidatingWebhookConfiguration "katib.kubeflow.org" is invalid: webhooks[0].timeoutSeconds: Invalid '
        "value: 31: the timeout value must be between 1 and 30 seconds\n",
        'The Deployment "katib-ui" is invalid: spec.template.spec.containers[0].readinessProbe.timeoutSeconds: '
        "Invalid value: -1: must be greater than or equal to 0\n",
        # a label whose value happens to be a timeout text (apimachinery IsValidLabelValue's message)
        'The ConfigMap "katib-config" is invalid: metadata.labels: Invalid value: "i/o timeout": a valid label must '
        "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')\n",
        # captured from kubectl v1.37.1 against a server with a certificate without IP SANs: `?timeout=32s` in the URL
        _OPENAPI + "tls: failed to verify certificate: x509: cannot validate certificate for 192.168.49.2 because "
        "it doesn't contain any IP SANs" + _VALIDATE_OFF,
    ],
)
def test_timeout_in_a_name_a_field_or_a_url_fails_at_once(output: str) -> None:
    failure = classify_apply_failure(output)
    assert not failure.retryable
    assert failure.first_error == output.strip().splitlines()[-1]


def test_only_klog_notices_are_no_reason_to_retry() -> None:
    failure = classify_apply_failure(DECEMBER_THROTTLING, 1)
    assert not failure.retryable
    assert failure.errors == (DECEMBER_THROTTLING.strip(),)
