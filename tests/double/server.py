"""The HTTP face of the double: API routes, discovery, watch streams, faults, request log and a control port.

The API port can go down and come back on the same port (an apiserver restart) while the control port stays up, so a
test or the standalone CLI can script faults of a running double at any time.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import select
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.double import discovery, errors
from tests.double.api import Api, parse_body, predicate, render, token_request
from tests.double.catalog import ResourceType, deprecation_warning
from tests.double.cluster import Cluster
from tests.double.controllers.manager import Controllers
from tests.double.controllers.pulls import use_link
from tests.double.images import external_pull_error
from tests.double.scenario import Scenario
from tests.double.tables import to_table
from tests.double.timeline import Timeline

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], handler: type, double: DoubleServer) -> None:
        self.double = double
        self.sockets: set[socket.socket] = set()
        super().__init__(addr, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.sockets.discard(request)
        super().shutdown_request(request)


class DoubleServer:
    """A running simulated apiserver: cluster state, controllers, API port, control port, request log, readiness
    timeline."""

    def __init__(self, scenario: Scenario, state_dir: Path | None = None, host: str = "127.0.0.1") -> None:
        self.scenario = scenario
        self.cluster = Cluster(scenario)
        self.api = Api(self.cluster)
        self.controllers = Controllers(self.cluster)
        self.state_dir = state_dir
        self.host = host
        self.port = 0
        self._api_server: _HTTPServer | None = None
        self._control: _HTTPServer | None = None
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._log_file = None
        self._fault_rng = random.Random(scenario.seed + 1)
        #: A count-based fault: how many more matching requests fail, and the knobs to put back after the last one.
        self._fault_lock = threading.Lock()
        self._fault_left: int | None = None
        self._fault_restore: dict[str, Any] = {}
        self._timers: list[threading.Timer] = []
        self.down = False
        self.stopped = threading.Event()
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._log_file = open(state_dir / "requests.jsonl", "a", buffering=1)  # noqa: SIM115
        #: Workloads becoming ready / not ready, beside the request log (state_dir/ready.jsonl).
        self.timeline = Timeline(state_dir / "ready.jsonl" if state_dir is not None else None)
        self.cluster.observers.append(self.timeline.observe)

    # ----------------------------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        assert self._control is not None
        return f"http://{self.host}:{self._control.server_address[1]}"

    def start(self) -> DoubleServer:
        self.controllers.bootstrap()
        self._listen(0)
        self._control = _HTTPServer((self.host, 0), ControlHandler, self)
        threading.Thread(target=self._control.serve_forever, name="double-control", daemon=True).start()
        self.controllers.start()
        return self

    def _listen(self, port: int) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                server = _HTTPServer((self.host, port), ApiHandler, self)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.port = server.server_address[1]
        self._api_server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="double-api", daemon=True
        ).start()

    def _close_api(self) -> None:
        server, self._api_server = self._api_server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        self.cluster.close_watches()
        for sock in list(server.sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restart(self, down_for: float = 1.0, block: bool = False) -> None:
        """Stop listening for `down_for` seconds, then listen again on the same port (state is kept)."""
        self.down = True
        self._close_api()

        def back() -> None:
            if not self.stopped.is_set():
                self._listen(self.port)
                self.down = False

        if block:
            time.sleep(down_for)
            back()
        else:
            self._later(down_for, back)

    def stop(self) -> None:
        self.stopped.set()
        for t in self._timers:
            t.cancel()
        self.controllers.stop()
        self._close_api()
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self.timeline.close()

    def _later(self, delay: float, fn: Any) -> None:
        timer = threading.Timer(delay, fn)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    # ----------------------------------------------------------------------------------------------- faults

    def set_fault(
        self,
        *,
        error_rate: float | None = None,
        error_code: int | None = None,
        error_paths: str | None = None,
        latency: float | None = None,
        duration: float | None = None,
        count: int | None = None,
    ) -> None:
        """Change fault knobs now; with `duration`, put the previous values back afterwards; with `count`, after that
        many requests failed. A count makes a test independent of how fast the machine is: a time window can expire
        before a loaded client sends its first request (seen under two xdist workers beside other jobs), a count of
        refused requests cannot."""
        previous = {k: getattr(self.scenario, k) for k in ("error_rate", "error_code", "error_paths", "latency")}
        changes = {
            k: v
            for k, v in {
                "error_rate": error_rate,
                "error_code": error_code,
                "error_paths": error_paths,
                "latency": latency,
            }.items()
            if v is not None
        }
        with self._fault_lock:
            self.scenario.update(**changes)
            if count is not None:
                self._fault_left = count
                self._fault_restore = {k: previous[k] for k in changes}
        if duration:
            self._later(duration, lambda: self.scenario.update(**{k: previous[k] for k in changes}))

    def should_fail(self, path: str) -> bool:
        with self._fault_lock:
            s = self.scenario
            if s.error_rate <= 0:
                return False
            if s.error_paths and not re.search(s.error_paths, path):
                return False
            if self._fault_rng.random() >= s.error_rate:
                return False
            if self._fault_left is not None:
                self._fault_left -= 1
                if self._fault_left <= 0:
                    self._fault_left = None
                    self.scenario.update(**self._fault_restore)
            return True

    # ----------------------------------------------------------------------------------------------- log

    def record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._log.append(entry)
            if self._log_file is not None:
                self._log_file.write(json.dumps(entry) + "\n")

    def requests(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return list(self._log)

    # ----------------------------------------------------------------------------------------------- images

    def pull_image(self, image: str, load: bool = False) -> dict[str, Any]:
        """`docker pull IMAGE` on the node, outside the kubelet's queue; returns once the image is present.

        Already present: at once. Being pulled (by the kubelet or another external pull): waits for that pull.
        Without the pull model (no image_pull_delays nor image_link_bandwidth): present at once. With `load`
        (`minikube image load`): present at once, or after its extraction with the link's extraction rate
        (ImageStore.load).
        Raises LookupError for an image the scenario's image_pull_backoff or deleted_images makes unpullable.
        """
        cluster, images, s = self.cluster, self.controllers.images, self.scenario
        if s.image_fails(image):
            raise LookupError(image)
        asked = time.monotonic()
        with cluster.lock:
            use_link(images, s, asked)
            images.advance(asked, s.serialize_image_pulls)
            already = image in images.present
            if load or not s.pull_model:
                images.load(image, asked)
            else:
                images.external_pull(image, asked, images.duration(image, s.image_pull_delays, s.seed))
        cluster.changed.set()  # the controllers learn when it ends (next_change) and wake then
        while not self.stopped.is_set():
            with cluster.lock:
                now = time.monotonic()
                images.advance(now, s.serialize_image_pulls)
                if image in images.present:
                    break
                pull = images.pulling.get(image) or images.loading.get(image)
                wait = (pull.end - now) if pull is not None else 0.05
            time.sleep(min(max(wait, 0.001), 0.05))
        return {"image": image, "pulled": not already and not load, "seconds": round(time.monotonic() - asked, 3)}

    def images_state(self) -> dict[str, Any]:
        """The node's image store with wall-clock times (the request log's clock)."""
        images = self.controllers.images
        with self.cluster.lock:
            offset = time.time() - time.monotonic()
            return {
                "present": {image: at + offset for image, at in sorted(images.present.items())},
                "pulling": [
                    {
                        "image": p.image,
                        "start": p.start + offset,
                        "end": p.end + offset,
                        "kubelet": p.kubelet,
                        "loaded": loaded,
                    }
                    for loaded, pulls in ((False, images.pulling), (True, images.loading))
                    for p in pulls.values()
                ],
                "queue": [{"image": image, "asked": at + offset} for image, at, _ in images.queue],
                "pulls": [
                    {"image": p.image, "start": p.start + offset, "end": p.end + offset, "kubelet": p.kubelet}
                    for p in images.history
                ],
                "loads": [{"image": p.image, "start": p.start + offset, "end": p.end + offset} for p in images.loads],
            }


# --------------------------------------------------------------------------------------------------- API handler


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        """No Nagle: headers and body go out as separate sends, and kubectl's delayed ACK would add ~40 ms."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log replaces the default stderr lines."""

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # a body of unknown length (kubectl create --raw -f -: Go's net/http sends it chunked, transfer.go),
            # which the API server's net/http server reads like any other (RFC 9112 7.1)
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailer fields, then the empty line
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        if getattr(self, "_warning", None):
            self.send_header("Warning", f'299 - "{self._warning}"')
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self._status = code
        self._log_request()  # before the body goes out: once kubectl has its answer, the log has the request
        self.wfile.write(data)

    def _log_request(self) -> None:
        """Hook for the API handler's request log (the control port logs nothing)."""


