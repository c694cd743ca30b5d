"""Which kubectl apply failures kfinstall retries, and which stop the install with kubectl's own words."""

from __future__ import annotations

import pytest

from kfinstall.classify import classify_apply_failure, error_lines

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


def test_a_killed_kubectl_that_reported_a_real_error_is_not_retried() -> None:
    output = 'The Deployment "x" is invalid: spec.replicas: Invalid value: -1'
    assert not classify_apply_failure(output, 137).retryable
