"""`python -m tests.double`: run the cluster double standalone, and steer a running one (see tests/README.md)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    from tests.double.scenario import Scenario, load_scenario
    from tests.double.server import DoubleServer

    scenario = Scenario()
    if args.scenario:
        scenario.update(**load_scenario(Path(args.scenario)))
    scenario.update(k8s_version=args.k8s_version, cpus=args.cpus, memory_mb=args.memory, gpus=args.gpus)
    if args.node_name:
        scenario.update(node_name=args.node_name)
    scenario.update(**_parse_knobs(args.set or []))
    state_dir = Path(args.state_dir)
    double = DoubleServer(scenario, state_dir=state_dir).start()
    if args.restore:  # an in-place Kubernetes upgrade: what etcd kept (tests/double/persist.py)
        from tests.double import persist

        print(f"restored {persist.load(double.cluster, Path(args.restore))} objects", flush=True)
    info = {"pid": os.getpid(), "url": double.url, "port": double.port, "control_url": double.control_url}
    tmp = state_dir / "apiserver.json.tmp"
    tmp.write_text(json.dumps(info))
    tmp.replace(state_dir / "apiserver.json")
    print(f"cluster double listening on {double.url} (control {double.control_url})", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        pass
    double.stop()
    return 0


def _control(state_dir: str, path: str, payload: dict[str, Any] | None = None, timeout: float = 10) -> Any:
    info = json.loads((Path(state_dir) / "apiserver.json").read_text())
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(info["control_url"] + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def _fault(args: argparse.Namespace) -> int:
    payload = {
        k: v
        for k, v in {
            "error_rate": args.error_rate,
            "error_code": args.error_code,
            "error_paths": args.error_paths,
            "latency": args.latency,
            "duration": args.duration,
            "count": args.count,
        }.items()
        if v is not None
    }
    if payload:
        _control(args.state_dir, "/_double/fault", payload)
    if args.restart is not None:
        _control(args.state_dir, "/_double/restart", {"down_for": args.restart})
    return 0


def _parse_knobs(items: list[str]) -> dict[str, Any]:
    """KNOB=VALUE pairs; VALUE is JSON when it parses as JSON, else a plain string."""
    knobs: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            knobs[key] = json.loads(value)
        except ValueError:
            knobs[key] = value
    return knobs


def _knobs(args: argparse.Namespace) -> int:
    knobs = _parse_knobs(args.knob)
    print(json.dumps(_control(args.state_dir, "/_double/knobs", knobs)["scenario"], indent=2))
    return 0


def _requests(args: argparse.Namespace) -> int:
    for entry in _control(args.state_dir, "/_double/requests"):
        print(json.dumps(entry))
    return 0


def _timeline(args: argparse.Namespace) -> int:
    for entry in _control(args.state_dir, "/_double/timeline"):
        print(json.dumps(entry))
    return 0


def _pull(args: argparse.Namespace) -> int:
    try:
        result = _control(args.state_dir, "/_double/pull", {"image": args.image, "load": args.load}, args.timeout)
    except urllib.error.HTTPError as error:
        print(json.loads(error.read()).get("error", str(error)), file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def _images(args: argparse.Namespace) -> int:
    print(json.dumps(_control(args.state_dir, "/_double/images"), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.double",
        description="A simulated Kubernetes API server that the real kubectl works against (see tests/README.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run a double in the foreground until SIGTERM/SIGINT")
    serve.add_argument(
        "--state-dir", required=True, help="where apiserver.json, requests.jsonl and ready.jsonl are written"
    )
    serve.add_argument("--restore", metavar="FILE", help="start with the objects a `POST /_double/save` wrote")
    serve.add_argument("--k8s-version", default="v1.34.0", help="gitVersion served; decides the served APIs")
    serve.add_argument("--cpus", type=int, default=8, help="node cpu capacity")
    serve.add_argument("--memory", type=int, default=16384, help="node memory capacity in MiB")
    serve.add_argument("--gpus", type=int, default=0, help="node nvidia.com/gpu capacity")
    serve.add_argument("--node-name", help="node name (default: minikube)")
    serve.add_argument("--scenario", help="YAML or JSON file of scenario knobs")
    serve.add_argument("--set", action="append", metavar="KNOB=VALUE", help="one scenario knob (JSON value)")
    serve.set_defaults(func=_serve)

    fault = sub.add_parser("fault", help="inject faults into a running double")
    fault.add_argument("--state-dir", required=True)
    fault.add_argument("--error-rate", type=float, help="fraction of API requests that fail")
    fault.add_argument("--error-code", type=int, help="500 or 503 (default 503)")
    fault.add_argument("--error-paths", help="regex: only matching request paths may fail")
    fault.add_argument("--latency", type=float, help="seconds added to each API request")
    fault.add_argument("--duration", type=float, help="seconds until these faults are lifted again")
    fault.add_argument("--count", type=int, help="lift these faults once this many requests failed")
    fault.add_argument("--restart", type=float, metavar="SECONDS", help="stop listening this long (same port after)")
    fault.set_defaults(func=_fault)

    knobs = sub.add_parser("knobs", help="change scenario knobs of a running double (prints them all)")
    knobs.add_argument("--state-dir", required=True)
    knobs.add_argument("knob", nargs="*", metavar="KNOB=VALUE", help="JSON values, e.g. ready_delay=2")
    knobs.set_defaults(func=_knobs)

    requests = sub.add_parser("requests", help="print the request log of a running double (JSON lines)")
    requests.add_argument("--state-dir", required=True)
    requests.set_defaults(func=_requests)

    timeline = sub.add_parser("timeline", help="print when workloads became ready or not ready (JSON lines)")
    timeline.add_argument("--state-dir", required=True)
    timeline.set_defaults(func=_timeline)

    pull = sub.add_parser("pull", help="pull an image onto the node outside the kubelet's queue (returns when present)")
    pull.add_argument("image")
    pull.add_argument("--state-dir", required=True)
    pull.add_argument("--load", action="store_true", help="put it there at once (`minikube image load`)")
    pull.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the pull")
    pull.set_defaults(func=_pull)

    images = sub.add_parser("images", help="print the node's image store (present, pulling, queue, pulls)")
    images.add_argument("--state-dir", required=True)
    images.set_defaults(func=_images)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
