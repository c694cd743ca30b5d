"""The ingress gateway's check of a bearer token, as Istio configures Envoy for Kubeflow's oauth2-proxy overlays
(v1.9.1 – 26.03, common/oauth2-proxy/components/istio-external-auth and istio-m2m):

- a request with an `Authorization` header skips oauth2-proxy (AuthorizationPolicy
  istio-ingressgateway-oauth2-proxy: `request.headers[authorization] notValues ["*"]`); Istio's
  RequestAuthentications in istio-system for `app: istio-ingressgateway` check its `Bearer ` token
  (`fromHeaders: Authorization, prefix "Bearer "`): the rule whose `issuer` is the token's `iss`, its key from the
  rule's `jwksUri` (for `m2m-token-issuer` Kubeflow's cluster-jwks-proxy, which serves the API server's
  /openid/v1/jwks); a token no rule takes or that fails the check is refused by Envoy's jwt_authn filter with 401
  and jwt_verify_lib's words (envoyproxy/jwt_verify_lib src/status.cc: "Jwt issuer is not configured", "Jwt
  verification fails", "Jwt is expired", "Jwks doesn't have key to match kid or alg from Jwt");
- a verified token's `sub` becomes the `kubeflow-userid` header (`outputClaimToHeaders`), so Pipelines sees
  `system:serviceaccount:NS:default-editor`;
- a request without a verified JWT is denied with 403 `RBAC: access denied` (AuthorizationPolicy
  istio-ingressgateway-require-jwt: DENY `notRequestPrincipals ["*"]`).

Stricter than real Istio in one way, on purpose: Dex's tokens are never taken here (the fake Dex signs none), so a
Dex-issued bearer token is refused.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: The RequestAuthentication rule whose keys are the API server's (common/oauth2-proxy/overlays/m2m-dex-and-*).
CLUSTER_JWKS_PROXY = "cluster-jwks-proxy.istio-system.svc.cluster.local"


@dataclass(frozen=True)
class Verdict:
    """Who the token proves (the `kubeflow-userid` Envoy sets), or the status and body Envoy answers."""

    user: str | None
    status: int = 200
    text: str = ""


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _rules(get: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """The jwtRules of the RequestAuthentications that select the ingress gateway."""
    items = get("requestauthentications.security.istio.io", "-n", "istio-system").get("items") or []
    rules = []
    for authentication in items:
        spec = authentication.get("spec") or {}
        labels = ((spec.get("selector") or {}).get("matchLabels")) or {}
        if labels and labels.get("app") != "istio-ingressgateway":
            continue
        rules.extend(rule for rule in spec.get("jwtRules") or [] if isinstance(rule, dict))
    return rules


def _public_key(jwks: dict[str, Any], kid: str | None) -> rsa.RSAPublicKey | None:
    for key in jwks.get("keys") or []:
        if key.get("kty") == "RSA" and (kid is None or key.get("kid") == kid):
            n = int.from_bytes(_b64decode(key["n"]), "big")
            e = int.from_bytes(_b64decode(key["e"]), "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
    return None


def check(authorization: str, get: Callable[..., dict[str, Any]], raw: Callable[[str], dict[str, Any]]) -> Verdict:
    """The verdict on a request's `Authorization` header. `get` is `kubectl get ... -o json` on the double, `raw`
    `kubectl get --raw PATH` (the API server's JWKS, as cluster-jwks-proxy relays it)."""
    if not authorization.startswith("Bearer "):
        return Verdict(None, 403, "RBAC: access denied")  # no JWT extracted: require-jwt denies
    token = authorization.removeprefix("Bearer ").strip()
    try:
        header_part, claims_part, signature_part = token.split(".")
        header = json.loads(_b64decode(header_part))
        claims = json.loads(_b64decode(claims_part))
        signature = _b64decode(signature_part)
    except (ValueError, json.JSONDecodeError):
        return Verdict(None, 401, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections")
    rule = next((r for r in _rules(get) if r.get("issuer") == claims.get("iss")), None)
    if rule is None:
        return Verdict(None, 401, "Jwt issuer is not configured")
    if CLUSTER_JWKS_PROXY not in str(rule.get("jwksUri", "")):
        return Verdict(None, 401, "Jwt verification fails")  # Dex's keys: the fake Dex signs nothing
    key = _public_key(raw("/openid/v1/jwks"), header.get("kid"))
    if key is None or header.get("alg") != "RS256":
        return Verdict(None, 401, "Jwks doesn't have key to match kid or alg from Jwt")
    try:
        key.verify(signature, f"{header_part}.{claims_part}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return Verdict(None, 401, "Jwt verification fails")
    if int(claims.get("exp", 0)) <= time.time():
        return Verdict(None, 401, "Jwt is expired")
    headers = {h.get("header"): h.get("claim") for h in rule.get("outputClaimToHeaders") or []}
    return Verdict(str(claims.get(headers.get("kubeflow-userid") or "sub", "")))
