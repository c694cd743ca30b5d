"""`kfinstall client`: a working `kfp.Client` on the user's laptop, the most asked question around local Kubeflow.

Two ways in, as the gateway of the install allows (kubeflow/pipelines sdk/python/kfp/client/client.py reads both):
- the session cookie (default): kfinstall logs in as `verify` does (gateway/login.py, the release's own flow),
  keeps the session cookie in a file of mode 0600 and prints `kfp.Client(host=..., cookies=open(FILE).read())`.
  The cookie ends with the gateway's session (oauth2-proxy: `cookie_expire`, 24h in Kubeflow's
  common/oauth2-proxy/base/oauth2_proxy.cfg, the lifetime of Dex's ID token in it): the expiry is the one the
  gateway set, and running `client` again gives a fresh one.
- `--token`: a Kubernetes service-account token of the user's namespace (the TokenRequest of `kubectl create token
  default-editor`, audience `pipelines.kubeflow.org` as upstream's access-ml-pipeline PodDefault asks), where the
  gateway trusts
  the cluster's tokens: oauth2-proxy's overlay `m2m-dex-and-kind` adds the Istio RequestAuthentication
  `m2m-token-issuer` (common/oauth2-proxy/components/istio-m2m, issuers patched in
  common/oauth2-proxy/overlays/m2m-dex-and-kind), the default `m2m-dex-only` trusts Dex's tokens only. Upstream's CI
  uses such tokens for its pipeline tests (.github/workflows/pipeline_test.yaml of each tag).
The file lives under kfinstall's cache directory (`sessions/CONTEXT/`, directory 0700): the value is never printed,
only the file, so it stays out of terminal scrollback, shell history and screenshots; `down` removes it.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall.cachedir import session_dir
from kfinstall.commands import verify
from kfinstall.commands.frame import Command
from kfinstall.errors import KfError
from kfinstall.gateway import sdk
from kfinstall.gateway.verdicts import Row
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests import login as dex_login

if TYPE_CHECKING:
    from kfinstall.release.pins import Release
    from kfinstall.ui.messages import Voice

#: The URL the printed lines use without --url: where `kfinstall port-forward` listens by default.
DEFAULT_URL = "http://localhost:8080"
#: The ServiceAccount every Profile's namespace gets, bound to kubeflow-edit (the profile controller,
#: kubeflow/kubeflow components/profile-controller controllers/profile_controller.go): upstream's CI mints its
#: pipeline tokens for it.
EDITOR = "default-editor"
#: The RequestAuthentication of the m2m overlays (common/oauth2-proxy/components/istio-m2m/requestauthentication.yaml).
M2M_AUTHENTICATION = ("requestauthentications.security.istio.io", "m2m-token-issuer", "istio-system")
M2M_VARIANT = "m2m-dex-and-kind"


@dataclass(frozen=True)
class ClientOptions:
    login: verify.VerifyOptions
    token: bool = False
    env: bool = False


@dataclass(frozen=True)
class ClientResult:
    release: str
    url: str
    email: str
    namespace: str
    #: "cookie" or "token".
    credential: str
    #: The file holding the credential (None: the login failed, nothing written).
    path: Path | None = None
    #: When the credential expires, seconds since the epoch (None: the gateway set no expiry).
    expires: int | None = None
    snippet: sdk.Snippet | None = None
    show_env: bool = False
    #: True: the URL is --url's (the login went there); False: the default port-forward's.
    url_given: bool = False
    rows: tuple[Row, ...] = field(default_factory=tuple)
    #: The Pipelines API of the release (pins' gateway.kfp_api): v1beta1 is KFP 1.x, which kfp 2 does not speak.
    kfp_api: str = "v2beta1"

    @property
    def exit_code(self) -> int:
        return 0 if self.path is not None else 1

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "release": self.release,
            "url": self.url,
            "email": self.email,
            "namespace": self.namespace,
            "credential": self.credential,
            "kfp_api": self.kfp_api,
            "file": str(self.path) if self.path else None,
            "expires": _utc(self.expires) if self.expires is not None else None,
            "checks": [row.as_dict() for row in self.rows],
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
        }
        if self.snippet is not None:
            document.update(
                python=self.snippet.python, env=self.snippet.env, python_with_env=self.snippet.python_with_env
            )
        return document


def _utc(epoch: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def write_secret(path: Path, text: str) -> None:
    """`text` into `path`, mode 0600 from its first byte (created so, whatever the umask), in a directory of mode
    0700; replaced atomically, so a reader never sees half a cookie and an old file never keeps wider bits."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def client(options: ClientOptions, say: Any) -> ClientResult:
    from kfinstall.release.pins import load_pins

    login = options.login
    kubectl, record = verify.installed("client", login)
    release = load_pins(login.pins).get(record.release)
    if "pipelines" not in record.components:
        raise KfError(
            f"Kubeflow Pipelines is not installed on context {login.context!r} (profile {record.profile})",
            "install it: `kfinstall up --profile standard` (or `--with pipelines`)",
        )
    if release.gateway is None:
        raise KfError(
            f"the pins say nothing of how to log in to Kubeflow {record.release}", "use `--pins` of a newer kfinstall"
        )
    email = dex_login.check_email(login.email) if login.email else record.email
    namespace = dex_login.profile_name(email)
    url = (login.url or DEFAULT_URL).rstrip("/")
    if options.token:
        return _token(options, kubectl, release, email, namespace, url)
    password = verify.password_for(login, record)
    from kfinstall.redact import conceal

    conceal(password)
    if login.url:
        return _cookie(options, release, email, namespace, url, url, password)
    from kfinstall.kube import portforward

    with portforward.forwarding(portforward.ForwardOptions(login.context, verify.free_port()), say) as forwarded:
        return _cookie(options, release, email, namespace, url, forwarded, password)


