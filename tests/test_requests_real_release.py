"""The requests `plan` measures for a real release (Kubeflow 26.03, minimal profile, from ../shared's bundle) are
what its manifests say, by a count of this test's own: `kubectl kustomize` of each path, every workload's pod
containers summed (or its largest init container), with Istio's proxy (the injector ConfigMap's requests) in the
namespaces labelled `istio-injection: enabled` unless the pod opts out, times its replicas, DaemonSets once, PVC
storage."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import needs_bundle
from tests.releases import LocalRelease, release_tools

TAG = "26.03"
_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def amount(text: Any) -> float:
    """The quantities the release writes (`100m`, `128Mi`, `1`, `1.5Gi`), read independently of the product."""
    if text is None:
        return 0.0
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text)).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def proxy_requests(documents: list[dict[str, Any]]) -> tuple[set[str], dict[str, float]]:
    """The namespaces labelled for Istio's injection, and what the release's injector gives each proxy."""
    namespaces = [d["metadata"] for d in documents if d.get("kind") == "Namespace"]
    injected = {ns["name"] for ns in namespaces if (ns.get("labels") or {}).get("istio-injection") == "enabled"}
    (configmap,) = [d for d in documents if d.get("kind") == "ConfigMap"
                    and d["metadata"]["name"] == "istio-sidecar-injector"]  # fmt: skip
    requests = json.loads(configmap["data"]["values"])["global"]["proxy"]["resources"]["requests"]
    return injected, {what: amount(requests[what]) for what in ("cpu", "memory")}


def count(documents: list[dict[str, Any]]) -> tuple[float, float, float]:
    cpu = memory = storage = 0.0
    injected, proxy = proxy_requests(documents)
    for doc in documents:
        kind, spec = doc.get("kind"), doc.get("spec") or {}
        if kind == "PersistentVolumeClaim":
            storage += amount(spec["resources"]["requests"]["storage"])
            continue
        if kind not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        replicas = 1 if kind == "DaemonSet" else spec.get("replicas", 1)
        pod = spec["template"]["spec"]
        meta = spec["template"].get("metadata") or {}
        opted_out = "false" in ((meta.get("labels") or {}).get("sidecar.istio.io/inject"),
                                (meta.get("annotations") or {}).get("sidecar.istio.io/inject"))  # fmt: skip
        with_proxy = doc["metadata"].get("namespace") in injected and not opted_out

        def asks(container: dict[str, Any], what: str) -> float:
            resources = container.get("resources") or {}
            return amount((resources.get("requests") or {}).get(what, (resources.get("limits") or {}).get(what)))

        for what in ("cpu", "memory"):
            containers = sum(asks(c, what) for c in pod["containers"]) + (proxy[what] if with_proxy else 0.0)
            inits = max([asks(c, what) for c in pod.get("initContainers") or []], default=0.0)
            value = max(containers, inits) * replicas
            cpu, memory = (cpu + value, memory) if what == "cpu" else (cpu, memory + value)
        for claim in spec.get("volumeClaimTemplates") or []:
            storage += amount(claim["spec"]["resources"]["requests"]["storage"]) * replicas
    return cpu, memory, storage


@needs_bundle
def test_the_minimal_profiles_measured_requests_are_what_its_manifests_ask(
    fake_tools: FakeTools, tmp_path: Path, bundle_releases: dict[str, LocalRelease], shared_builds: Path
) -> None:
    release = bundle_releases[TAG]
    env = isolated_env(fake_tools.set(minikube_version="v1.37.0", **release_tools(TAG)).env, tmp_path,
                       builds=shared_builds)  # fmt: skip
    pins = ("--pins", str(release.pins), "-k", TAG, "--profile", "minimal")
    fetched = kfinstall("images", "list", *pins, env=env)
    assert fetched.returncode == 0, fetched.stderr
    planned = kfinstall("plan", *pins, "--json", env=env)
    assert planned.returncode == 0, planned.stderr
    document = json.loads(planned.stdout)
    requests = document["requests"]
    assert requests["measured"] is True

    checkout = tmp_path / "cache" / "manifests" / f"{TAG}-{release.commit[:12]}"
    documents = []
    for component in document["components"]:
        for path in component["paths"]:
            built = subprocess.run([fake_tools.kubectl, "kustomize", str(checkout / path)], capture_output=True,
                                   text=True, check=True).stdout  # fmt: skip
            documents += [doc for doc in yaml.safe_load_all(built) if doc]
    cpu, memory, storage = count(documents)
    total = requests["total"]
    assert cpu > 0 and memory > 0  # the release does ask for something
    assert abs(total["cpu"] - cpu) < 0.001
    assert abs(total["memory_bytes"] - memory) <= 1
    assert abs(total["storage_bytes"] - storage) <= 1
