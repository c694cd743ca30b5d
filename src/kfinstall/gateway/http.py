"""A small HTTP session with cookies over the standard library: what a browser does for `kfinstall verify`.

This is network, not an external program, so it does not go through `runner` (like checks/registry.py). Redirects
are not followed by urllib but one by one here, so that the login flow sees each answer (oauth2-proxy's 403, Dex's
302s and 303s) and the cookies each one sets. Nothing here logs a cookie, a form's values or a query string: Dex's
`code` and `state` and the session cookie are credentials (the log line has the method, the path and the status).
"""

from __future__ import annotations

import http.cookiejar
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message

from kfinstall.errors import KfError

log = logging.getLogger("kfinstall.gateway")

#: Seconds one request may take (a cold Dex or dashboard answers within a few).
TIMEOUT = 30.0
#: Redirects followed for one request at most (the longest flow, oauth2-proxy → Dex → callback, has 5).
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Response:
    status: int
    url: str
    headers: Message = field(repr=False)
    body: bytes = field(repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str | None:
        where = self.headers.get("Location")
        return urllib.parse.urljoin(self.url, where) if where else None

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and self.location is not None


class Unreachable(KfError):
    """The gateway did not answer at all (refused, reset, timed out)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class _AnyStatus(urllib.request.HTTPErrorProcessor):
    """Every status is an answer to look at (a 403 sign-in page, a 401 from Dex), not an exception."""

    def http_response(self, request: urllib.request.Request, response: object) -> object:
        return response

    https_response = http_response


class Session:
    """Cookies kept across requests, as a browser keeps them."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.timeout = timeout
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects(), _AnyStatus()
        )

    def cookie_names(self) -> set[str]:
        return {cookie.name for cookie in self.cookies}

    def request(
        self, method: str, url: str, form: dict[str, str] | None = None, *, json_body: object | None = None
    ) -> Response:
        """One request, no redirect followed: a form (a login page's) or a JSON body (an API's), or none."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        if json_body is not None:
            data = json.dumps(json_body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "text/html,application/json")
        if data is not None:
            kind = "application/json" if json_body is not None else "application/x-www-form-urlencoded"
            request.add_header("Content-Type", kind)
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                response = Response(answer.status, url, answer.headers, answer.read())
        except (OSError, urllib.error.URLError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(
                f"{urllib.parse.urlsplit(url).netloc} does not answer: {reason}",
                "is the port-forward running? see `kfinstall status`",
            ) from None
        log.debug("gateway %s %s -> %s", method, urllib.parse.urlsplit(url).path, response.status)
        return response

    def get(self, url: str) -> Response:
        return self.follow(self.request("GET", url))

    def post(self, url: str, form: dict[str, str]) -> Response:
        return self.follow(self.request("POST", url, form))

    def post_json(self, url: str, body: object) -> Response:
        return self.follow(self.request("POST", url, json_body=body))

    def follow(self, response: Response) -> Response:
        """Follow redirects with GET (a 303 after a POST, as browsers do for 301–303), up to MAX_REDIRECTS."""
        for _ in range(MAX_REDIRECTS):
            if not response.is_redirect:
                return response
            response = self.request("GET", str(response.location))
        return response
