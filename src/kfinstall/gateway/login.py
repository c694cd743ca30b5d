"""Log in to Kubeflow through its gateway as a browser does, for each release's authentication flow.

The flows, from upstream:
- v1.4.0 (arrikto/oidc-authservice, common/oidc-authservice of the tag): a request without the `authservice_session`
  cookie gets a 302 to Dex (`/dex/auth?client_id=...&redirect_uri=/login/oidc&...&state=...`, the state also in the
  `oidc_state_csrf` cookie); after Dex, `/login/oidc?code=...&state=...` sets the session cookie and sends the
  browser back to the page it first asked for.
- v1.9.1 and later (oauth2-proxy as Istio's external authorizer, common/oauth2-proxy of each tag): the request gets
  oauth2-proxy's 403 sign-in page ("Sign in with Dex"); its form, `GET /oauth2/start?rd=/`, sets the CSRF cookie and
  redirects to Dex; after Dex, `/oauth2/callback` sets `oauth2_proxy_kubeflow` and redirects to `rd`.
- Dex (dexidp/dex server/handlers.go): with one connector `/dex/auth` redirects to the local connector's login form;
  the POST of `login` and `password` answers with a redirect when they are right (straight to the client's callback
  when `skipApprovalScreen`, else to the approval page), and with the form again, marked invalid, when not.
kubeflow/community-distribution tests/dex_login_test.py (`DexSessionManager`) walks the same flow with `requests`.
Here the walk is driven by the pages themselves (the forms they hold, gateway/pages.py), not by guessed paths.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from kfinstall.gateway import pages, sdk, verdicts
from kfinstall.gateway.http import Response, Session

#: Pages a login passes at most (sign-in page, Dex form, approval, back: 4; a margin for a restarted flow).
MAX_STEPS = 8


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str
    hint: str | None = None
    #: The gateway's first answer without a session (403 sign-in page, 302 to Dex, ...), for the row.
    first_answer: str = ""
    refused: bool = False


def _where(response: Response) -> str:
    return urllib.parse.urlsplit(response.url).path or "/"


def _first_answer(response: Response) -> str:
    if response.is_redirect:
        return f"{response.status} to {urllib.parse.urlsplit(str(response.location)).path}"
    if pages.sign_in_form(response.text):
        return f"{response.status} sign-in page"
    return str(response.status)


def _past_the_login(response: Response) -> bool:
    """Back at the page first asked for: no login page, no refusal (its app may be absent: a 404 is past the
    login too, the rows that follow judge the apps)."""
    if response.status in (401, 403) or response.status >= 500:
        return False
    html = response.text
    return not (pages.sign_in_form(html) or pages.password_form(html) or pages.approval_form(html))


def _submit(session: Session, response: Response, form: pages.Form, values: dict[str, str]) -> Response:
    action = urllib.parse.urljoin(response.url, form.action or response.url)
    if form.method == "GET":
        split = urllib.parse.urlsplit(action)
        return session.get(split._replace(query=urllib.parse.urlencode(values)).geturl())
    return session.post(action, values)


def _has_session(session: Session, session_cookie: str) -> bool:
    """The gateway has set its session cookie, whole or split into chunks (oauth2-proxy over 4 KB)."""
    return any(sdk.is_session_cookie(name, session_cookie) for name in session.cookie_names())


def log_in(session: Session, base_url: str, email: str, password: str, session_cookie: str) -> LoginResult:
    """Walk the login from `base_url` until the gateway has set `session_cookie` and shows the page past the login."""
    first = session.request("GET", base_url.rstrip("/") + "/")
    first_answer = _first_answer(first)
    response = session.follow(first)
    posted = False
    for _ in range(MAX_STEPS):
        html = response.text
        if _has_session(session, session_cookie) and _past_the_login(response):
            return LoginResult(True, f"as {email} ({first_answer}, then Dex)", first_answer=first_answer)
        if (form := pages.sign_in_form(html)) is not None:
            response = _submit(session, response, form, form.inputs)
            continue
        if (form := pages.password_form(html)) is not None:
            if posted:
                refused = pages.dex_refused(html)
                again = f"Dex showed its login form again at {_where(response)}"
                reason = "the password was refused by Dex" if refused else again
                hint = (f"is {email} the user (`--email`)? the password you set: --password-file, --password-stdin; "
                        "forgot it: `kfinstall password`")  # fmt: skip
                return LoginResult(False, reason, hint, first_answer, refused=refused)
            values = {**form.inputs, "login": email, "password": password}
            response = _submit(session, response, form, values)
            posted = True
            continue
        if (form := pages.approval_form(html)) is not None:
            response = _submit(session, response, form, form.inputs)
            continue
        break
    where = _where(response)
    component = "Dex" if where.startswith("/dex") else "the gateway"
    if response.status >= 400:
        reason = f"{component} answered {verdicts.answer(response.status)} at {where}"
    elif not _has_session(session, session_cookie):
        reason = f"no {session_cookie} cookie after the login (ended at {where}, {response.status})"
    else:
        reason = f"the login ended at {where} with {response.status}"
    hint = "see `kfinstall status`"
    if component == "Dex":
        hint = "is Dex running? `kfinstall status`; `kubectl -n auth get pods`"
    return LoginResult(False, reason, hint, first_answer)
