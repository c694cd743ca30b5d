"""`redact`: what the log file keeps of each secret (its key and size) in every form kfinstall logs it."""

from __future__ import annotations

import json
import textwrap

from kfinstall.redact import redact
from tests.paths import BUNDLE_COMMITS, MANIFESTS_BUNDLE, needs_bundle, real_kubectl

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


def test_a_secret_in_a_list_from_kubectl_get_is_redacted_and_stays_indented_as_logged() -> None:
    listing = json.dumps({"kind": "List", "items": [{"kind": "Secret", "stringData": {"pw": "hunter22"}}]}, indent=4)
    logged = "\n".join("    " + line for line in listing.splitlines())
    out = redact(logged)
    assert "hunter22" not in out
    assert '"pw": "<redacted 8 bytes>"' in out
    assert all(line.startswith("    ") for line in out.splitlines())


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
        "    client-key-data: LS0tLS1CRUdJTiBSU0E=\n    token: abcdef0123456789\n    bindPW: 'ldap-bind-pw'\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n"
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig\n$ kubectl --token=abcdef0123 get pods\n"
    )
    out = redact(text)
    for value in ("LS0tLS1CRUdJTiBSU0E=", "abcdef0123456789", "ldap-bind-pw", "MIIEow", "eyJhbGciOiJSUzI1NiJ9"):
        assert value not in out
    assert "--token=abcdef0123 " not in out
    assert "client-key-data: <redacted 20 bytes>" in out and "Authorization: Bearer <redacted" in out


def test_text_without_secrets_is_unchanged() -> None:
    text = (
        "    secret:\n      secretName: webhook-certs\n    kind: Deployment\n    password: {type: string}\n"
        "    # set Authorization Bearer response header (oauth2-proxy's config comment)\n"
    )
    assert redact(text) == text


#: Kubeflow v1.10.2's builds that ship Secrets: Dex's client secret and password hash, oauth2-proxy's cookie
#: secret, Katib's and KFP's MySQL and MinIO credentials.
V1_10_2_BUILDS_WITH_SECRETS = [
    "common/dex/overlays/oauth2-proxy",
    "common/oauth2-proxy/overlays/m2m-dex-only",
    "applications/katib/upstream/installs/katib-with-kubeflow",
    "applications/pipeline/upstream/env/cert-manager/platform-agnostic-multi-user",
]


@needs_bundle
def test_every_secret_value_of_real_kubeflow_builds_is_redacted_and_every_key_kept(tmp_path) -> None:
    import subprocess

    import yaml

    checkout = tmp_path / "manifests"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(MANIFESTS_BUNDLE), str(checkout)], check=True)
    subprocess.run(["git", "-C", str(checkout), "checkout", "--quiet", BUNDLE_COMMITS["v1.10.2"]], check=True)
    for path in V1_10_2_BUILDS_WITH_SECRETS:
        built = subprocess.run(
            [str(real_kubectl()), "kustomize", str(checkout / path)], capture_output=True, text=True, check=True
        ).stdout
        logged = "\n".join("    " + line for line in built.splitlines())  # as runner.py indents an output
        out = redact(logged)
        before = [d for d in yaml.safe_load_all(built) if d and d.get("kind") == "Secret"]
        after = [d for d in yaml.safe_load_all(textwrap.dedent(out)) if d and d.get("kind") == "Secret"]
        assert before and [d["metadata"] for d in after] == [d["metadata"] for d in before], path
        for old, new in zip(before, after, strict=True):
            for field in ("data", "stringData"):
                assert list(new.get(field) or {}) == list(old.get(field) or {}), path
                assert all(value.startswith("<redacted ") for value in (new.get(field) or {}).values()), path
                for key, value in (old.get(field) or {}).items():
                    assert not value or f"{key}: {value}" not in out, (path, key)
        assert HASH not in out
