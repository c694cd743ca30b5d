"""A real container registry on loopback for the tests: Debian's `docker-registry` (the CNCF distribution registry)
with its bearer-token authentication, and images pushed into it by `skopeo`.

The registry is the real thing. Its token endpoint is a network-boundary fake: a tiny HTTP server that answers
anonymous token requests the way distribution/distribution docs/spec/auth/token.md specifies (`GET
realm?service=...&scope=repository:NAME:ACTIONS` -> `{"token": JWT, "access_token": JWT, "expires_in": ...}`),
granting what is asked except on repositories under `private/` (as Docker Hub grants nothing for a private or
missing repository, and the registry then answers 401 UNAUTHORIZED) and refusing those under `billing/` (403).
The JWT is what the registry's token access controller verifies (distribution registry/auth/token/token.go at
v2.8: `iss`, `aud` = the service, `exp`, `nbf`, an `access` list, signed RS256 by a key whose certificate is in
the registry's `rootcertbundle`, named in the header's `x5c`); openssl makes the key and signs. The other fake is
`BlobStore`, where the registry's own `redirect` middleware sends blob downloads (a CDN's place).

Images are OCI layouts written here (a config blob, one layer tarball, a manifest; an index for multi-arch ones)
and copied by `skopeo copy --all oci:LAYOUT:REF docker://127.0.0.1:PORT/NAME:TAG`.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import http.server
import io
import json
import re
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REGISTRY_BINARY = "/usr/bin/docker-registry"
SERVICE = "kfinstall-test-registry"
ISSUER = "kfinstall-test-token-issuer"
#: What the token endpoint answers for repositories under `billing/`: the words gcr.io gives for the images of
#: projects whose billing lapsed (arrikto/oidc-authservice#127, image-availability facts). Whether gcr.io says it
#: at its token endpoint or its manifest endpoint could not be established offline; the client handles both.
BILLING_REFUSAL = json.dumps(
    {"errors": [{"code": "DENIED", "message": "This API method requires billing to be enabled."}]}
).encode()
#: Seconds the registry may take to answer /v2/ after it starts (it is up in well under a second).
STARTUP_DEADLINE = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """The token endpoint: anonymous tokens for what is asked, nothing for `private/*`; it records each request."""

    def __init__(self, root: Path) -> None:
        self.key, self.cert = root / "token.key", root / "token.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key), "-out",
             str(self.cert), "-days", "2", "-subj", f"/CN={ISSUER}"],
            check=True, capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(self.cert), "-outform", "DER"], check=True, capture_output=True
        ).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                with issuer._lock:
                    issuer.requests.append(query)
                if any(":billing/" in scope for scope in query.get("scope", [])):
                    status, body = 403, BILLING_REFUSAL
                else:
                    token = issuer.token(query.get("scope", []))
                    status, body = 200, json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def token(self, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind == "repository" and not name.startswith("private/"):
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        jti = hashlib.sha256(f"{now}{scopes}{len(self.requests)}".encode()).hexdigest()
        claims = {"iss": ISSUER, "sub": "", "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": jti, "access": access}  # fmt: skip
        signed = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signed.encode(), check=True,
            capture_output=True,
        ).stdout  # fmt: skip
        return f"{signed}.{_b64url(signature)}"

    def scopes(self) -> list[str]:
        with self._lock:
            return [scope for query in self.requests for scope in query.get("scope", [])]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class BlobStore:
    """Where the registry's `redirect` storage middleware sends blob downloads (distribution
    registry/storage/driver/middleware/redirect: `baseurl` + the storage path): a static server of the registry's
    storage directory standing in for a CDN, recording the headers of each request."""

    def __init__(self, storage: Path) -> None:
        self.headers: list[dict[str, str]] = []
        store = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(storage), **kwargs)  # type: ignore[arg-type]

            def do_GET(self) -> None:
                store.headers.append({k.lower(): v for k, v in self.headers.items()})
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Registry:
    """A running `docker-registry serve` on loopback: `host` is `127.0.0.1:PORT`."""

    host: str
    root: Path
    issuer: TokenIssuer | None
    process: subprocess.Popen[bytes]
    blobs: BlobStore | None = None
    pushed: list[str] = field(default_factory=list)

    def push(self, layout: Path, name_and_tag: str) -> str:
        """`skopeo copy --all` of the layout's image into this registry; returns the image reference."""
        image = f"{self.host}/{name_and_tag}"
        result = subprocess.run(
            ["skopeo", "--insecure-policy", "copy", "--all", "--quiet", "--dest-tls-verify=false",
             f"oci:{layout}:image", f"docker://{image}"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"skopeo copy to {image} failed: {result.stderr}\n{self.log()}"
        self.pushed.append(image)
        return image

    def requests(self) -> list[tuple[str, str, int, str]]:
        """(method, URI, status, user agent) of every request the registry served, from its access log lines."""
        pattern = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"')
        return [(m[1], m[2], int(m[3]), m[4]) for m in pattern.finditer((self.root / "registry.log").read_text())]

    def log(self) -> str:
        path = self.root / "registry.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _config(root: Path, port: int, issuer: TokenIssuer | None, blobs: BlobStore | None) -> Path:
    """The registry's configuration (distribution docs/configuration.md): filesystem storage, loopback only."""
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root / 'storage'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        "  secret: kfinstall-tests",
    ]
    if blobs is not None:
        lines += ["middleware:", "  storage:", "  - name: redirect", "    options:", f"      baseurl: {blobs.url}"]
    if issuer is not None:
        lines += [
            "auth:",
            "  token:",
            f"    realm: {issuer.realm}",
            f"    service: {SERVICE}",
            f"    issuer: {ISSUER}",
            f"    rootcertbundle: {issuer.cert}",
        ]
    path = root / "config.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _answers(url: str) -> bool:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # 401 from a registry with auth: it is up
    except OSError:
        return False


@contextlib.contextmanager
def running_registry(root: Path, *, token_auth: bool, blob_redirects: bool = False) -> Iterator[Registry]:
    if not Path(REGISTRY_BINARY).is_file():
        pytest.skip(f"{REGISTRY_BINARY} is not installed (apt-get install docker-registry; CI installs it)")
    for tool in ("skopeo", "openssl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install {tool}; CI installs it)")
    root.mkdir(parents=True, exist_ok=True)
    issuer = TokenIssuer(root) if token_auth else None
    blobs = BlobStore(root / "storage") if blob_redirects else None
    port = _free_port()
    config = _config(root, port, issuer, blobs)
    with open(root / "registry.log", "wb") as log:
        process = subprocess.Popen([REGISTRY_BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    registry = Registry(f"127.0.0.1:{port}", root, issuer, process, blobs)
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while not _answers(f"http://{registry.host}/v2/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"docker-registry did not start on {registry.host}:\n{registry.log()}")
            time.sleep(0.05)  # polling for readiness, not waiting in its place
        yield registry
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if issuer is not None:
            issuer.stop()
        if blobs is not None:
            blobs.stop()


# ---- OCI layouts (opencontainers/image-spec image-layout.md, manifest.md, image-index.md, config.md) ----------


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest.split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _image(layout: Path, arch: str, content: str) -> dict[str, object]:
    """One single-platform image: a layer with one file, its config, its manifest. Returns the manifest's descriptor."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = content.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    layer_tar = raw.getvalue()
    layer = _blob(layout, gzip.compress(layer_tar, mtime=0))
    config = _blob(
        layout,
        json.dumps(
            {
                "architecture": arch,
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]},
            }
        ).encode(),
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }
    return {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **_blob(layout, json.dumps(manifest).encode()),
        "platform": {"architecture": arch, "os": "linux"},
    }


def oci_layout(layout: Path, arches: list[str], *, as_index: bool) -> Path:
    """An OCI layout whose image `image` is one manifest (`as_index=False`, one arch) or an index of `arches`."""
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    manifests = [_image(layout, arch, f"{layout.name} for {arch}\n") for arch in arches]
    if as_index:
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
        top = {"mediaType": "application/vnd.oci.image.index.v1+json", **_blob(layout, json.dumps(index).encode())}
    else:
        (top,) = manifests
        top = {k: v for k, v in top.items() if k != "platform"}
    top["annotations"] = {"org.opencontainers.image.ref.name": "image"}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return layout


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real registry that wants bearer tokens from its token endpoint, shared by the tests of a session."""
    with running_registry(tmp_path_factory.mktemp("registry"), token_auth=True) as registry:
        yield registry


@pytest.fixture
def redirecting_registry(tmp_path: Path) -> Iterator[Registry]:
    """A real registry with token auth whose blob downloads are redirected to another host (as Docker Hub's go to
    its CDN), for one test."""
    with running_registry(tmp_path / "registry", token_auth=True, blob_redirects=True) as registry:
        yield registry


@pytest.fixture
def open_registry(tmp_path: Path) -> Iterator[Registry]:
    """A real registry without authentication (as a local mirror is), for one test."""
    with running_registry(tmp_path / "registry", token_auth=False) as registry:
        yield registry
