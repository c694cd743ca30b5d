"""The test gateway's bearer-token check (tests/fakes/istio_jwt.py) on tokens the double's signer makes."""

from __future__ import annotations

import time
from typing import Any

from tests.double import signing
from tests.fakes import istio_jwt

ISSUER = "https://kubernetes.default.svc.cluster.local"
M2M = {
    "spec": {
        "selector": {"matchLabels": {"app": "istio-ingressgateway"}},
        "jwtRules": [{
            "issuer": ISSUER,
            "jwksUri": "http://cluster-jwks-proxy.istio-system.svc.cluster.local/openid/v1/jwks",
            "outputClaimToHeaders": [{"header": "kubeflow-userid", "claim": "sub"}],
        }],
    }
}  # fmt: skip
SUB = "system:serviceaccount:kubeflow-user-example-com:default-editor"


def get(*args: str) -> dict[str, Any]:
    return {"items": [M2M]}


def raw(path: str) -> dict[str, Any]:
    assert path == "/openid/v1/jwks"
    return signing.jwks()


def token(**changes: object) -> str:
    return "Bearer " + signing.sign({"iss": ISSUER, "sub": SUB, "exp": int(time.time()) + 600, **changes})


def test_a_token_of_a_trusted_issuer_is_its_subject() -> None:
    assert istio_jwt.check(token(), get, raw) == istio_jwt.Verdict(SUB)


def test_a_token_of_an_issuer_no_rule_names_is_refused() -> None:
    verdict = istio_jwt.check(token(iss="https://kubernetes.default.svc"), get, raw)
    assert (verdict.status, verdict.text) == (401, "Jwt issuer is not configured")


def test_an_expired_token_is_refused() -> None:
    verdict = istio_jwt.check(token(exp=int(time.time()) - 1), get, raw)
    assert (verdict.status, verdict.text) == (401, "Jwt is expired")


def test_a_token_whose_claims_were_changed_fails_the_signature() -> None:
    header, _, signature = token().removeprefix("Bearer ").split(".")
    other = token(sub="system:serviceaccount:kubeflow:pipeline-runner").removeprefix("Bearer ").split(".")[1]
    verdict = istio_jwt.check(f"Bearer {header}.{other}.{signature}", get, raw)
    assert (verdict.status, verdict.text) == (401, "Jwt verification fails")


def test_an_authorization_without_a_bearer_token_is_denied_by_require_jwt() -> None:
    verdict = istio_jwt.check("Basic dXNlcjpwYXNz", get, raw)
    assert (verdict.status, verdict.text) == (403, "RBAC: access denied")
