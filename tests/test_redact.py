"""`redact`: what the log file keeps of each secret (its key and size) in every form kfinstall logs it."""

from __future__ import annotations

import json

from kfinstall.redact import redact

HASH = "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72"


def test_a_secret_in_kustomize_s_indented_yaml_keeps_its_keys_and_loses_its_values() -> None:
    text = "    apiVersion: v1\n    data:\n      key: dmFsdWU=\n    kind: Secret\n    metadata:\n      name: s\n"
    assert redact(text) == (
        "    apiVersion: v1\n    data:\n      key: <redacted 5 bytes>\n    kind: Secret\n    metadata:\n      name: s\n"
    )


def test_a_secret_repeated_in_its_last_applied_annotation_is_redacted_there_too() -> None:
    inner = json.dumps({"kind": "Secret", "data": {"k": "dmFsdWU="}})
    event = {"type": "ADDED", "object": {"kind": "Secret", "data": {"k": "dmFsdWU="},
             "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": inner}}}}  # fmt: skip
    out = redact(json.dumps(event))
    assert "dmFsdWU=" not in out
    assert json.loads(out)["object"]["data"] == {"k": "<redacted 5 bytes>"}


def test_a_secret_in_a_list_from_kubectl_get_is_redacted() -> None:
    listing = json.dumps({"kind": "List", "items": [{"kind": "Secret", "stringData": {"pw": "hunter22"}}]}, indent=4)
    assert "hunter22" not in redact(listing)
    assert '"pw": "<redacted 8 bytes>"' in redact(listing)


def test_a_secret_that_does_not_parse_is_redacted_whole() -> None:
    out = redact("kind: Secret\ndata: {key: [unclosed\n")
    assert "unclosed" not in out and "did not parse" in out


def test_dex_s_hash_and_client_secret_inside_a_json_string_are_redacted() -> None:
    config = f"staticPasswords:\n- email: a@b.c\n  hash: {HASH}\nstaticClients:\n- id: kf\n  secret: pUBnBOY80SnX\n"
    out = redact(json.dumps({"kind": "ConfigMap", "data": {"config.yaml": config}}))
    assert HASH not in out and "pUBnBOY80SnX" not in out
    assert json.loads(out)["data"]["config.yaml"].splitlines()[2] == "  hash: <redacted 60 bytes>"


def test_kubeconfig_keys_tokens_and_private_keys_are_redacted() -> None:
    text = (
        "    client-key-data: LS0tLS1CRUdJTiBSU0E=\n    token: abcdef0123456789\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig\n$ kubectl --token=abcdef0123 get pods\n"
    )
    out = redact(text)
    for value in ("LS0tLS1CRUdJTiBSU0E=", "abcdef0123456789", "MIIEow", "eyJhbGciOiJSUzI1NiJ9", "abcdef0123"):
        assert value not in out
    assert "client-key-data: <redacted 20 bytes>" in out and "Authorization: Bearer <redacted" in out


def test_text_without_secrets_is_unchanged() -> None:
    text = "    secret:\n      secretName: webhook-certs\n    kind: Deployment\n    password: {type: string}\n"
    assert redact(text) == text
