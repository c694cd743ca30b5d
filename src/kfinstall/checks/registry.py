"""Ask container registries whether they still serve an image, and for which platforms, without pulling it.

Old Kubeflow releases name images that registries have since deleted (gcr.io's retirement, gcr.io/kubebuilder's
removal); an install of them sits in ImagePullBackOff and then blames the network. A registry answers
`HEAD /v2/<name>/manifests/<reference>` (the OCI distribution API, distribution/distribution
docs/spec/api.md "Existing Manifests") without a pull, and its manifest list names the platforms it has.

This is network, not an external program, so it uses the standard library's HTTP client rather than `runner`.
Public registries (Docker Hub, gcr.io, ghcr.io, quay.io, registry.k8s.io) answer anonymous requests through the
bearer-token challenge of distribution/distribution docs/spec/auth/token.md: a `401` with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`, a GET of the realm with that service and scope, and
the request again with `Authorization: Bearer TOKEN`.

A registry that cannot be reached is "unreachable" (we could not tell), never "missing".
"""

from __future__ import annotations

import json
import platform
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from kfinstall import __version__

# ---- image references (distribution/distribution reference/regexp.go and reference/normalize.go, v2.8) -------

#: The name docker and containerd give Docker Hub in references (reference/normalize.go `defaultDomain`), its
#: legacy alias (`legacyDefaultDomain`) and the prefix of its official images (`officialRepoName`).
DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
#: Where Docker Hub's registry API is served: moby/moby registry/config.go (`DefaultV2Registry`,
#: registry-1.docker.io) and containerd remotes/docker/resolver.go map docker.io to it.
DOCKER_HUB_API_HOST = "registry-1.docker.io"
#: reference/reference.go `NameTotalLengthMax`.
NAME_TOTAL_LENGTH_MAX = 255

