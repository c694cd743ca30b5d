"""Every pinned release installs as a user gets it: real manifests, kubectl's kustomize engine, a strict double.

For each release of the shipped pins: `kfinstall up --profile minimal` reaches all-ready on the Kubernetes version
kfinstall starts for it, on a minikube that can run it, with the images registries deleted refused by the double's
kubelet (tests/data/deleted-images.yaml) and server-side apply, names and list-map keys judged as the real API
server judges them; the user then has a valid Profile whose namespace has its `default-editor`. Where the standard
profile builds offline, `up --profile standard` grows the same install to all-ready (without Pipelines and
Trainer where those pull remote bases). docs/releases-on-the-double.md says what this proves and what only a
real cluster can.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest
import yaml

from kfinstall.release.pins import load_pins
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import needs_bundle
from tests.releases import DELETED_IMAGES, SHIPPED_PINS, release_tools, unready_workloads

#: Short but real races (as in tests/test_up.py).
RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"

#: The minikube a user of each release has: v1.4.0 needs Kubernetes 1.19 (minikube ≤ v1.32, the last that starts
#: it); v1.9.1 – v1.11.0 run on v1.36 or v1.37; 26.03 needs v1.37 (Kubernetes 1.34).
MINIKUBE = {"v1.4.0": "v1.32.0", "v1.9.1": "v1.37.0", "v1.10.2": "v1.37.0", "v1.11.0": "v1.37.0", "26.03": "v1.37.0"}

#: The standard profile as far as it builds offline (../shared/kubeflow-manifests.md: v1.11.0's and 26.03's
#: Pipelines and Trainer pull remote bases, so there the rest of the profile is installed without them).
STANDARD_OFFLINE: dict[str, tuple[str, ...]] = {
    "v1.4.0": (),
    "v1.9.1": (),
    "v1.10.2": (),
    "v1.11.0": ("--without", "pipelines", "--without", "trainer"),
    "26.03": ("--without", "pipelines", "--without", "trainer"),
}

USER_NAMESPACE = "kubeflow-user-example-com"


def test_every_pinned_release_is_covered() -> None:
    assert set(MINIKUBE) == set(load_pins(SHIPPED_PINS).tags)


def _kubectl_json(fake_tools: FakeTools, *args: str) -> dict:
    result = fake_tools.run("kubectl", "--context", "kubeflow", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _running_images(fake_tools: FakeTools) -> set[str]:
    pods = _kubectl_json(fake_tools, "get", "pods", "-A")["items"]
    return {c["image"] for p in pods for key in ("initContainers", "containers") for c in p["spec"].get(key) or []}


def _deleted_image_patterns() -> list[str]:
    return list(yaml.safe_load(DELETED_IMAGES.read_text())["deleted_images"])


def _up(env: dict[str, str], pins: Path, tag: str, profile: str, *sizes: str):
    args = ("up", "--pins", str(pins), "-k", tag, "--yes", "--profile", profile, "--timeout", "300", *sizes)
    return kfinstall(*args, env=env)


def _standard_size(tag: str) -> tuple[str, ...]:
    """The standard profile's CPUs and memory from the shipped pins: a minimal install that can grow in place."""
    resources = load_pins(SHIPPED_PINS).get(tag).resources_for("standard")
    return ("--cpus", str(resources.cpus), "--memory", str(resources.memory_mb))


_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def _amount(text: object) -> float:
    """A quantity as the releases write them (`10m`, `40Mi`, `1.5Gi`), read independently of the product."""
    if text is None:
        return 0.0
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text)).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _requested_on_the_node(fake_tools: FakeTools) -> tuple[float, float]:
    """CPU and memory the node's running pods request, as the double created them (Istio's proxies included):
    each pod's containers summed, or its largest init container when that is more."""
    cpu = memory = 0.0
    for pod in _kubectl_json(fake_tools, "get", "pods", "-A")["items"]:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue  # the scheduler no longer counts them

        def asks(container: dict, what: str) -> float:
            resources = container.get("resources") or {}
            return _amount((resources.get("requests") or {}).get(what, (resources.get("limits") or {}).get(what)))

        spec = pod["spec"]
        for what in ("cpu", "memory"):
            value = max(sum(asks(c, what) for c in spec["containers"]),
                        max([asks(c, what) for c in spec.get("initContainers") or []], default=0.0))  # fmt: skip
            cpu, memory = (cpu + value, memory) if what == "cpu" else (cpu, memory + value)
    return cpu, memory


def _assert_all_ready_with_a_valid_user_profile(fake_tools: FakeTools) -> None:
    workloads = _kubectl_json(fake_tools, "get", "deployments,statefulsets,daemonsets", "-A")["items"]
    assert workloads and not unready_workloads(workloads)
    profile = _kubectl_json(fake_tools, "get", "profile", USER_NAMESPACE)
    assert profile["spec"]["owner"]["name"] == "user@example.com"
    assert _kubectl_json(fake_tools, "get", "serviceaccount", "default-editor", "-n", USER_NAMESPACE)
    images = _running_images(fake_tools)
    assert not [i for i in images if any(fnmatch.fnmatchcase(i, p) for p in _deleted_image_patterns())]


@needs_bundle
@pytest.mark.timeout(900)
@pytest.mark.parametrize("tag", list(MINIKUBE))
def test_every_pinned_release_installs_its_minimal_then_standard_profile_to_all_ready(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path, tag: str
) -> None:
    fake_tools.set(
        double_args=f"{RACY} --scenario {DELETED_IMAGES}", minikube_version=MINIKUBE[tag], **release_tools(tag)
    )
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    release = bundle_releases[tag]
    size = _standard_size(tag)

    minimal = _up(env, release.pins, tag, "minimal", *size)
    assert minimal.returncode == 0, minimal.stderr[-3000:]
    assert f"Kubeflow {tag} is ready (13 installed" in minimal.stderr
    _assert_all_ready_with_a_valid_user_profile(fake_tools)
    # what `plan` measured is what the node holds: kube-system's 750m and 170Mi, and the install's pods with the
    # proxies Istio injected into them
    planned = kfinstall("plan", "--pins", str(release.pins), "-k", tag, "--profile", "minimal", "--json", env=env)
    assert planned.returncode == 0, planned.stderr
    total = json.loads(planned.stdout)["requests"]["total"]
    cpu, memory = _requested_on_the_node(fake_tools)
    assert abs(cpu - 0.75 - total["cpu"]) < 0.001, (cpu, total)
    assert abs(memory - 170 * 2**20 - total["memory_bytes"]) <= 1, (memory, total)
    (start,) = [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    pinned = load_pins(SHIPPED_PINS).get(tag)
    assert f"--kubernetes-version={pinned.kubernetes.default}" in start
    assert {f"--extra-config={flag}" for flag in pinned.apiserver_flags} <= set(start)

    standard = _up(env, release.pins, tag, "standard", *size, *STANDARD_OFFLINE[tag])
    assert standard.returncode == 0, standard.stderr[-3000:]
    names = {w["metadata"]["name"] for w in _kubectl_json(fake_tools, "get", "deployments", "-A")["items"]}
    assert "volumes-web-app" in " ".join(names)
    assert ("ml-pipeline" in names) == ("pipelines" not in STANDARD_OFFLINE[tag])
    _assert_all_ready_with_a_valid_user_profile(fake_tools)
