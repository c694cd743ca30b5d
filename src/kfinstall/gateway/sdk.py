"""What the Kubeflow Pipelines SDK needs from a login, and the lines a user pastes to get a `kfp.Client` (pure).

How the SDK authenticates, from kubeflow/pipelines sdk/python/kfp/client/client.py (kfp 2.x) and
sdk/python/kfp/client/set_volume_credentials.py:
- `kfp.Client(host=..., cookies=STR)`: STR is sent as the `Cookie` header of every request (kfp_server_api's
  ApiClient `cookie`); with `cookies=None` it falls back to `client_authentication_cookie` in
  `~/.config/kfp/context.json`. No environment variable carries a cookie.
- `kfp.Client(host=..., existing_token=STR)`: `Authorization: Bearer STR`; no environment variable carries it either.
- `credentials=kfp.client.ServiceAccountTokenVolumeCredentials(path=None)` reads the token from the file named by
  `KF_PIPELINES_SA_TOKEN_PATH` (default `/var/run/secrets/kubeflow/pipelines/token`, where upstream's
  `access-ml-pipeline` PodDefault mounts it) before every request, so a refreshed file is picked up.
- The environment variables `Client()` reads: `KF_PIPELINES_ENDPOINT` (the host when `host=` is not given) and
  `KF_PIPELINES_UI_ENDPOINT` (the UI links it prints); `KF_PIPELINES_IAP_OAUTH2_CLIENT_ID`,
  `KF_PIPELINES_APP_OAUTH2_CLIENT_ID`/`_SECRET` are Google IAP's and have no part here. The namespace has no
  variable: `namespace=` or the context file.
So the secret itself is never in these lines: they name a file of mode 0600 that the user's code reads.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

#: client.py KF_PIPELINES_ENDPOINT_ENV, KF_PIPELINES_UI_ENDPOINT_ENV; kfp/client/__init__.py KF_PIPELINES_SA_TOKEN_ENV.
ENDPOINT_ENV = "KF_PIPELINES_ENDPOINT"
UI_ENDPOINT_ENV = "KF_PIPELINES_UI_ENDPOINT"
TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
#: The audience of upstream's access-ml-pipeline PodDefault, which Pipelines' api-server asks a TokenReview for
#: (kubeflow/pipelines backend/src/apiserver/common/const.go DefaultTokenReviewAudience).
PIPELINES_AUDIENCE = "pipelines.kubeflow.org"
#: oauth2-proxy splits a session cookie over 4 KB into NAME_0, NAME_1, ... (oauth2-proxy pkg/cookies/cookies.go
#: splitCookie; pkg/sessions/cookie/session_store.go joins them back).
_CHUNK = re.compile(r"_\d+\Z")


@dataclass(frozen=True)
class Cookie:
    """A cookie as the gateway set it (http.cookiejar's fields that matter)."""

    name: str
    value: str
    #: Seconds since the epoch, or None for a cookie without Max-Age/Expires (it lasts as the session does).
    expires: int | None = None


def is_session_cookie(name: str, session_cookie: str) -> bool:
    """`name` is the session cookie or one of the chunks oauth2-proxy split it into (not the CSRF cookie)."""
    return name == session_cookie or (name.startswith(session_cookie) and
                                      _CHUNK.fullmatch(name[len(session_cookie):]) is not None)  # fmt: skip


def session_cookies(cookies: Iterable[Cookie], session_cookie: str) -> list[Cookie]:
    """The session cookie, or the chunks oauth2-proxy split it into, in order; not the CSRF or state cookies."""
    mine = [c for c in cookies if is_session_cookie(c.name, session_cookie)]
    return sorted(mine, key=lambda c: (len(c.name), c.name))


def cookie_header(cookies: Iterable[Cookie]) -> str:
    """The `Cookie` header value the SDK's `cookies=` takes: `name=value; name_1=value`."""
    return "; ".join(f"{c.name}={c.value}" for c in cookies)


def expiry(cookies: Iterable[Cookie]) -> int | None:
    """When the first of them expires (None: none has an expiry of its own)."""
    times = [c.expires for c in cookies if c.expires is not None]
    return min(times) if times else None


def token_claims(token: str) -> dict[str, object]:
    """The claims of a JWT, read without checking the signature (only to say who it names, its issuer, when it
    expires: the gateway verifies it); {} when `token` is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_issuers(request_authentication: dict[str, object]) -> list[str]:
    """The issuers an Istio RequestAuthentication trusts (`spec.jwtRules[].issuer`)."""
    spec = request_authentication.get("spec")
    rules = spec.get("jwtRules") if isinstance(spec, dict) else None
    return [str(rule["issuer"]) for rule in rules or [] if isinstance(rule, dict) and rule.get("issuer")]


@dataclass(frozen=True)
class Snippet:
    """The lines that give a `kfp.Client`: Python with the host in it, or environment variables and Python."""

    python: str
    env: dict[str, str]
    python_with_env: str

    def shell(self) -> str:
        return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in self.env.items())


def pipelines_host(url: str) -> str:
    """Pipelines' API behind the gateway: `/pipeline` (the VirtualService ml-pipeline-ui routes it, and
    `kfp.Client` appends `/apis/v2beta1/...`)."""
    return url.rstrip("/") + "/pipeline"


def _client_lines(host: str, keyword: str, credential_file: str, namespace: str) -> str:
    """The lines that make a kfp.Client with the credential read from its file (`cookies=` or `existing_token=`)."""
    return "\n".join(
        (
            "import kfp",
            f"client = kfp.Client(host={host!r}, {keyword}=open({credential_file!r}).read().strip(), "
            f"namespace={namespace!r})",
            "print(client.list_runs())",
        )
    )


def cookie_snippet(url: str, cookie_file: str, namespace: str) -> Snippet:
    host = pipelines_host(url)
    return Snippet(
        python=_client_lines(host, "cookies", cookie_file, namespace),
        env={ENDPOINT_ENV: host},
        python_with_env="\n".join(
            (
                "import kfp  # the host from $" + ENDPOINT_ENV + "; the SDK reads no cookie from the environment",
                f"client = kfp.Client(cookies=open({cookie_file!r}).read().strip(), namespace={namespace!r})",
                "print(client.list_runs())",
            )
        ),
    )


def token_snippet(url: str, token_file: str, namespace: str) -> Snippet:
    host = pipelines_host(url)
    return Snippet(
        python=_client_lines(host, "existing_token", token_file, namespace),
        env={ENDPOINT_ENV: host, TOKEN_PATH_ENV: token_file},
        python_with_env="\n".join(
            (
                "import kfp  # the host from $" + ENDPOINT_ENV + ", the token from the file $" + TOKEN_PATH_ENV,
                "client = kfp.Client(credentials=kfp.client.ServiceAccountTokenVolumeCredentials(), "
                f"namespace={namespace!r})",
                "print(client.list_runs())",
            )
        ),
    )
