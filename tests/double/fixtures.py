"""Pytest fixtures for the cluster double (see tests/README.md): `cluster` and the `make_cluster` factory.

The double runs in-process (threads) for speed; `python -m tests.double serve` runs the same server standalone.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.double.kubeconfig import write_kubeconfig
from tests.double.merge import clone
from tests.double.scenario import Scenario
from tests.double.server import DoubleServer
from tests.paths import real_kubectl


class ClusterHandle:
    """A started double with its kubeconfig: what a test drives kubectl against and asserts on."""

    def __init__(self, server: DoubleServer, root: Path, context: str = "minikube") -> None:
        self.server = server
        self.context = context
        self.kubeconfig = write_kubeconfig(root / "kubeconfig", context=context, server_url=server.url)
        self.cache_dir = root / "kube-cache"
        #: Only the variables to add to a process's environment (merge with os.environ yourself, or use .kubectl).
        self.env = {"KUBECONFIG": str(self.kubeconfig), "KUBECACHEDIR": str(self.cache_dir)}

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def scenario(self) -> Scenario:
        return self.server.scenario

    def requests(self) -> list[dict[str, Any]]:
        """The request log: dicts with time, method, path, query, status, duration, user_agent."""
        return self.server.requests()

    def timeline(self) -> list[dict[str, Any]]:
        """Readiness transitions of Deployments/StatefulSets/DaemonSets: time, kind, namespace, name, ready, labels."""
        return self.server.timeline.entries()

    def fault(
        self,
        *,
        error_rate: float | None = None,
        error_code: int | None = None,
        error_paths: str | None = None,
        latency: float | None = None,
        duration: float | None = None,
        count: int | None = None,
    ) -> None:
        """Make API requests fail or slow down now; with `duration`, only for that many seconds; with `count`, only
        until that many requests failed."""
        self.server.set_fault(
            error_rate=error_rate,
            error_code=error_code,
            error_paths=error_paths,
            latency=latency,
            duration=duration,
            count=count,
        )

    def pull(self, image: str, load: bool = False, timeout: float = 60) -> dict[str, Any]:
        """`POST /_double/pull` on the control port: an external (`docker pull`) pull; returns once the image is on
        the node: {"image", "pulled", "seconds"}."""
        data = json.dumps({"image": image, "load": load}).encode()
        request = urllib.request.Request(self.server.control_url + "/_double/pull", data=data, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def images(self) -> dict[str, Any]:
        """The node's image store: present {image: time}, pulling, queue, pulls (finished, oldest first)."""
        return self.server.images_state()

    def knobs(self, **knobs: Any) -> None:
        """Change scenario knobs of the running double (see Scenario)."""
        with self.server.cluster.lock:
            self.server.scenario.update(**knobs)

    def restart(self, down_for: float = 1.0, block: bool = False) -> None:
        """The apiserver stops listening for `down_for` seconds and comes back on the same port, state intact."""
        self.server.restart(down_for, block=block)

    def objects(self, kind: str, namespace: str | None = None, group: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of a kind (copies), optionally in one namespace; the group is found from the kind."""
        cluster = self.server.cluster
        with cluster.lock:
            if group is None:
                groups = [g for (g, k) in cluster.store if k == kind]
                group = "" if "" in groups else (groups[0] if groups else "")
            return clone(cluster.list((group, kind), namespace))

    def object(self, kind: str, name: str, namespace: str = "", group: str | None = None) -> dict[str, Any] | None:
        return next((o for o in self.objects(kind, namespace or None, group) if o["metadata"]["name"] == name), None)

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against this double."""
        return subprocess.run(
            [str(real_kubectl()), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
        )

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def make_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Factory: `make_cluster(**knobs)` starts a double with those scenario knobs; all are stopped at teardown."""
    handles: list[ClusterHandle] = []

    def make(**knobs: Any) -> ClusterHandle:
        context = knobs.pop("context", "minikube")
        scenario = Scenario()
        scenario.update(**knobs)
        root = tmp_path_factory.mktemp("double")
        server = DoubleServer(scenario, state_dir=root / "state").start()
        handle = ClusterHandle(server, root, context)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()


@pytest.fixture
def cluster(make_cluster: Any) -> ClusterHandle:
    """A started double with the default (short) delays."""
    return make_cluster()


def workload_yaml(kind: str, namespace: str, name: str | None = None, image: str = "example.com/app:1") -> str:
    """A minimal Deployment/StatefulSet/DaemonSet manifest (one container), named after its kind by default."""
    name = name or kind.lower()
    return f"""---
apiVersion: apps/v1
kind: {kind}
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: main, image: {image}}}]}}
"""