class ApiHandler(_Base):
    """Routes of kube-apiserver that the real kubectl uses."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        double = self.server.double
        started = time.monotonic()
        split = urlsplit(self.path)
        self._status = 0
        self._warning: str | None = None
        self._logged = False
        self._request_info = (method, split, started)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        body = self._body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        try:
            if double.scenario.latency:
                time.sleep(double.scenario.latency)
            if double.should_fail(split.path):
                code = double.scenario.error_code
                err = errors.unavailable() if code == 503 else errors.internal("etcdserver: request timed out")
                err.code = code
                raise err
            self._route(method, split.path, query, body)
        except errors.ApiError as exc:
            self._send(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            self._status = self._status or 499
        except Exception as exc:
            traceback.print_exc()
            self._send(500, errors.internal(f"double: {type(exc).__name__}: {exc}").status())
        finally:
            self._log_request()

    def _log_request(self) -> None:
        """Append this request to the log, once (at its response, or at the end of a watch stream)."""
        if self._logged:
            return
        self._logged = True
        method, split, started = self._request_info
        self.server.double.record(
            {
                "time": time.time(),
                "method": method,
                "path": split.path,
                "query": split.query,
                "status": self._status,
                "duration": round(time.monotonic() - started, 4),
                "user_agent": self.headers.get("User-Agent", ""),
            }
        )

    # ------------------------------------------------------------------------------------------------ routing

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        double = self.server.double
        cluster = double.cluster
        s = double.scenario
        accept = self.headers.get("Accept", "")
        parts = [unquote(p) for p in path.split("/") if p]
        if method == "GET":
            if path == "/version":
                return self._send(200, discovery.version_info(s.k8s_version))
            if path in ("/healthz", "/livez", "/readyz"):
                return self._send(200, b"ok", "text/plain; charset=utf-8")
            openid = s.openid_discovery if s.openid_discovery is not None else s.minor >= 20
            if path == "/.well-known/openid-configuration" and openid:
                return self._send(
                    200,
                    {
                        "issuer": s.service_account_issuer,
                        "jwks_uri": "https://192.168.49.2:8443/openid/v1/jwks",
                        "response_types_supported": ["id_token"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            if path == "/openid/v1/jwks" and openid:
                from tests.double import signing

                return self._send(200, signing.jwks(), "application/jwk-set+json")
            aggregated = s.aggregated_discovery if s.aggregated_discovery is not None else s.minor >= 30
            with cluster.lock:
                types = cluster.types()
            if path in ("/api", "/apis") and aggregated and "apidiscovery.k8s.io;v=v2" in accept:
                doc = discovery.aggregated(types, core=path == "/api")
                return self._send(200, doc, AGGREGATED_V2)
            if path == "/api":
                return self._send(200, discovery.api_versions())
            if path == "/apis":
                return self._send(200, discovery.api_group_list(types))
            if path == "/api/v1":
                return self._send(200, discovery.resource_list(types, "", "v1"))
            if len(parts) == 2 and parts[0] == "apis":
                group = discovery.api_group(types, parts[1])
                if group is None:
                    raise _page_not_found()
                return self._send(200, group)
            if len(parts) == 3 and parts[0] == "apis":
                if parts[2] not in discovery.group_versions(types).get(parts[1], []):
                    raise _page_not_found()
                return self._send(200, discovery.resource_list(types, parts[1], parts[2]))
            if path == "/openapi/v2":
                # An empty gnostic Document (zero protobuf bytes): kubectl's client-side validation finds no
                # schema for any kind and skips it, as it does for kinds a real server's document lacks.
                return self._send(200, b"", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            if path == "/openapi/v3":
                return self._send(200, discovery.openapi_v3_root(types))
            if parts[:2] == ["openapi", "v3"]:
                if parts[2] == "api" and len(parts) == 4:
                    group, version = "", parts[3]
                elif parts[2] == "apis" and len(parts) == 5:
                    group, version = parts[3], parts[4]
                else:
                    raise _page_not_found()
                if version not in discovery.group_versions(types).get(group, []):
                    raise _page_not_found()
                return self._send(200, discovery.openapi_v3_doc(types, group, version, s.k8s_version))
        self._resource(method, parts, query, body, accept)

    def _resource(self, method: str, parts: list[str], query: dict[str, str], body: bytes, accept: str) -> None:
        cluster = self.server.double.cluster
        api = self.server.double.api
        if parts[:1] == ["api"] and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _page_not_found()
        ns: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            probe = cluster.lookup(group, version, rest[2])
            if probe is not None and probe.namespaced:
                ns, rest = rest[1], rest[2:]
        rt = cluster.lookup(group, version, rest[0])
        if rt is None:
            raise errors.ApiError(
                404,
                "NotFound",
                "the server could not find the requested resource",
                {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]},
            )
        if rt.namespaced and ns is None and len(rest) > 1:
            raise _page_not_found()
        self._warning = deprecation_warning(rt, cluster.scenario.minor)
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if method == "GET" and sub == "log" and rt.group == "" and rt.kind == "Pod" and name is not None:
            return self._pod_log(api.get(rt, ns or "", name), query.get("container"))
        if sub == "exec" and rt.group == "" and rt.kind == "Pod" and name is not None and method in ("GET", "POST"):
            from tests.double import podexec  # kubectl exec: WebSocket v5 (the module says what is simulated)

            return podexec.serve(self, api.get(rt, ns or "", name), self._request_info[1].query, cluster.scenario)
        if sub is not None and sub not in rt.subresources:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        manager = query.get("fieldManager") or _manager(self.headers.get("User-Agent", ""))
        dry_run = "dryRun" in query
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if "protobuf" in ctype or "cbor" in ctype:
            raise errors.ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml, application/apply-patch+yaml",
            )
        if method == "GET" and name is None:
            if query.get("watch") in ("true", "1"):
                return self._watch(rt, ns, query)
            result = api.list(rt, ns, query.get("labelSelector"), query.get("fieldSelector"))
            return self._send_obj(200, result, accept, rt)
        if sub == "token" and method == "POST" and rt.kind == "ServiceAccount" and name is not None:
            return self._send(201, token_request(api, ns or "", name, parse_body(body) if body.strip() else {}))
        if sub == "scale" and method in ("GET", "PUT"):
            return self._send(
                200, api.scale(rt, ns or "", name, None, parse_body(body) if method == "PUT" else None, manager)
            )
        if method == "GET":
            return self._send_obj(200, api.get(rt, ns or "", name), accept, rt)
        if method == "POST" and name is None:
            return self._send(201, api.create(rt, ns or "", parse_body(body), manager, dry_run))
        if method == "PUT" and name is not None:
            return self._send(200, api.update(rt, ns or "", name, parse_body(body), manager, sub, dry_run))
        if method == "PATCH" and name is not None:
            force = query.get("force") in ("true", "1")
            code, obj = api.patch(rt, ns or "", name, ctype, body, manager, force, sub, dry_run)
            return self._send(code, obj)
        if method == "DELETE" and name is not None:
            options = parse_body(body) if body.strip() else {}
            orphan = (options.get("propagationPolicy") or query.get("propagationPolicy")) == "Orphan" or options.get(
                "orphanDependents"
            ) is True
            return self._send(200, api.delete(rt, ns or "", name, dry_run, orphan))
        if method == "DELETE":
            return self._send(
                200, api.delete_collection(rt, ns, query.get("labelSelector"), query.get("fieldSelector"))
            )
        raise errors.ApiError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )

    def _pod_log(self, pod: dict[str, Any], container: str | None) -> None:
        """`pods/NAME/log`: the text the scenario's `pod_logs` gives the container's image, once it has started.

        Errors are the apiserver's (pkg/registry/core/pod/strategy.go LogLocation): a container must be named when
        there are several, a waiting container has no log yet; an unscheduled pod has an empty one.
        """
        name = pod["metadata"]["name"]
        containers = (pod.get("spec") or {}).get("containers") or []
        names = [c.get("name", "") for c in containers]
        if container is None:
            if len(names) != 1:
                raise errors.bad_request(
                    f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
                )
            container = names[0]
        if container not in names:
            raise errors.bad_request(f"container {container} is not valid for pod {name}")
        statuses = {st.get("name"): st for st in (pod.get("status") or {}).get("containerStatuses") or []}
        if not (pod.get("spec") or {}).get("nodeName") or container not in statuses:
            return self._send(200, b"", "text/plain")
        waiting = (statuses[container].get("state") or {}).get("waiting")
        last = (statuses[container].get("lastState") or {}).get("terminated") or {}
        if waiting is not None and not last.get("containerID"):  # a crash-looping one shows its last run's log
            reason = waiting.get("reason", "ContainerCreating")
            if reason in ("ImagePullBackOff", "ErrImagePull"):
                reason = "trying and failing to pull image"
            raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
        image = next(c.get("image", "") for c in containers if c.get("name") == container)
        self._send(200, self.server.double.scenario.log_for(image).encode(), "text/plain")

    def _send_obj(self, code: int, obj: dict[str, Any], accept: str, rt: ResourceType) -> None:
        if "as=Table" in accept:
            return self._send(code, to_table(obj, rt), "application/json;as=Table;v=v1;g=meta.k8s.io")
        return self._send(code, obj)

    def _watch(self, rt: ResourceType, ns: str | None, query: dict[str, str]) -> None:
        cluster = self.server.double.cluster
        pred = predicate(rt, query.get("labelSelector"), query.get("fieldSelector"))
        since_raw = query.get("resourceVersion")
        initial = query.get("sendInitialEvents") == "true"
        since = int(since_raw) if since_raw and since_raw != "0" and not initial else None
        watcher, bookmark_rv = cluster.watch((rt.group, rt.kind), ns, pred, since)
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        self.send_response(200)
        if getattr(self, "_warning", None):
            self.send_header("Warning", f'299 - "{self._warning}"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self._status = 200
        self.close_connection = True
        if initial:
            # WatchList (sendInitialEvents): the current objects as ADDED, then a bookmark marking their end.
            watcher.events.put(
                (
                    "BOOKMARK",
                    {
                        "kind": rt.kind,
                        "apiVersion": rt.group_version,
                        "metadata": {
                            "resourceVersion": str(bookmark_rv),
                            "annotations": {"k8s.io/initial-events-end": "true"},
                        },
                    },
                )
            )
        try:
            while time.monotonic() < deadline and not self.server.double.stopped.is_set():
                try:
                    item = watcher.events.get(timeout=0.2)
                except Exception:  # queue.Empty
                    if self._client_gone():
                        return
                    continue
                if item is None:
                    return
                etype, obj = item
                body = obj if etype == "BOOKMARK" else render(obj, rt)
                line = json.dumps({"type": etype, "object": body}).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            return
        finally:
            cluster.unwatch(watcher)

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
        return False


def _page_not_found() -> errors.ApiError:
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource")


def _manager(user_agent: str) -> str:
    """The default field manager: the user agent's program name, like the apiserver derives it."""
    return (user_agent.split("/")[0] or "unknown")[:128]


