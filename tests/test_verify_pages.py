"""The pages of the login flows, read as `kfinstall verify` reads them: upstream's templates rendered
(tests/data/gateway/README.md), and the verdicts on the apps' answers (pure, no network)."""

from __future__ import annotations

import json
from email.message import Message
from pathlib import Path

from kfinstall.gateway import pages, verdicts
from kfinstall.gateway.http import Response

PAGES = Path(__file__).resolve().parent / "data" / "gateway"


def page(name: str) -> str:
    return (PAGES / name).read_text()


def test_oauth2_proxy_s_sign_in_page_offers_the_start_form_with_rd() -> None:
    form = pages.sign_in_form(page("oauth2-proxy-v7.13.0-sign-in.html"))
    assert form is not None
    assert (form.method, form.action, form.inputs) == ("GET", "/oauth2/start", {"rd": "/"})


def test_dex_s_login_form_posts_login_and_password_to_its_url_unescaped() -> None:
    form = pages.password_form(page("dex-v2.39.1-password.html"))
    assert form is not None
    assert form.method == "POST"
    assert form.action == "/dex/auth/local/login?back=&state=hbkxqa4wrwlf3mxtbvdqvo3mb"  # Go's &amp; read back
    assert form.secret_inputs == {"password"} and "login" in form.inputs


def test_a_fresh_dex_login_form_is_not_a_refusal() -> None:
    assert not pages.dex_refused(page("dex-v2.39.1-password.html"))


def test_dex_s_refusal_is_recognised_in_old_and_new_dex() -> None:
    assert pages.dex_refused(page("dex-v2.39.1-password-invalid.html"))
    assert pages.dex_refused(page("dex-v2.22.0-password-invalid.html"))


def test_dex_s_approval_page_yields_the_approving_form_not_the_cancel_one() -> None:
    form = pages.approval_form(page("dex-v2.39.1-approval.html"))
    assert form is not None
    assert form.action is None  # posts to the page's own URL (req and hmac in its query)
    assert form.inputs == {"req": "m4gwokjwxqgbxmvqjumrpnlxa", "approval": "approve"}


def test_the_sign_in_page_is_not_taken_for_a_login_form_and_vice_versa() -> None:
    assert pages.password_form(page("oauth2-proxy-v7.13.0-sign-in.html")) is None
    assert pages.sign_in_form(page("dex-v2.39.1-password.html")) is None


def test_a_relative_location_is_resolved_against_the_request_url() -> None:
    headers = Message()
    headers["Location"] = "/dex/auth/local?req=abc"
    response = Response(302, "http://localhost:8080/dex/auth?client_id=x", headers, b"")
    assert response.is_redirect
    assert response.location == "http://localhost:8080/dex/auth/local?req=abc"


def test_env_info_with_the_user_s_profile_passes_both_rows() -> None:
    body = json.dumps({"user": "ada@lab.example", "namespaces": [
        {"user": "ada@lab.example", "namespace": "kubeflow-ada-lab-example", "role": "owner"}]})  # fmt: skip
    rows = verdicts.dashboard(200, body, "ada@lab.example", "kubeflow-ada-lab-example")
    assert [row.state for row in rows] == ["pass", "pass"]


def test_env_info_without_the_namespace_fails_the_namespace_row_with_the_kubectl_hint() -> None:
    body = json.dumps({"user": "user@example.com", "namespaces": []})
    dashboard, namespace = verdicts.dashboard(200, body, "user@example.com", "kubeflow-user-example-com")
    assert dashboard.state == "pass"
    assert namespace.state == "fail"
    assert "lists: none" in namespace.reason
    assert "kubectl get profile kubeflow-user-example-com" in str(namespace.hint)


def test_a_contributor_is_not_the_owner_of_the_namespace() -> None:
    body = json.dumps({"user": "u@x.org", "namespaces": [{"namespace": "kubeflow-u-x-org", "role": "contributor"}]})
    assert verdicts.dashboard(200, body, "u@x.org", "kubeflow-u-x-org")[1].state == "fail"


def test_a_pipelines_api_without_ready_pods_is_named_as_such() -> None:
    row = verdicts.pipelines(503, "no healthy upstream", "v2beta1")
    assert (row.state, row.reason) == ("fail", "/pipeline/apis/v2beta1/healthz answered 503: no ready pod behind it")


def test_a_healthy_pipelines_api_names_its_version() -> None:
    row = verdicts.pipelines(200, json.dumps({"tag_name": "2.2.0", "multi_user": True}), "v2beta1")
    assert (row.state, row.reason) == ("pass", "/pipeline/apis/v2beta1/healthz healthy (KFP 2.2.0)")
