"""Fake `kubectl port-forward` (the cluster double serves no SPDY/websocket streams); other commands: real kubectl.

For `port-forward` it checks the Service like kubectl does (through the real kubectl, so a missing Service gives
kubectl's own NotFound error), listens on the local port, prints kubectl's `Forwarding from ...` line, and answers
HTTP as Kubeflow's gateway does (a 302 to Dex, or Dex's login page), printing `Handling connection for PORT` per
connection. Knobs (environment), see tests/fakes/README.md:

- FAKE_PF_DROP_AFTER=SECONDS: that long after the first HTTP request it answered, print kubectl's
  `an error occurred forwarding` error;
  FAKE_PF_DROP_MODE=exit (default: then exit 1, like kubectl >= 1.23) or hang (stop forwarding, keep running);
  FAKE_PF_DROPS=N: only the first N runs drop (counted in FAKE_TOOLS_STATE), default every run.
- FAKE_PF_BIND_FAIL=1: fail to listen, with kubectl's messages (a really busy port fails the same way).
- FAKE_PF_ANSWER=redirect (default) | login: what GET / answers; gateway: Kubeflow's gateway with its login flow
  and apps, as the double's install has them (tests/fakes/gateway.py).

Like the real one, a running forward dies with the API server: kubectl's streams go through the API server's
`pods/portforward` subresource (kubernetes/kubernetes staging/src/k8s.io/kubectl/pkg/cmd/portforward/portforward.go),
and when that connection closes client-go ends the forward with `lost connection to pod` (kubernetes/client-go
tools/portforward/portforward.go `ForwardPorts`). So while forwarding it checks the API server's port every 0.2 s;
refused: that error, exit 1.

Every run appends its pid to $FAKE_TOOLS_STATE/kubectl-portforward.pids, so tests can check none is left.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PIDS_FILE = "kubectl-portforward.pids"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Dex</title></head><body>Log in to Your Account</body></html>"
REDIRECT = "/dex/auth?client_id=kubeflow-oidc-authservice&redirect_uri=%2Flogin%2Foidc&response_type=code&scope=openid"


def real_kubectl() -> str:
    return os.environ.get("FAKE_REAL_KUBECTL") or str(Path(sys.executable).parent / "kubectl")


def option(args: list[str], *names: str, default: str | None = None) -> str | None:
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return default


def klog(message: str, where: str = "portforward.go:413") -> str:
    """A klog error line as kubectl prints it: `E1129 03:04:05.123456   12345 file:line] message`."""
    now = time.time()
    stamp = time.strftime("%m%d %H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"
    return f"E{stamp} {os.getpid():>7} {where}] {message}"


def run_index(state: Path) -> int:
    """How many port-forwards ran before this one (and record this one's pid)."""
    state.mkdir(parents=True, exist_ok=True)
    path = state / PIDS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return len(path.read_text().split()) - 1


def port_forward(args: list[str]) -> int:
    sys.path[0] = str(ROOT)
    from tests.fakes.common import state_dir

    index = run_index(state_dir())
    context = option(args, "--context")
    namespace = option(args, "-n", "--namespace", default="default") or "default"
    address = option(args, "--address", default="localhost") or "localhost"
    target = next(arg for arg in args[args.index("port-forward") + 1 :] if arg.startswith(("svc/", "service/")))
    ports = [arg for arg in args if ":" in arg and arg.split(":")[0].isdigit()]
    local, _, remote = ports[0].partition(":")
    base = [real_kubectl(), *(["--context", context] if context else [])]
    found = subprocess.run([*base, "get", target, "-n", namespace, "-o", "name"], capture_output=True, text=True)
    if found.returncode != 0:
        sys.stderr.write(found.stderr)
        return 1
    host = "127.0.0.1" if address == "localhost" else address
    served = threading.Event()
    try:
        if os.environ.get("FAKE_PF_BIND_FAIL"):
            raise OSError("bind: address already in use")
        if os.environ.get("FAKE_PF_ANSWER") == "gateway":  # Kubeflow's gateway from the double (fakes/gateway.py)
            from tests.fakes import gateway

            answer = gateway.handler(base, served.set)
        else:
            answer = _handler(local, served)
        server = ThreadingHTTPServer((host, int(local)), answer)
    except OSError as error:
        print(f"Unable to listen on port {local}: Listeners failed to create with the following errors: "
              f"[unable to create listener: Error listen tcp4 {host}:{local}: {error.strerror or error}]",
              file=sys.stderr)  # fmt: skip
        print(f"error: unable to listen on any of the requested ports: [{{{local} {remote}}}]", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server_url = subprocess.run([*base, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"],
                                capture_output=True, text=True).stdout.strip()  # fmt: skip
    print(f"Forwarding from {host}:{local} -> 8080", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if server_url:
        threading.Thread(target=_die_with_the_apiserver, args=(server_url,), daemon=True).start()
    drop_after = os.environ.get("FAKE_PF_DROP_AFTER")
    drops = int(os.environ.get("FAKE_PF_DROPS", "1000000"))
    if drop_after is None or index >= drops:
        while True:
            time.sleep(3600)
    served.wait()  # counted from the first answered request: the drop always hits a working forward
    time.sleep(float(drop_after))
    pod = "istio-ingressgateway-5b7b9d8c4-x2x7q"
    closed = f"error forwarding port 8080 to pod {pod}, uid : network namespace for sandbox is closed"
    print(klog(f"an error occurred forwarding {local} -> 8080: {closed}"), file=sys.stderr, flush=True)
    server.shutdown()
    server.server_close()
    if os.environ.get("FAKE_PF_DROP_MODE", "exit") == "hang":
        while True:
            time.sleep(3600)
    print(klog("lost connection to pod", "portforward.go:233"), file=sys.stderr, flush=True)
    return 1


def _die_with_the_apiserver(server_url: str) -> None:
    """End like kubectl when the API server connection the streams run over goes away."""
    parsed = urllib.parse.urlsplit(server_url)
    address = (parsed.hostname or "127.0.0.1", parsed.port or (443 if parsed.scheme == "https" else 80))
    while True:
        try:
            socket.create_connection(address, timeout=2).close()
        except OSError:
            print(klog("lost connection to pod", "portforward.go:233"), file=sys.stderr, flush=True)
            os._exit(1)
        time.sleep(0.2)


def _handler(local: str, served: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Gateway(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            print(f"Handling connection for {local}", flush=True)
            served.set()
            if self.path == "/" and os.environ.get("FAKE_PF_ANSWER", "redirect") == "redirect":
                self.send_response(302)
                self.send_header("Location", REDIRECT)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(LOGIN_PAGE)))
            self.end_headers()
            self.wfile.write(LOGIN_PAGE)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Gateway


def main(args: list[str]) -> int:
    if "port-forward" not in args:
        os.execv(real_kubectl(), [real_kubectl(), *args])
    return port_forward(args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
