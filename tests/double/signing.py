"""The double's service-account token signer: a real RSA key per double process, as kube-apiserver signs with
`--service-account-signing-key-file` (minikube's /var/lib/minikube/certs/sa.key).

- Tokens are RS256 JWTs whose header carries `kid`, the key id kube-apiserver derives from the public key:
  base64url (no padding) of the SHA-256 of its PKIX DER encoding (kubernetes/kubernetes pkg/serviceaccount/jwt.go
  `keyIDFromPublicKey`).
- `/openid/v1/jwks` serves the public key as a JWK set with `use: sig`, `kty: RSA`, `alg: RS256`, `kid`, `n`, `e`
  (pkg/serviceaccount/openidmetadata.go `publicJWKSFromKeys`), which is what Istio fetches through Kubeflow's
  `cluster-jwks-proxy` to check a bearer token (common/oauth2-proxy/components/cluster-jwks-proxy).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@functools.cache
def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_id() -> str:
    der = _key().public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def sign(claims: dict[str, Any]) -> str:
    """A compact JWS of `claims`, RS256 with the double's key."""
    header = {"alg": "RS256", "kid": key_id()}
    signing_input = ".".join(b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    signature = _key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def jwks() -> dict[str, Any]:
    numbers = _key().public_key().public_numbers()
    key = {"use": "sig", "kty": "RSA", "kid": key_id(), "alg": "RS256",
           "n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}  # fmt: skip
    return {"keys": [key]}
