"""The test gateway: Kubeflow's front door as the fake `kubectl port-forward` serves it (FAKE_PF_ANSWER=gateway).

What answers depends on what is installed on the cluster double, read through the real kubectl on every request,
like a real gateway whose routes and pods come and go:
- oauth2-proxy (a Deployment `oauth2-proxy` in namespace `oauth2-proxy`, Kubeflow v1.9.1 and later) or
  arrikto's oidc-authservice (a StatefulSet `authservice` in `istio-system`, v1.4.0) guards every path but `/dex/`;
- Dex (Deployment `auth/dex`) checks the email and password against the bcrypt hash of its ConfigMap `dex`
  (`hash`, or `hashFromEnv` resolved from the Secrets the Deployment's environment names), the one `up` and
  `kfinstall password` put there;
- the dashboard's env-info lists the user's namespaces from the double's Profiles and Namespaces; Pipelines,
  notebooks and Katib answer while their Deployments are ready.
Each behaviour names its source below. A workload that is absent answers 404 (Envoy: no route, NR), one without a
ready pod 503 `no healthy upstream` (Envoy's router), as Istio's ingress gateway does.

Simplifications, each less than a real component can do and none more lenient about what verify relies on: Dex
reads its config at every request (the real one at start; `kfinstall password` restarts it anyway), codes and
sessions are random strings in this process's memory (not signed JWTs), oauth2-proxy's `code_challenge` (PKCE) is
not checked.

Behind `/pipeline/` answers the fake Pipelines API server (tests/fakes/kfp_api.py), handed the user's identity in
the `kubeflow-userid` header as the gateway's authentication sets it from the session (v1.4.0's oidc-authservice:
common/oidc-authservice/base/params.env USERID_HEADER=kubeflow-userid; v1.9.1 and later: oauth2-proxy's JWT mapped
by common/oauth2-proxy/components/istio-external-auth/requestauthentication.dex-jwt.yaml `outputClaimToHeaders`;
without authentication: common/istio/add-anonymous-user-filter's anonymous@kubeflow.org). A header of that name the
client sends is replaced, never passed on.

Knobs (environment): FAKE_GW_KFP_STATUS=503 makes Pipelines' API answer that status (a crashing api-server);
FAKE_KFP_RUN_RESULT=failed makes submitted pipeline runs fail (tests/fakes/kfp_api.py); FAKE_GW_SESSION_BYTES=N makes
oauth2-proxy's session cookie value N bytes long (a session with many groups: split over 4 KB).
"""

from __future__ import annotations

import base64
import email.utils
import html
import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import Any

import bcrypt
import yaml

from tests.fakes import istio_jwt, kfp_api
from tests.fakes.common import state_dir

#: Kubeflow's oauth2-proxy config (common/oauth2-proxy/base/oauth2_proxy.cfg, v1.9.1 – 26.03): `cookie_name`,
#: `api_routes` (401 instead of the sign-in page), `skip_auth_routes = ["^/dex/"]`, `redirect_url`.
OAUTH2_COOKIE = "oauth2_proxy_kubeflow"
#: oauth2-proxy's CSRF cookie: the session cookie's name + `_csrf` (pkg/cookies/csrf.go `csrfCookieName`).
OAUTH2_CSRF_COOKIE = OAUTH2_COOKIE + "_csrf"
OAUTH2_API_ROUTES = (re.compile("/api/"), re.compile("/apis/"), re.compile("^/ml_metadata"))
OAUTH2_CALLBACK = "/oauth2/callback"
#: oauth2-proxy's cookie store splits a session cookie whose Set-Cookie string reaches 4,000 bytes into NAME_0,
#: NAME_1, ... (pkg/sessions/cookie/session_store.go splitCookie, maxCookieLength) and joins NAME_0.. back when
#: NAME itself is absent (loadCookie/joinCookies).
OAUTH2_MAX_COOKIE_LENGTH = 4000
#: `cookie_expire = "24h"` of the same oauth2_proxy.cfg (v1.9.1 – 26.03), in seconds.
OAUTH2_COOKIE_EXPIRE = 24 * 3600
#: arrikto/oidc-authservice: session.go `UserSessionCookie`, state.go `oidcStateCookie`; v1.4.0's
#: common/oidc-authservice/base/params.env: REDIRECT_URL=/login/oidc, OIDC_AUTH_URL=/dex/auth, SKIP_AUTH_URI=/dex.
AUTHSERVICE_COOKIE = "authservice_session"
AUTHSERVICE_STATE_COOKIE = "oidc_state_csrf"
AUTHSERVICE_CALLBACK = "/login/oidc"
#: The client both use (common/dex/base/secret_params.env OIDC_CLIENT_ID; oauth2-proxy's `client-id`).
CLIENT_ID = "kubeflow-oidc-authservice"
#: Dex's local connector (dexidp/dex server/server.go: the password DB is the connector `local`) and its prompt
#: (`usernamePrompt`: "Email Address" for the password DB).
USERNAME_PROMPT = "Email Address"