# --------------------------------------------------------------------------------------------------- control


class ControlHandler(_Base):
    """/_double/...: inspect and steer a running double (faults, knobs, request log, timeline, objects)."""

    def do_GET(self) -> None:
        double = self.server.double
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        if split.path == "/_double/state":
            return self._send(
                200,
                {"url": double.url, "port": double.port, "down": double.down, "scenario": double.scenario.to_dict()},
            )
        if split.path == "/_double/requests":
            return self._send(200, double.requests())
        if split.path == "/_double/timeline":
            return self._send(200, double.timeline.entries())
        if split.path == "/_double/images":
            return self._send(200, double.images_state())
        if split.path == "/_double/objects":
            with double.cluster.lock:
                objs = [o for o in double.cluster.list((query.get("group", ""), query["kind"]), query.get("namespace"))]
                data = json.dumps(objs).encode()
            return self._send(200, data)
        self._send(404, {"error": "unknown control path"})

    def do_POST(self) -> None:
        double = self.server.double
        data = json.loads(self._body() or b"{}")
        path = urlsplit(self.path).path
        try:
            if path == "/_double/knobs":
                double.scenario.update(**data)
            elif path == "/_double/fault":
                double.set_fault(**data)
            elif path == "/_double/restart":
                double.restart(float(data.get("down_for", 1.0)))
            elif path == "/_double/save":  # before an in-place Kubernetes upgrade (tests/double/persist.py)
                from tests.double import persist

                return self._send(200, {"saved": persist.save(double.cluster, Path(data["path"]))})
            elif path == "/_double/pull":
                image = data.get("image")
                if not isinstance(image, str) or not image:
                    raise ValueError('a pull needs {"image": "REFERENCE"}')
                try:
                    return self._send(200, double.pull_image(image, load=bool(data.get("load"))))
                except LookupError:  # the daemon's words for a deleted image (tests/double/images.py)
                    s = double.scenario
                    error = external_pull_error(image, s.deleted_image_error(image), s.container_runtime)
                    return self._send(502, {"error": error})
            else:
                return self._send(404, {"error": "unknown control path"})
        except (KeyError, TypeError, ValueError) as exc:
            return self._send(400, {"error": str(exc)})
        self._send(200, {"ok": True, "scenario": double.scenario.to_dict()})