_ALPHA_NUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]*)"
_NAME_COMPONENT = rf"{_ALPHA_NUMERIC}(?:{_SEPARATOR}{_ALPHA_NUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_NAME_COMPONENT}(?:/{_NAME_COMPONENT})*"
_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True)
class Reference:
    """A fully qualified image reference: `domain/path`, then a tag and/or a digest."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def manifest_reference(self) -> str:
        """What goes after /manifests/: the digest when there is one (it wins over a tag, as in docker's pulls)."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def api_host(self) -> str:
        """The host:port whose /v2/ API serves this name."""
        return DOCKER_HUB_API_HOST if self.domain == DEFAULT_DOMAIN else self.domain

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse_reference(text: str) -> Reference:
    """Parse `text` as docker does (reference.ParseNormalizedNamed); ValueError when it is not a reference.

    The first path component is a registry domain only when it has a `.` or a `:` or is `localhost`
    (normalize.go `splitDockerDomain`); otherwise the image is on Docker Hub, and a single name there is an
    official image under `library/`.
    """
    if _IDENTIFIER.match(text):
        raise ValueError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    slash = text.find("/")
    if slash == -1 or (not any(c in text[:slash] for c in ".:") and text[:slash] != "localhost"):
        domain, remainder = DEFAULT_DOMAIN, text
    else:
        domain, remainder = text[:slash], text[slash + 1 :]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    remote = remainder.split(":", 1)[0].split("@", 1)[0]
    if remote.lower() != remote:
        raise ValueError("invalid reference format: repository name must be lowercase")
    match = _REFERENCE.match(f"{domain}/{remainder}")
    if match is None:
        raise ValueError(f"invalid reference format: {text}")
    name, tag, digest = match.groups()
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ValueError(f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
    return Reference(domain, name[len(domain) + 1 :], tag, digest)


# ---- the host's platform ---------------------------------------------------------------------------------------

#: platform.machine() values -> the GOARCH names manifest lists use (OCI image-spec image-index.md `platform`).
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm"}


def host_platform(machine: str | None = None) -> str:
    """`linux/<arch>` of the nodes: minikube's docker driver runs its node as a container of the host's arch."""
    machine = (machine or platform.machine()).lower()
    return f"linux/{_ARCHITECTURES.get(machine, machine)}"


HOST_PLATFORM = host_platform()

# ---- the registry's answers ------------------------------------------------------------------------------------

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
LISTS = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
#: Registries where a manifest GET counts as a pull against an anonymous rate limit (HEAD does not): Docker Hub,
#: https://docs.docker.com/docker-hub/usage/pulls/. There the platform is looked at only when the host's arch is
#: not the one nearly every image has.
PULL_COUNTED = {DOCKER_HUB_API_HOST: "linux/amd64"}
USER_AGENT = f"kfinstall/{__version__}"
#: Redirects followed per request, and the most of a body read (manifest lists of many platforms are ~10 KB).
MAX_REDIRECTS = 5
MAX_BODY = 4 * 1024 * 1024
#: The error codes of a manifest the registry does not have (distribution registry/api/v2/errors.go).
MISSING_CODES = ("MANIFEST_UNKNOWN", "NAME_UNKNOWN")

State = Literal["present", "missing", "denied", "unreachable", "invalid"]


@dataclass(frozen=True)
class Availability:
    """What a registry said about one image: its state, its own words, and the platforms (None: not looked at)."""

    image: str
    state: State
    words: str = ""
    platforms: tuple[str, ...] | None = None
    registry: str = ""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    #: What the token endpoint said when it gave no token (its words explain a refusal better than the 401's).
    token_words: str = ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects come back as answers: `Client._ask` follows them, so that a token never leaves its host."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Unreachable(Exception):
    """The network failed (refused, timed out, TLS, DNS): the registry could not be asked."""


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="...",scope="..."` -> ("bearer", {realm, service, scope}) (RFC 7235 auth-param)."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        key.lower(): quoted if quoted or not bare else bare
        for key, quoted, bare in re.findall(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', rest)
    }
    return scheme.lower(), {k: v.replace('\\"', '"') for k, v in params.items()}


def registry_words(body: bytes) -> str:
    """The registry's own error text: `CODE: message` of each error of its JSON body (docs/spec/api.md Errors)."""
    try:
        errors = json.loads(body or b"{}").get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    words = [
        f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") if isinstance(e, dict) else str(e) for e in errors
    ]
    if words:
        return "; ".join(words)
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")
    return text[:200]


def classify(status: int, body: bytes) -> tuple[State, str]:
    """The state an answer to GET/HEAD manifests means, with the registry's words (`HTTP 404` when it gave none)."""
    words = registry_words(body) or f"HTTP {status}"
    if 200 <= status < 300:
        return "present", ""
    if status == 404 or any(code in words for code in MISSING_CODES):
        return "missing", words
    if status in (401, 403):
        return "denied", words
    return "unreachable", f"HTTP {status}: {words}" if not words.startswith("HTTP") else words


def platforms_of_list(document: dict) -> tuple[str, ...]:
    """`os/architecture` of each entry of a manifest list or OCI index (attestations, `unknown/unknown`, left out)."""
    found = []
    for entry in document.get("manifests") or []:
        plat = entry.get("platform") or {}
        os_name, arch = plat.get("os"), plat.get("architecture")
        if os_name and arch and "unknown" not in (os_name, arch):
            found.append(f"{os_name}/{arch}")
    return tuple(dict.fromkeys(found))


def is_loopback(host: str) -> bool:
    """Loopback registries are spoken to in plain http (as docker does for 127.0.0.0/8, moby registry/config.go)."""
    name = host[1 : host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    return name in ("localhost", "::1") or name.startswith("127.")


class Client:
    """Anonymous manifest checks, thread-safe: a token per (realm, service, scope), a registry that failed at the
    network once is not asked again (one timeout per dead registry, not one per image)."""

    def __init__(self, *, timeout: float = 10.0, platform: str | None = HOST_PLATFORM) -> None:
        """`platform`: what the nodes pull (`os/arch`), or None to ask only whether each image exists."""
        self.timeout = timeout
        self.platform = platform
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], str | None] = {}
        self._token_locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._token_words: dict[tuple[str, str, str], str] = {}
        self._challenges: dict[str, dict[str, str]] = {}
        self._dead: dict[str, str] = {}
        self._direct = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())  # no proxy
        self._proxied = urllib.request.build_opener(_NoRedirects())

    # -- HTTP --

    def _send(self, url: str, method: str, headers: dict[str, str], token: str | None) -> Response:
        """One request, redirects not followed (`_ask` follows them, each host with its own token)."""
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, **headers})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        host = urllib.parse.urlsplit(url).netloc
        opener = self._direct if is_loopback(host) else self._proxied
        try:
            with opener.open(request, timeout=self.timeout) as answer:
                body = b"" if method == "HEAD" else answer.read(MAX_BODY)
                return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()}, body)
        except urllib.error.HTTPError as error:  # >= 300: redirects too, as _NoRedirects leaves them
            with error:
                body = b"" if method == "HEAD" else error.read(MAX_BODY)
            return Response(error.code, {k.lower(): v for k, v in (error.headers or {}).items()}, body)
        except (urllib.error.URLError, OSError, ValueError) as error:  # URLError, timeouts: OSErrors
            reason = getattr(error, "reason", error)
            text = re.sub(r"^\[Errno -?\d+\] ", "", str(reason))  # "[Errno -2] Name or service not known"
            raise Unreachable(text or type(reason).__name__) from None

    def _token(self, challenge: dict[str, str], scope: str) -> str | None:
        """An anonymous token for `scope` from the challenge's realm (token.md "Requesting a Token")."""
        key = (challenge.get("realm", ""), challenge.get("service", ""), scope)
        with self._lock:
            pending = self._token_locks.setdefault(key, threading.Lock())
        with pending:  # one request per key even when several images of a repository are checked at once
            with self._lock:
                if key in self._tokens:
                    return self._tokens[key]
            token, words = self._fetch_token(key)
            with self._lock:
                self._tokens[key] = token
                if words:
                    self._token_words[key] = words
            return token

    def _fetch_token(self, key: tuple[str, str, str]) -> tuple[str | None, str]:
        """The token, or None and the token endpoint's words (gcr.io says "denied: ..." there, not at the API)."""
        realm, service, scope = key
        query = urllib.parse.urlencode({k: v for k, v in (("service", service), ("scope", scope)) if v})
        answer = self._send(f"{realm}{'&' if '?' in realm else '?'}{query}", "GET", {}, None)
        if answer.status == 200:
            try:
                document = json.loads(answer.body)
                token = document.get("token") or document.get("access_token")
            except (ValueError, AttributeError):
                token = None
            if token:
                return token, ""
        return None, registry_words(answer.body) or f"HTTP {answer.status} from {realm}"

    def _ask(self, ref: Reference, method: str, path: str, accept: str) -> Response:
        """`method` on the registry with a token when it challenges for one, following redirects (registry.k8s.io
        sends every request on to a regional mirror, blobs go to a CDN): a token goes only to the host it is for."""
        scheme = "http" if is_loopback(ref.api_host) else "https"
        url = f"{scheme}://{ref.api_host}{path}"
        for _ in range(MAX_REDIRECTS):
            answer = self._authorized(url, method, accept, f"repository:{ref.path}:pull")
            location = answer.headers.get("location")
            if answer.status not in (301, 302, 303, 307, 308) or not location:
                return answer
            url = urllib.parse.urljoin(url, location)
        return answer

    def _authorized(self, url: str, method: str, accept: str, scope: str) -> Response:
        host = urllib.parse.urlsplit(url).netloc
        headers = {"Accept": accept}
        with self._lock:
            known = self._challenges.get(host)
        used = (known.get("realm", ""), known.get("service", ""), scope) if known else None
        answer = self._send(url, method, headers, self._token(known, scope) if known else None)
        if answer.status != 401 or "www-authenticate" not in answer.headers:
            return answer
        scheme_name, params = parse_challenge(answer.headers["www-authenticate"])
        if scheme_name != "bearer" or not params.get("realm"):
            return answer
        with self._lock:
            self._challenges[host] = params
        key = (params["realm"], params.get("service", ""), params.get("scope") or scope)
        if key == used:  # the token asked for was given and is not enough: the answer stands
            return self._with_token_words(answer, key)
        token = self._token(params, key[2])
        if token is None:
            return self._with_token_words(answer, key)
        return self._with_token_words(self._send(url, method, headers, token), key)

    def _with_token_words(self, answer: Response, key: tuple[str, str, str]) -> Response:
        with self._lock:
            words = self._token_words.get(key)
        if answer.status in (401, 403) and words:
            return Response(answer.status, answer.headers, answer.body, words)
        return answer

    # -- the check --

    def check(self, image: str) -> Availability:
        try:
            ref = parse_reference(image)
        except ValueError as error:
            return Availability(image, "invalid", str(error))
        registry = ref.api_host
        with self._lock:
            dead = self._dead.get(registry)
        if dead is not None:
            return Availability(image, "unreachable", dead, registry=registry)
        try:
            return self._check(image, ref)
        except Unreachable as error:
            with self._lock:
                self._dead.setdefault(registry, str(error))
            return Availability(image, "unreachable", str(error), registry=registry)

    def _check(self, image: str, ref: Reference) -> Availability:
        path = f"/v2/{ref.path}/manifests/{ref.manifest_reference}"
        registry = ref.api_host
        answer = self._ask(ref, "HEAD", path, ACCEPT)
        if answer.status != 200:  # the body has the registry's words (and some registries refuse HEAD)
            answer = self._ask(ref, "GET", path, ACCEPT)
            state, words = classify(answer.status, answer.body)
            if state == "denied" and answer.token_words:
                words = answer.token_words
            if state != "present":
                return Availability(image, state, words, registry=registry)
        if self.platform is None or PULL_COUNTED.get(registry) == self.platform:
            return Availability(image, "present", registry=registry)
        try:  # it is there: a failure from here on leaves its platforms unknown, and the registry is not dead
            if not answer.body:
                answer = self._ask(ref, "GET", path, ACCEPT)
                if answer.status != 200:
                    return Availability(image, "present", registry=registry)
            platforms = self._platforms(ref, answer)
        except Unreachable:
            platforms = None
        return Availability(image, "present", platforms=platforms, registry=registry)

    def _platforms(self, ref: Reference, answer: Response) -> tuple[str, ...] | None:
        try:
            document = json.loads(answer.body)
        except ValueError:
            return None
        if not isinstance(document, dict):
            return None
        media = document.get("mediaType") or answer.headers.get("content-type", "").split(";")[0]
        if media in LISTS or "manifests" in document:
            return platforms_of_list(document)
        if "architecture" in document:  # schema 1 names its platform itself
            return (f"{document.get('os', 'linux')}/{document['architecture']}",)
        digest = (document.get("config") or {}).get("digest")
        if not digest:
            return None
        config = self._ask(ref, "GET", f"/v2/{ref.path}/blobs/{digest}", "*/*")
        try:
            described = json.loads(config.body) if config.status == 200 else {}
        except ValueError:
            described = {}
        if isinstance(described, dict) and described.get("architecture"):
            return (f"{described.get('os', 'linux')}/{described['architecture']}",)
        return None


def check_all(
    images: Iterable[str],
    *,
    client: Client | None = None,
    concurrency: int = 8,
    on_result: Callable[[Availability], None] | None = None,
) -> dict[str, Availability]:
    """Check every image, `concurrency` at a time; the answers by image, in the order given."""
    client = client or Client()
    wanted = list(dict.fromkeys(images))

    def one(image: str) -> Availability:
        result = client.check(image)
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(wanted) or 1)), thread_name_prefix="registry") as p:
        return dict(zip(wanted, p.map(one, wanted), strict=True))