#: oauth2-proxy's sign-in page (pkg/app/pagewriter/sign_in.html), as Kubeflow configures it (provider_display_name
#: "Dex"), served with 403 by OAuthProxy.Proxy when skip_provider_button = false (oauthproxy.go).
SIGN_IN_PAGE = """<!DOCTYPE html>
<html lang="en" charset="utf-8"><head><title>Sign In</title></head>
<body class="has-background-light"><section class="section has-background-light">
<div class="box block sign-in-box has-text-centered">
<form method="GET" action="/oauth2/start">
  <input type="hidden" name="rd" value="{rd}">
  <button type="submit" class="button block is-primary">Sign in with Dex</button>
</form>
</div></section></body></html>
"""
#: dexidp/dex web/templates/password.html (v2.22.0 – v2.45.0).
PASSWORD_PAGE = """<!DOCTYPE html><html><head><title>dex</title></head><body>
<div class="theme-panel">
  <h2 class="theme-heading">Log in to Your Account</h2>
  <form method="post" action="{post_url}">
    <div class="theme-form-row">
      <div class="theme-form-label"><label for="login">{prompt}</label></div>
      <input tabindex="1" required id="login" name="login" type="text" class="theme-form-input" value="{username}"/>
    </div>
    <div class="theme-form-row">
      <div class="theme-form-label"><label for="password">Password</label></div>
      <input tabindex="2" required id="password" name="password" type="password" class="theme-form-input"/>
    </div>
    {error}
    <button tabindex="3" id="submit-login" type="submit" class="dex-btn theme-btn--primary">Login</button>
  </form>
</div></body></html>
"""
DEX_INVALID = '<div id="login-error" class="dex-error-box">Invalid {prompt} and password.</div>'
#: dexidp/dex web/templates/approval.html.
APPROVAL_PAGE = """<!DOCTYPE html><html><head><title>dex</title></head><body>
<div class="theme-panel"><h2 class="theme-heading">Grant Access</h2>
<form method="post"><input type="hidden" name="req" value="{req}"/>
<input type="hidden" name="approval" value="approve">
<button type="submit" class="dex-btn theme-btn--success"><span class="dex-btn-text">Grant Access</span></button></form>
<form method="post"><input type="hidden" name="req" value="{req}"/>
<input type="hidden" name="approval" value="rejected">
<button type="submit" class="dex-btn theme-btn-provider"><span class="dex-btn-text">Cancel</span></button></form>
</div></body></html>
"""
DASHBOARD_PAGE = "<!DOCTYPE html><html><head><title>Kubeflow Central Dashboard</title></head><body></body></html>"


