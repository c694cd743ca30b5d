"""`python -m tests.double`: the standalone double the fake minikube starts, steered from outside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.double.kubeconfig import write_kubeconfig
from tests.paths import REPO_ROOT, real_kubectl


def double_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.double", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
    )


SERVE = ["serve", "--k8s-version", "v1.19.3", "--cpus", "4", "--memory", "8192", "--gpus", "0", "--node-name", "kf"]


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path, dict[str, str]]:
    """Start `python -m tests.double serve` like the fake minikube does; wait for apiserver.json."""
    state = tmp_path / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.double", *SERVE, "--state-dir", str(state), *extra],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not (state / "apiserver.json").is_file():
        assert process.poll() is None and time.monotonic() < deadline, "the double did not start"
        time.sleep(0.05)
    info = json.loads((state / "apiserver.json").read_text())
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", context="kf", server_url=info["url"])
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(tmp_path / "cache")}
    return process, state, env


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, dict[str, str]]]:
    started = start(tmp_path)
    yield started
    if started[0].poll() is None:
        started[0].kill()
        started[0].wait()


def kubectl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(real_kubectl()), *args], env=env, capture_output=True, text=True, timeout=30)


def test_help_lists_the_subcommands():
    result = double_cli("--help")

    assert result.returncode == 0
    for command in ("serve", "fault", "knobs", "requests", "timeline", "pull", "images"):
        assert command in result.stdout


def test_serve_writes_its_address_and_kubectl_sees_the_configured_node(standalone):
    process, state, env = standalone

    info = json.loads((state / "apiserver.json").read_text())
    node = json.loads(kubectl(env, "get", "node", "kf", "-o", "json").stdout)

    assert info["pid"] == process.pid
    assert info["url"] == f"http://127.0.0.1:{info['port']}"
    assert node["status"]["capacity"]["cpu"] == "4"
    assert node["status"]["capacity"]["memory"] == "8388608Ki"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.19.3"


def test_faults_and_knobs_change_a_running_double_from_outside(standalone):
    _, state, env = standalone

    faulted = double_cli("fault", "--state-dir", str(state), "--error-rate", "1", "--duration", "1")
    failing = kubectl(env, "get", "namespaces")
    time.sleep(1.2)
    knobs = double_cli("knobs", "--state-dir", str(state), "ready_delay=3", 'image_pull_backoff=["bad/*"]')

    assert faulted.returncode == 0, faulted.stderr
    assert "the server is currently unable to handle the request" in failing.stderr
    assert knobs.returncode == 0, knobs.stderr
    assert json.loads(knobs.stdout)["image_pull_backoff"] == ["bad/*"]
    assert kubectl(env, "get", "namespaces").returncode == 0


def test_a_restart_from_outside_comes_back_on_the_same_port(standalone):
    _, state, env = standalone

    double_cli("fault", "--state-dir", str(state), "--restart", "1")
    down = kubectl(env, "get", "namespaces")
    time.sleep(1.3)
    up = kubectl(env, "get", "namespaces")

    assert down.returncode == 1 and "was refused" in down.stderr
    assert up.returncode == 0, up.stderr


def test_the_request_log_is_readable_from_the_state_dir_and_the_cli(standalone):
    _, state, env = standalone
    kubectl(env, "get", "--raw", "/version")

    from_file = [json.loads(line) for line in (state / "requests.jsonl").read_text().splitlines()]
    from_cli = [json.loads(line) for line in double_cli("requests", "--state-dir", str(state)).stdout.splitlines()]

    assert any(e["path"] == "/version" and e["status"] == 200 for e in from_file)
    assert any(e["path"] == "/version" for e in from_cli)


def test_the_readiness_timeline_is_readable_from_the_state_dir_and_the_cli(standalone):
    _, state, env = standalone
    rolled = kubectl(env, "rollout", "status", "-n", "kube-system", "deployment/coredns", "--timeout=20s")

    from_file = [json.loads(line) for line in (state / "ready.jsonl").read_text().splitlines()]
    from_cli = [json.loads(line) for line in double_cli("timeline", "--state-dir", str(state)).stdout.splitlines()]

    assert rolled.returncode == 0, rolled.stderr
    coredns = {"kind": "Deployment", "namespace": "kube-system", "name": "coredns", "ready": True}
    ready_coredns = [e for e in from_file if coredns.items() <= e.items()]
    assert len(ready_coredns) == 1
    assert ready_coredns[0] in from_cli


def test_pull_puts_an_image_on_the_node_and_images_lists_it(tmp_path):
    process, state, _ = start(tmp_path, "--set", 'image_pull_delays={"example.com/*": 0.3}')
    try:
        pulled = double_cli("pull", "example.com/app:1", "--state-dir", str(state))
        images = double_cli("images", "--state-dir", str(state))
    finally:
        process.kill()
        process.wait()

    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["pulled"] is True and json.loads(pulled.stdout)["seconds"] >= 0.3
    assert [p["image"] for p in json.loads(images.stdout)["pulls"]] == ["example.com/app:1"]


def test_sigterm_stops_it_cleanly(standalone):
    process, _, _ = standalone

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=10) == 0


def test_a_scenario_file_and_set_knobs_configure_the_standalone_double(tmp_path):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("service_account_issuer: kubernetes.default.svc\nready_delays: {'kubeflow/*': 5}\n")
    process, state, env = start(
        tmp_path, "--scenario", str(scenario), "--set", "openid_discovery=true", "--set", 'crash_loop=["*/bad:*"]'
    )
    try:
        config = json.loads(kubectl(env, "get", "--raw", "/.well-known/openid-configuration").stdout)
        knobs = json.loads(double_cli("knobs", "--state-dir", str(state)).stdout)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert config["issuer"] == "kubernetes.default.svc"
    assert knobs["ready_delays"] == {"kubeflow/*": 5}
    assert knobs["crash_loop"] == ["*/bad:*"]