def _cookie(
    options: ClientOptions, release: Release, email: str, namespace: str, url: str, login_url: str, password: str
) -> ClientResult:
    from kfinstall.gateway import verdicts
    from kfinstall.gateway.http import Session, Unreachable
    from kfinstall.gateway.login import log_in

    assert release.gateway is not None
    result = ClientResult(release.tag, url, email, namespace, "cookie", url_given=options.login.url is not None)
    session = Session()
    try:
        login = log_in(session, login_url, email, password, release.gateway.session_cookie)
    except Unreachable as error:
        return _with_rows(result, verdicts.failed("login", error.message, error.hint))
    if not login.ok:
        return _with_rows(result, verdicts.failed("login", login.reason, login.hint))
    jar = [sdk.Cookie(c.name, c.value or "", c.expires) for c in session.cookies]
    cookies = sdk.session_cookies(jar, release.gateway.session_cookie)
    path = session_dir(options.login.context) / "cookie"
    write_secret(path, sdk.cookie_header(cookies))
    return ClientResult(
        release.tag, url, email, namespace, "cookie", path, sdk.expiry(cookies),
        sdk.cookie_snippet(url, str(path), namespace), options.env, result.url_given,
        (verdicts.passed("login", login.reason),), release.gateway.kfp_api,
    )  # fmt: skip


def _with_rows(result: ClientResult, *rows: Row) -> ClientResult:
    from dataclasses import replace

    return replace(result, rows=rows)


def _token(
    options: ClientOptions, kubectl: Kubectl, release: Release, email: str, namespace: str, url: str
) -> ClientResult:
    import json

    assert release.gateway is not None
    if release.gateway.auth == "authservice":
        raise KfError(
            f"Kubeflow {release.tag} authenticates through arrikto's oidc-authservice, which takes no Kubernetes "
            "service-account tokens from outside the cluster (the token overlays came with oauth2-proxy in v1.9.1)",
            "use the session cookie: `kfinstall client` without --token",
        )
    trusted = _m2m_issuers(kubectl)
    if trusted is None:
        raise KfError(
            "this install's gateway takes no service-account tokens: its oauth2-proxy overlay trusts Dex's tokens "
            "only (m2m-dex-only; there is no RequestAuthentication m2m-token-issuer in istio-system)",
            _overlay_hint(release),
        )
    # The TokenRequest `kubectl create token` sends (kubernetes/kubernetes staging/src/k8s.io/kubectl/pkg/cmd/create/
    # create_token.go), posted as JSON with `create --raw`: kubectl's `create token` needs kubectl 1.24 or later,
    # and the answer is the whole TokenRequest (its status.token is redacted in the log like any `token` value).
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
               "spec": {"audiences": [sdk.PIPELINES_AUDIENCE]}}  # fmt: skip
    uri = f"/api/v1/namespaces/{namespace}/serviceaccounts/{EDITOR}/token"
    minted = kubectl.run("create", "--raw", uri, "-f", "-", input=json.dumps(request), timeout=60)
    if not minted.ok:
        raise KfError(
            f"a token of {EDITOR} in {namespace} was refused: {minted.stderr.strip() or minted.output}",
            f"does the namespace exist? `kubectl get profile {namespace}`; see `kfinstall verify`",
        )
    token = str((json.loads(minted.stdout).get("status") or {}).get("token", ""))
    from kfinstall.redact import conceal

    conceal(token)
    claims = sdk.token_claims(token)
    issuer = str(claims.get("iss", ""))
    if issuer not in trusted:
        raise KfError(
            f"the gateway trusts tokens issued by {', '.join(trusted) or 'nobody'}, but this cluster issues them as "
            f"{issuer or '(no issuer)'}: it would refuse them",
            "the cluster's --service-account-issuer (minikube: --extra-config=apiserver.service-account-issuer=) and "
            "the overlay's issuers must agree; or use the session cookie: `kfinstall client` without --token",
        )
    path = session_dir(options.login.context) / "token"
    write_secret(path, token)
    expires = claims.get("exp")
    return ClientResult(
        release.tag, url, email, namespace, "token", path, int(expires) if isinstance(expires, int) else None,
        sdk.token_snippet(url, str(path), namespace), options.env, options.login.url is not None,
        kfp_api=release.gateway.kfp_api,
    )  # fmt: skip