class Cluster:
    """The double, read through the real kubectl (one `get` per question)."""

    def __init__(self, kubectl: list[str]) -> None:
        self.kubectl = kubectl

    def get(self, *args: str) -> dict[str, Any]:
        result = subprocess.run([*self.kubectl, "get", *args, "-o", "json"], capture_output=True, text=True)
        if result.returncode != 0 or not result.stdout.strip():
            return {}
        return json.loads(result.stdout)

    def raw(self, path: str) -> dict[str, Any]:
        result = subprocess.run([*self.kubectl, "get", "--raw", path], capture_output=True, text=True)
        return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else {}

    def workloads(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        items = self.get("deployments,statefulsets", "--all-namespaces").get("items") or []
        return {(w["kind"], w["metadata"]["namespace"], w["metadata"]["name"]): w for w in items}


def ready(workload: dict[str, Any] | None) -> bool:
    """Can the gateway route to it? Envoy sends a request to any ready endpoint of the Service: one ready pod is
    enough, none (scaled to 0, crashing) is `no healthy upstream`."""
    return workload is not None and (workload.get("status") or {}).get("readyReplicas", 0) >= 1


def image_tag(workload: dict[str, Any]) -> str:
    containers = workload["spec"]["template"]["spec"].get("containers") or [{}]
    return str(containers[0].get("image", "")).rpartition(":")[2]


def version(tag: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", tag)[:3]) or (0,)


@dataclass
class AuthRequest:
    """Dex's storage.AuthRequest, the part the flow needs."""

    redirect_uri: str
    state: str
    logged_in_as: str | None = None


@dataclass
class Memory:
    """What Dex's storage and the session stores of oauth2-proxy and authservice hold."""

    auth_requests: dict[str, AuthRequest] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> email
    sessions: dict[str, str] = field(default_factory=dict)  # session cookie value -> email
    states: dict[str, str] = field(default_factory=dict)  # state -> where to go after the login
    lock: threading.Lock = field(default_factory=threading.Lock)


def split_session_cookie(name: str, value: str) -> dict[str, str]:
    """The cookies oauth2-proxy sets for a session value: one, or chunks whose Set-Cookie strings stay under
    OAUTH2_MAX_COOKIE_LENGTH (the attributes counted roughly as Path, HttpOnly and an Expires date)."""
    attributes = len("; Path=/; HttpOnly; Expires=Tue, 01 Dec 2026 00:00:00 GMT")
    if len(name) + 1 + len(value) + attributes < OAUTH2_MAX_COOKIE_LENGTH:
        return {name: value}
    chunks: dict[str, str] = {}
    while value:
        chunk_name = f"{name}_{len(chunks)}"
        size = OAUTH2_MAX_COOKIE_LENGTH - 1 - len(chunk_name) - 1 - attributes
        chunks[chunk_name], value = value[:size], value[size:]
    return chunks


class Dex:
    """The login half: dexidp/dex server/handlers.go as of the Dex image the double runs."""

    def __init__(self, cluster: Cluster, deployment: dict[str, Any]) -> None:
        self.cluster = cluster
        self.deployment = deployment
        #: v2.22 (Kubeflow v1.4.0) renders the form at /auth/local?req=ID and answers a refused password with 200;
        #: v2.39 and later redirect to /auth/local/login?back=&state=ID and answer it with 401 (server/templates.go
        #: `password`: `w.WriteHeader(http.StatusUnauthorized)` when lastWasInvalid).
        self.modern = version(image_tag(deployment)) >= (2, 39)
        configmap = cluster.get("configmap", "dex", "-n", "auth")
        self.config = yaml.safe_load(((configmap.get("data") or {}).get("config.yaml")) or "{}") or {}

    def env(self, name: str) -> str | None:
        """An environment variable of Dex's container, from `env` (value or secretKeyRef) and `envFrom` Secrets."""
        container = self.deployment["spec"]["template"]["spec"]["containers"][0]
        for entry in container.get("env") or []:
            if entry.get("name") == name:
                if "value" in entry:
                    return str(entry["value"])
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef") or {}
                return self._secret_value(ref.get("name", ""), ref.get("key", ""))
        for source in container.get("envFrom") or []:
            value = self._secret_value((source.get("secretRef") or {}).get("name", ""), name)
            if value is not None:
                return value
        return None

    def _secret_value(self, secret: str, key: str) -> str | None:
        data = (self.cluster.get("secret", secret, "-n", "auth").get("data") or {}) if secret else {}
        return base64.b64decode(data[key]).decode() if key in data else None

    def user(self) -> tuple[str, str | None]:
        """The static user's email and bcrypt hash (dexidp/dex cmd/dex/config.go `password`: `hash` or
        `hashFromEnv`)."""
        users = self.config.get("staticPasswords") or [{}]
        user = users[0]
        hashed = user.get("hash") or (self.env(user["hashFromEnv"]) if user.get("hashFromEnv") else None)
        return str(user.get("email", "")), hashed

    def redirect_uri_allowed(self, client_id: str, redirect_uri: str) -> bool:
        """server/oauth2.go parseAuthorizationRequest: an unknown client or an unregistered redirect_uri is refused.
        A config without staticClients (the synthetic set's) is taken as having Kubeflow's one client."""
        clients = self.config.get("staticClients")
        if clients is None:
            return client_id == CLIENT_ID
        for client in clients:
            known = client.get("id") or (self.env(client["idEnv"]) if client.get("idEnv") else None)
            if known == client_id and redirect_uri in (client.get("redirectURIs") or []):
                return True
        return False

    @property
    def skip_approval(self) -> bool:
        return bool((self.config.get("oauth2") or {}).get("skipApprovalScreen", False))  # Dex's default: false


def _owner(profile: dict[str, Any]) -> str:
    return str(((profile.get("spec") or {}).get("owner") or {}).get("name", ""))


def handler(kubectl: list[str], on_request: Callable[[], None]) -> type[BaseHTTPRequestHandler]:
    """The request handler class of the fake gateway, reading the cluster through `kubectl` (with its context)."""
    cluster = Cluster(kubectl)
    memory = Memory()

    class Gateway(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        # -- plumbing -------------------------------------------------------------------------------------------

        def send(self, status: int, body: str = "", *, content_type: str = "text/html; charset=utf-8",
                 headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None,
                 lifetimes: dict[str, int] | None = None) -> None:  # fmt: skip
            data = body.encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            for name, value in (cookies or {}).items():
                expiry = "; Max-Age=0" if value == "" else ""
                if name in (lifetimes or {}):  # oauth2-proxy pkg/cookies/cookies.go: Expires = now + cookie_expire
                    expiry = "; Expires=" + email.utils.formatdate(time.time() + (lifetimes or {})[name], usegmt=True)
                self.send_header("Set-Cookie", f"{name}={value}; Path=/; HttpOnly{expiry}")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def redirect(self, where: str, status: int = 302, cookies: dict[str, str] | None = None,
                     lifetimes: dict[str, int] | None = None) -> None:  # fmt: skip
            self.send(status, "", headers={"Location": where}, cookies=cookies, lifetimes=lifetimes)

        def cookie(self, name: str) -> str | None:
            jar = SimpleCookie(self.headers.get("Cookie", ""))
            return jar[name].value if name in jar else None

        def session_cookie(self, name: str) -> str | None:
            """NAME, or NAME_0, NAME_1, ... joined in order (oauth2-proxy's loadCookie)."""
            if (whole := self.cookie(name)) is not None:
                return whole
            chunks = []
            while (chunk := self.cookie(f"{name}_{len(chunks)}")) is not None:
                chunks.append(chunk)
            return "".join(chunks) or None

        def form(self) -> dict[str, str]:
            size = int(self.headers.get("Content-Length") or 0)
            self.body = self.rfile.read(size) if size else b""
            if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                return {}  # a JSON body (the Pipelines API's) stays in self.body
            raw = self.body.decode()
            return {key: values[-1] for key, values in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

        def do_GET(self) -> None:
            self.body = b""
            self.serve("GET", {})

        def do_POST(self) -> None:
            self.serve("POST", self.form())

        # -- routing ------------------------------------------------------------------------------------------

        def serve(self, method: str, form: dict[str, str]) -> None:
            print(f"Handling connection for {self.server.server_address[1]}", flush=True)
            on_request()
            url = urllib.parse.urlsplit(self.path)
            query = {key: values[-1] for key, values in urllib.parse.parse_qs(url.query).items()}
            workloads = cluster.workloads()
            oauth2_proxy = workloads.get(("Deployment", "oauth2-proxy", "oauth2-proxy"))
            authservice = workloads.get(("StatefulSet", "istio-system", "authservice"))
            if url.path.startswith("/dex/"):  # skip_auth_routes ^/dex/ (oauth2-proxy), SKIP_AUTH_URI=/dex (authservice)
                return self.dex(method, url.path, query, form, workloads.get(("Deployment", "auth", "dex")))
            if oauth2_proxy is not None and self.headers.get("Authorization") is not None:
                verdict = istio_jwt.check(self.headers["Authorization"], cluster.get, cluster.raw)  # no oauth2-proxy
                if verdict.user is None:
                    return self.send(verdict.status, verdict.text, content_type="text/plain")
                email = verdict.user
            elif oauth2_proxy is not None:
                if not ready(oauth2_proxy):  # Istio's ext-authz provider unreachable: the request is denied
                    return self.send(403, "RBAC: access denied", content_type="text/plain")
                email = self.oauth2_proxy(url.path, query)
            elif authservice is not None:
                if not ready(authservice):
                    return self.send(503, "no healthy upstream", content_type="text/plain")
                email = self.authservice(url.path, query)
            else:
                email = "anonymous@kubeflow.org"  # no authentication installed: Kubeflow's default user header
            if email is not None:
                self.app(url.path, email, workloads)

        # -- oauth2-proxy (oauthproxy.go) ---------------------------------------------------------------------

        def oauth2_proxy(self, path: str, query: dict[str, str]) -> str | None:
            """The signed-in user's email, or None when this answered the request itself."""
            if path == "/oauth2/start":  # OAuthStart: a CSRF cookie, then the provider's login URL (login_url)
                nonce = secrets.token_urlsafe(16)
                rd = query.get("rd") or "/"
                with memory.lock:
                    memory.states[nonce] = rd if rd.startswith("/") else "/"
                params = {"client_id": CLIENT_ID, "redirect_uri": OAUTH2_CALLBACK, "response_type": "code",
                          "scope": "profile email groups openid", "state": f"{nonce}:{rd}"}  # fmt: skip
                self.redirect("/dex/auth?" + urllib.parse.urlencode(params), cookies={OAUTH2_CSRF_COOKIE: nonce})
                return None
            if path == OAUTH2_CALLBACK:  # OAuthCallback: the CSRF cookie must match the state, the code redeem
                nonce, _, _ = query.get("state", "").partition(":")
                if not nonce or self.cookie(OAUTH2_CSRF_COOKIE) != nonce:
                    page = "Login Failed: Unable to find a valid CSRF token. Please try again."
                    self.send(403, page)
                    return None
                with memory.lock:
                    email = memory.codes.pop(query.get("code", ""), None)
                    rd = memory.states.pop(nonce, "/")
                    if email is None:
                        self.send(500, "Internal Server Error: redeeming the code failed")
                        return None
                    session = secrets.token_urlsafe(24)
                    session += "s" * max(0, int(os.environ.get("FAKE_GW_SESSION_BYTES") or 0) - len(session))
                    memory.sessions[session] = email
                chunks = split_session_cookie(OAUTH2_COOKIE, session)
                self.redirect(rd, cookies={**chunks, OAUTH2_CSRF_COOKIE: ""},
                              lifetimes=dict.fromkeys(chunks, OAUTH2_COOKIE_EXPIRE))  # fmt: skip
                return None
            with memory.lock:
                email = memory.sessions.get(self.session_cookie(OAUTH2_COOKIE) or "")
            if email is not None:
                return email
            if any(route.search(path) for route in OAUTH2_API_ROUTES):  # api_routes: 401 JSON, no sign-in page
                self.send(401, json.dumps({"error": "Unauthorized"}), content_type="application/json")
            else:  # skip_provider_button = false: the sign-in page, 403, the session cookie cleared
                self.send(403, SIGN_IN_PAGE.format(rd=html.escape(self.path)), cookies={OAUTH2_COOKIE: ""})
            return None

        # -- oidc-authservice (arrikto/oidc-authservice server.go) ---------------------------------------------

        def authservice(self, path: str, query: dict[str, str]) -> str | None:
            if path == AUTHSERVICE_CALLBACK:  # callback: state cookie must match, code redeemed, session created
                state = query.get("state", "")
                if not state or self.cookie(AUTHSERVICE_STATE_COOKIE) != state:
                    self.send(400, "CSRF check failed. This can happen if you are using an old login link.")
                    return None
                with memory.lock:
                    email = memory.codes.pop(query.get("code", ""), None)
                    first = memory.states.pop(state, "/")
                    if email is None:
                        self.send(401, "Failed to exchange authorization code with token")
                        return None
                    session = secrets.token_urlsafe(24)
                    memory.sessions[session] = email
                self.redirect(first, cookies={AUTHSERVICE_COOKIE: session})
                return None
            with memory.lock:
                email = memory.sessions.get(self.cookie(AUTHSERVICE_COOKIE) or "")
            if email is not None:
                return email
            state = secrets.token_urlsafe(16)  # authCodeFlowAuthenticationRequest: state cookie, 302 to OIDC_AUTH_URL
            with memory.lock:
                memory.states[state] = self.path
            params = {"client_id": CLIENT_ID, "redirect_uri": AUTHSERVICE_CALLBACK, "response_type": "code",
                      "scope": "profile email groups openid", "state": state}  # fmt: skip
            self.redirect("/dex/auth?" + urllib.parse.urlencode(params), cookies={AUTHSERVICE_STATE_COOKIE: state})
            return None

        # -- Dex (dexidp/dex server/handlers.go) --------------------------------------------------------------

        def dex(self, method: str, path: str, query: dict[str, str], form: dict[str, str], workload: Any) -> None:
            if workload is None:
                return self.send(404, "", content_type="text/plain")
            if not ready(workload):
                return self.send(503, "no healthy upstream", content_type="text/plain")
            dex = Dex(cluster, workload)
            if path == "/dex/auth" or (path == "/dex/auth/local" and "client_id" in query):
                # handleAuthorization / handleConnectorLogin: the request is checked and stored
                if query.get("response_type") != "code" or not dex.redirect_uri_allowed(
                    query.get("client_id", ""), query.get("redirect_uri", "")
                ):
                    return self.send(400, "Unregistered redirect_uri")
                if path == "/dex/auth" and dex.modern:  # one connector: straight to it (http.StatusFound)
                    return self.redirect("/dex/auth/local?" + urllib.parse.urlencode(query))
                request_id = secrets.token_hex(13)
                with memory.lock:
                    memory.auth_requests[request_id] = AuthRequest(query["redirect_uri"], query.get("state", ""))
                if dex.modern:
                    login = urllib.parse.urlencode({"back": "", "state": request_id})
                    return self.redirect("/dex/auth/local/login?" + login)
                return self.redirect("/dex/auth/local?req=" + request_id)
            login_path = "/dex/auth/local/login" if dex.modern else "/dex/auth/local"
            if path == login_path:
                request_id = query.get("state" if dex.modern else "req", "")
                with memory.lock:
                    auth_request = memory.auth_requests.get(request_id)
                if auth_request is None:
                    return self.send(400, "Requested resource does not exist.")
                if method == "GET":
                    return self.send(200, PASSWORD_PAGE.format(post_url=html.escape(self.path), prompt=USERNAME_PROMPT,
                                                               username="", error=""))  # fmt: skip
                email, hashed = dex.user()
                login, password = form.get("login", ""), form.get("password", "")
                good = bool(hashed) and login == email and bcrypt.checkpw(password.encode(), str(hashed).encode())
                if not good:  # the form again, marked invalid
                    invalid = DEX_INVALID.format(prompt=USERNAME_PROMPT)
                    page = PASSWORD_PAGE.format(post_url=html.escape(self.path), prompt=USERNAME_PROMPT,
                                                username=html.escape(login), error=invalid)  # fmt: skip
                    return self.send(401 if dex.modern else 200, page)
                auth_request.logged_in_as = email
                if dex.skip_approval:
                    return self.code_response(request_id)
                return self.redirect("/dex/approval?req=" + request_id, status=303)
            if path == "/dex/approval":
                request_id = query.get("req") or form.get("req", "")
                with memory.lock:
                    auth_request = memory.auth_requests.get(request_id)
                if auth_request is None or auth_request.logged_in_as is None:
                    return self.send(500, "Login process not yet finalized.")
                if method == "GET":
                    return self.send(200, APPROVAL_PAGE.format(req=request_id))
                if form.get("approval") != "approve":
                    return self.send(500, "Approval rejected.")
                return self.code_response(request_id)
            return self.send(404, "404 page not found", content_type="text/plain")

        def code_response(self, request_id: str) -> None:
            """sendCodeResponse: the auth request is consumed, a code issued, 303 to the client's redirect_uri."""
            with memory.lock:
                auth_request = memory.auth_requests.pop(request_id)
                code = secrets.token_urlsafe(16)
                memory.codes[code] = str(auth_request.logged_in_as)
            params = urllib.parse.urlencode({"code": code, "state": auth_request.state})
            self.redirect(f"{auth_request.redirect_uri}?{params}", status=303)

        # -- the apps behind the gateway ----------------------------------------------------------------------

        def app(self, path: str, email: str, workloads: dict[tuple[str, str, str], dict[str, Any]]) -> None:
            routes = (
                ("/pipeline/", "ml-pipeline"),
                ("/jupyter/", "jupyter-web-app-deployment"),
                ("/katib/", "katib-ui"),
                ("/", "centraldashboard"),
            )
            name = next(name for prefix, name in routes if path.startswith(prefix))
            workload = workloads.get(("Deployment", "kubeflow", name))
            if workload is None:
                return self.send(404, "", content_type="text/plain")
            if not ready(workload):
                return self.send(503, "no healthy upstream", content_type="text/plain")
            if name == "ml-pipeline":
                return self.pipelines(path, workload, email)
            if path == "/api/workgroup/env-info":
                return self.send(200, json.dumps(self.env_info(email)), content_type="application/json")
            self.send(200, DASHBOARD_PAGE if name == "centraldashboard" else f"<html><title>{name}</title></html>")

        def pipelines(self, path: str, workload: dict[str, Any], email: str) -> None:
            """KFP's healthz (backend/api/v1beta1/healthz.proto; v2beta1 from KFP 2.0, which serves both), and the
            rest of its API from tests/fakes/kfp_api.py."""
            forced = os.environ.get("FAKE_GW_KFP_STATUS")
            if forced:
                return self.send(int(forced), "upstream connect error or disconnect/reset before headers",
                                 content_type="text/plain")  # fmt: skip
            served = ["v1beta1"] + (["v2beta1"] if version(image_tag(workload)) >= (2,) else [])
            for api in served:
                if path == f"/pipeline/apis/{api}/healthz":
                    body = {"commit_sha": "0" * 40, "tag_name": image_tag(workload), "multi_user": True}
                    return self.send(200, json.dumps(body), content_type="application/json")
            if path.startswith("/pipeline/apis/"):
                url = urllib.parse.urlsplit(self.path)
                headers = {k: v for k, v in self.headers.items() if k.lower() != kfp_api.USERID_HEADER}
                call = kfp_api.Call(self.command, url.path.removeprefix("/pipeline"), kfp_api.parse_query(url.query),
                                    {**headers, kfp_api.USERID_HEADER: email}, self.body)  # fmt: skip
                # the api-server's database lives as long as its Deployment (MySQL's volume goes with `kubeflow`)
                store = state_dir() / f"kfp-api-{workload['metadata'].get('uid', 'none')}.json"
                answer = kfp_api.KfpApi(kfp_api.Cluster(cluster.get), store).handle(call, tuple(served))
                return self.send(answer.status, answer.text, content_type="application/json")
            self.send(404, json.dumps({"error": "Not Found", "code": 5}), content_type="application/json")

        def env_info(self, email: str) -> dict[str, Any]:
            """centraldashboard app/api_workgroup.ts getProfileAwareEnv: the user's bindings, `owner` for the
            Profile's owner, once the profile controller made the namespace."""
            profiles = cluster.get("profiles.kubeflow.org").get("items") or []
            namespaces = {n["metadata"]["name"] for n in cluster.get("namespaces").get("items") or []}
            bindings = [
                {"user": email, "namespace": p["metadata"]["name"], "role": "owner"}
                for p in profiles
                if _owner(p) == email and p["metadata"]["name"] in namespaces
            ]
            return {"user": email, "platform": {"kubeflowVersion": "", "provider": "other"}, "namespaces": bindings,
                    "isClusterAdmin": False}  # fmt: skip

    return Gateway
