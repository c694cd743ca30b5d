"""The fake `minikube image ls|save|load` as kfinstall's image cache relies on them: the node's whole store is seen
(what the kubelet pulled too), names are printed as minikube's docker runtime lists them, and a broken archive loads
nothing yet exits 0, as the real one does (pkg/minikube/machine/cache_images.go `DoLoadImages`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT

POD = """
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: default}
spec: {containers: [{name: main, image: example.com/app:1}, {name: side, image: busybox}]}
"""


def started(fake_tools: FakeTools) -> None:
    fake_tools.set(double_args="--set ready_delay=0.05 --set 'image_pull_delays={\"*\": 0.05}'")
    result = fake_tools.run("minikube", "start")
    assert result.returncode == 0, result.stdout + result.stderr


def node_pulls(fake_tools: FakeTools) -> list[dict]:
    command = [sys.executable, "-m", "tests.double", "images", "--state-dir", str(fake_tools.double_dir())]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["pulls"]


def listed(fake_tools: FakeTools) -> list[str]:
    result = fake_tools.run("minikube", "image", "ls")
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_image_ls_names_what_the_kubelet_pulled_as_the_docker_runtime_lists_it(
    fake_tools: FakeTools, tmp_path: Path
) -> None:
    started(fake_tools)
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(POD)
    assert fake_tools.run("kubectl", "apply", "-f", str(manifest)).returncode == 0
    waited = fake_tools.run("kubectl", "wait", "--for=condition=Ready", "pod/app", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr

    names = listed(fake_tools)

    assert "example.com/app:1" in names and "docker.io/library/busybox:latest" in names
    assert names == sorted(names, reverse=True)


def test_a_saved_image_loads_into_a_new_node_and_a_broken_archive_loads_nothing_with_exit_0(
    fake_tools: FakeTools, tmp_path: Path
) -> None:
    started(fake_tools)
    assert fake_tools.run("minikube", "image", "pull", "example.com/app:1").returncode == 0
    archive = tmp_path / "app.tar"
    assert fake_tools.run("minikube", "image", "save", "example.com/app:1", str(archive)).returncode == 0
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"not a tar" * 10)
    fake_tools.run("minikube", "delete")
    started(fake_tools)

    bad = fake_tools.run("minikube", "image", "load", str(broken))
    good = fake_tools.run("minikube", "image", "load", str(archive))

    assert bad.returncode == 0 and bad.stdout + bad.stderr == ""
    assert good.returncode == 0, good.stderr
    assert "example.com/app:1" in listed(fake_tools)
    assert [pull for pull in node_pulls(fake_tools) if pull["image"] == "example.com/app:1"] == []  # loaded, not pulled
