"""`minikube image pull` / `minikube ssh -- docker pull` of the fake put the image on the double's node (its pull model:
knob `image_pull_delays`), outside the kubelet's queue, and return once it is there."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT
from tests.releases import DELETED_IMAGES

POD = """
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default}
spec: {containers: [{name: main, image: example.com/app:1}]}
"""


def start_with_pulls(fake_tools: FakeTools, seconds: float) -> None:
    fake_tools.set(double_args=f"--set ready_delay=0.2 --set 'image_pull_delays={{\"example.com/*\": {seconds}}}'")
    result = fake_tools.run("minikube", "start")
    assert result.returncode == 0, result.stdout + result.stderr


def pod_ready_after(fake_tools: FakeTools, tmp_path: Path) -> float:
    """Create POD and wait for it to be Ready (with a deadline); seconds from the create to Ready."""
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    started = time.monotonic()
    created = fake_tools.run("kubectl", "apply", "-f", str(manifest))
    assert created.returncode == 0, created.stderr
    waited = fake_tools.run("kubectl", "wait", "--for=condition=Ready", "pod/app", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    return time.monotonic() - started


def node_images(fake_tools: FakeTools) -> dict:
    """The double's image store, through `python -m tests.double images`."""
    command = [sys.executable, "-m", "tests.double", "images", "--state-dir", str(fake_tools.double_dir())]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_image_pull_returns_once_the_double_has_pulled_the_image(fake_tools: FakeTools) -> None:
    start_with_pulls(fake_tools, 1.0)
    started = time.monotonic()

    result = fake_tools.run("minikube", "image", "pull", "example.com/app:1")

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 1.0
    assert "example.com/app:1" in node_images(fake_tools)["present"]


def test_a_pod_whose_image_minikube_pulled_starts_without_pulling(fake_tools: FakeTools, tmp_path: Path) -> None:
    start_with_pulls(fake_tools, 3.0)
    pulled = fake_tools.run("minikube", "image", "pull", "example.com/app:1")
    assert pulled.returncode == 0, pulled.stderr

    seconds = pod_ready_after(fake_tools, tmp_path)

    assert seconds < 3.0
    assert [p["kubelet"] for p in node_images(fake_tools)["pulls"]] == [False]


def test_docker_pull_over_minikube_ssh_pulls_through_the_double(fake_tools: FakeTools) -> None:
    start_with_pulls(fake_tools, 0.5)

    result = fake_tools.run("minikube", "ssh", "--", "docker", "pull", "example.com/app:1")

    assert result.returncode == 0, result.stderr
    assert [(p["image"], p["kubelet"]) for p in node_images(fake_tools)["pulls"]] == [("example.com/app:1", False)]


def test_image_pull_of_an_image_the_registry_refuses_fails_like_minikube(fake_tools: FakeTools) -> None:
    fake_tools.set(double_args="--set 'image_pull_backoff=[\"example.com/broken:*\"]'")
    assert fake_tools.run("minikube", "start").returncode == 0

    result = fake_tools.run("minikube", "image", "pull", "example.com/broken:1")

    assert result.returncode == 80
    assert "Exiting due to GUEST_IMAGE_PULL" in result.stderr and "pull access denied" in result.stderr


def test_image_pull_of_a_deleted_image_fails_with_the_registrys_words(fake_tools: FakeTools) -> None:
    fake_tools.set(double_args=f"--scenario {DELETED_IMAGES}")
    assert fake_tools.run("minikube", "start").returncode == 0

    result = fake_tools.run("minikube", "image", "pull", "gcr.io/kubebuilder/kube-rbac-proxy:v0.4.0")

    assert result.returncode == 80
    assert "Exiting due to GUEST_IMAGE_PULL" in result.stderr
    assert (
        "Error response from daemon: manifest for gcr.io/kubebuilder/kube-rbac-proxy:v0.4.0 not found: "
        'manifest unknown: Failed to fetch "v0.4.0"'
    ) in result.stderr