def _m2m_issuers(kubectl: Kubectl) -> list[str] | None:
    """The issuers the gateway's m2m RequestAuthentication trusts; None when there is none (or no Istio CRD)."""
    kind, name, namespace = M2M_AUTHENTICATION
    result = kubectl.run("get", kind, name, "-n", namespace, "--ignore-not-found", "-o", "json", timeout=60)
    if not result.ok or not result.stdout.strip():
        return None
    import json

    return sdk.jwt_issuers(json.loads(result.stdout))


def _overlay_hint(release: Release) -> str:
    oauth2_proxy = next((c for c in release.components if c.id == "oauth2-proxy"), None)
    if oauth2_proxy is not None and M2M_VARIANT in (oauth2_proxy.alternatives or {}):
        return (
            "install the overlay that trusts the cluster's tokens: "
            f"`kfinstall up --variant oauth2-proxy={M2M_VARIANT}` "
            "(adds the RequestAuthentication m2m-token-issuer and the cluster-jwks-proxy in istio-system); "
            "or use the session cookie: `kfinstall client` without --token"
        )
    return "use the session cookie: `kfinstall client` without --token"


# the command ---------------------------------------------------------------------------------------------------


def prepare(*, token: bool, env: bool, **login: Any) -> ClientOptions:
    """The password read now (file or stdin), as verify reads it; `--token` needs none."""
    return ClientOptions(verify.prepare(**login), token=token, env=env)


def run(request: ClientOptions, say: Voice) -> ClientResult:
    return client(request, say.warn)


def show(result: ClientResult) -> None:
    from kfinstall.ui import output

    render(result, output.stdout(soft_wrap=True), output.stderr())


def render(result: ClientResult, out: Any, err: Any) -> None:
    """The lines to paste on stdout (a pipe gets exactly them), what they rely on on stderr."""
    from rich.markup import escape

    if result.path is None or result.snippet is None:
        for row in result.rows:
            err.print(f" [red]✗[/] {row.check:<15} {escape(row.reason)}")
            if row.hint:
                err.print(f"   [yellow]hint:[/] {escape(row.hint)}")
        err.print("[red]no session: nothing written[/]")
        return
    what = (
        "session cookie" if result.credential == "cookie" else f"token of {EDITOR} (audience {sdk.PIPELINES_AUDIENCE})"
    )
    err.print(f"[green]✓[/] Kubeflow {result.release}: {result.email}, namespace {result.namespace}")
    err.print(f"  {what} in {escape(str(result.path))} (mode 0600; never printed)")
    if result.expires is not None:
        err.print(f"  it expires {_utc(result.expires)}: run `kfinstall client` again for a fresh one")
    else:
        err.print("  the gateway set no expiry: it lasts while the gateway keeps the session; `kfinstall client` again "
                  "gives a fresh one")  # fmt: skip
    if result.kfp_api == "v1beta1":  # kfp 2's client.py: "only works with Kubeflow Pipeline v2.0.0-beta.2 and later"
        err.print(f"  Pipelines of Kubeflow {result.release} is KFP 1.x (API v1beta1): use the SDK 1.8, "
                  "`pip install 'kfp<2'` (kfp 2 speaks v2beta1 only)")  # fmt: skip
    if not result.url_given:
        err.print(f"  the lines use {result.url}: keep `kfinstall port-forward` running (or pass --url)")
    if result.show_env:
        err.print("  in the shell, then in Python:")
        out.print(escape(result.snippet.shell()), highlight=False)
        out.print(escape(result.snippet.python_with_env), highlight=False)
    else:
        err.print("  in Python:")
        out.print(escape(result.snippet.python), highlight=False)


COMMAND = Command(log="client", prepare=prepare, run=run, show=show, json=ClientResult.as_dict)
