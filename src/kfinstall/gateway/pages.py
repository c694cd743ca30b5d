"""What the login pages say, read from their HTML (pure): the forms a browser would submit, and Dex's refusal.

The pages are upstream's templates, so their shape is known:
- oauth2-proxy's sign-in page (oauth2-proxy/oauth2-proxy pkg/app/pagewriter/sign_in.html): a GET form whose action
  is `{{.ProxyPrefix}}/start` (`/oauth2/start`) with a hidden `rd`, the button "Sign in with {{.ProviderName}}";
  served with 403 by `OAuthProxy.Proxy` when there is no session and `skip_provider_button = false`
  (oauthproxy.go), which every Kubeflow release since v1.9 sets (common/oauth2-proxy/base/oauth2_proxy.cfg).
- Dex's login form (dexidp/dex web/templates/password.html, the same from v2.22 to v2.45): "Log in to Your
  Account", a POST form to `{{ .PostURL }}` with the inputs `login` and `password`; after a refused password the
  same page again with `Invalid {{ .UsernamePrompt }} and password.` (200 up to v2.22, 401 from v2.39:
  server/templates.go `password`).
- Dex's approval page (web/templates/approval.html, when `oauth2.skipApprovalScreen` is false): a POST form with
  the hidden `req` and `approval=approve` ("Grant Access"), and a second one with `approval=rejected`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

DEX_REFUSAL = re.compile(r"Invalid\s+.{1,60}?\s+and\s+password", re.DOTALL)


@dataclass
class Form:
    method: str
    action: str | None
    inputs: dict[str, str] = field(default_factory=dict)
    #: Names of the inputs of type password.
    secret_inputs: set[str] = field(default_factory=set)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "form":
            self._current = Form(values.get("method", "get").upper(), values.get("action"))
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and values.get("name"):
            name = values["name"]
            self._current.inputs[name] = values.get("value", "")
            if values.get("type", "text").lower() == "password":
                self._current.secret_inputs.add(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser.forms


def sign_in_form(html: str) -> Form | None:
    """oauth2-proxy's "Sign in with ..." form (GET .../start with `rd`), if the page is its sign-in page."""
    for form in forms(html):
        if form.method == "GET" and (form.action or "").rstrip("/").endswith("/start") and "rd" in form.inputs:
            return form
    return None


def password_form(html: str) -> Form | None:
    """Dex's login form: a POST form with a `login` input and a password input named `password`."""
    for form in forms(html):
        if form.method == "POST" and "login" in form.inputs and "password" in form.secret_inputs:
            return form
    return None


def approval_form(html: str) -> Form | None:
    """Dex's "Grant Access" form (the one that approves)."""
    for form in forms(html):
        if form.method == "POST" and form.inputs.get("approval") == "approve":
            return form
    return None


def dex_refused(html: str) -> bool:
    """Is this Dex's login page after a refused email and password?"""
    return password_form(html) is not None and DEX_REFUSAL.search(html) is not None
