"""`kfinstall port-forward` end to end: the real CLI supervising a fake `kubectl port-forward` (tests/fakes).

The cluster double cannot serve port-forward streams, so KFINSTALL_KUBECTL points at
tests/fakes/bin/kubectl-portforward: it imitates `port-forward` (listens, answers HTTP like the gateway, can drop
the connection or fail to bind) and runs the real kubectl for everything else. The promise under test: the URL is
printed only once the gateway answers, broken forwards are restarted, and no kubectl outlives kfinstall.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall

FAKE_KUBECTL = Path(__file__).resolve().parent / "fakes" / "bin" / "kubectl-portforward"
GATEWAY = """{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
  "spec": {"selector": {"app": "istio-ingressgateway"}, "ports": [{"name": "http2", "port": 80, "targetPort": 8080}]}}
]}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def env(make_cluster, tmp_path: Path) -> dict[str, str]:
    """A double with the gateway Service, and the fake kubectl for port-forward."""
    double = make_cluster(context="kubeflow")
    applied = double.kubectl("apply", "--server-side", "-f", "-", input=GATEWAY)
    assert applied.returncode == 0, applied.stderr
    fakes = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_TOOLS_STATE": str(tmp_path / "fakes"),
             "FAKE_TOOLS_PYTHON": sys.executable}  # fmt: skip
    return isolated_env({**os.environ, **double.env, **fakes}, tmp_path)


class Running:
    """A `kfinstall port-forward` process whose output lines are collected as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.env = env
        self.process = subprocess.Popen([sys.executable, "-m", "kfinstall", "port-forward", *args], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed within {timeout}s; got:\n" + "\n".join(self.seen))

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def kubectl_pids(self) -> list[int]:
        path = Path(self.env["FAKE_TOOLS_STATE"]) / "kubectl-portforward.pids"
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        """End kfinstall the way a user does (SIGTERM, like Ctrl-C: it stops its kubectl), not with SIGKILL, which
        no process can act on: kubectl runs in a session of its own and was left running, parent pid 1."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.kubectl_pids():  # a kfinstall that did not stop its kubectl fails the test it ran in
            assert gone(pid), f"kubectl port-forward {pid} outlived kfinstall"


@pytest.fixture
def forwards() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in started:
        running.stop()


def start(forwards: list[Running], env: dict[str, str], *args: str) -> Running:
    running = Running(env, *args)
    forwards.append(running)
    return running


def gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ", 1)[1].startswith("Z"):  # a zombie no longer runs (not yet reaped)
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False


def get(port: int) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/")
    return connection.getresponse()


def test_prints_the_url_and_login_once_the_gateway_answers(env, forwards) -> None:
    port = free_port()
    running = start(forwards, env, "--context", "kubeflow", "--port", str(port))
    running.wait_for(f"Kubeflow is at http://localhost:{port}")
    running.wait_for("Login: user@example.com / 12341234")
    response = get(port)
    assert response.status == 302 and response.getheader("Location", "").startswith("/dex/auth")


def test_ctrl_c_stops_kubectl_and_exits_0(env, forwards) -> None:
    port = free_port()
    running = start(forwards, env, "--context", "kubeflow", "--port", str(port))
    running.wait_for("Kubeflow is at")
    (kubectl,) = running.kubectl_pids()
    assert not gone(kubectl, within=0)
    assert running.interrupt() == 0
    assert gone(kubectl)


def test_a_dropped_connection_is_restarted_and_said_in_one_line(env, forwards) -> None:
    port = free_port()
    env = {**env, "FAKE_PF_DROP_AFTER": "0.5", "FAKE_PF_DROPS": "1"}
    running = start(forwards, env, "--context", "kubeflow", "--port", str(port))
    running.wait_for("Kubeflow is at")
    line = running.wait_for("restarting in")
    assert "kubectl port-forward lost the connection" in line and "an error occurred forwarding" in line
    running.wait_for(f"forwarding again on http://localhost:{port}")
    assert get(port).status == 302
    first, second = running.kubectl_pids()
    assert gone(first)
    assert running.interrupt() == 0
    assert gone(second)


def test_a_kubectl_that_hangs_after_losing_the_connection_is_replaced(env, forwards) -> None:
    env = {**env, "FAKE_PF_DROP_AFTER": "0.5", "FAKE_PF_DROPS": "1", "FAKE_PF_DROP_MODE": "hang"}
    running = start(forwards, env, "--context", "kubeflow", "--port", str(free_port()))
    running.wait_for("Kubeflow is at")
    running.wait_for("forwarding again")
    first, _ = running.kubectl_pids()
    assert gone(first)
    assert running.interrupt() == 0


def test_repeated_quick_failures_stop_with_kubectls_error_and_a_hint(env) -> None:
    result = kfinstall("port-forward", "--context", "kubeflow", "--port", str(free_port()),
                       env={**env, "FAKE_PF_BIND_FAIL": "1"}, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert "failed 4 times in a row" in result.stderr
    assert "unable to listen on any of the requested ports" in result.stderr
    assert "hint: is Kubeflow running and ready? see `kfinstall status`" in result.stderr
    assert result.stderr.count("restarting in") == 3
    pids = [int(pid) for pid in (Path(env["FAKE_TOOLS_STATE"]) / "kubectl-portforward.pids").read_text().split()]
    assert len(pids) == 4 and all(gone(pid) for pid in pids)


def test_a_missing_gateway_fails_at_once_with_kubectls_error(make_cluster, env) -> None:
    other = make_cluster(context="bare")
    result = kfinstall("port-forward", "--context", "bare", "--port", str(free_port()), env={**env, **other.env})
    assert result.returncode == 1
    assert "Error from server (NotFound)" in result.stderr  # kubectl's own words
    assert "restarting" not in result.stderr


def test_a_busy_port_is_refused_naming_the_process_that_holds_it(env) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = kfinstall("port-forward", "--context", "kubeflow", "--port", str(port), env=env)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is not free: it is used by" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert "kfinstall port-forward --port" in result.stderr
    assert not (Path(env["FAKE_TOOLS_STATE"]) / "kubectl-portforward.pids").exists()


def test_a_port_out_of_range_is_a_usage_error(env) -> None:
    result = kfinstall("port-forward", "--port", "70000", env=env)
    assert result.returncode == 2
    assert "--port 70000 is not a TCP port" in result.stderr


def test_open_opens_the_browser_at_the_url(env, forwards, tmp_path: Path) -> None:
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    port = free_port()
    running = start(forwards, {**env, "BROWSER": str(browser)}, "--context", "kubeflow", "--port", str(port), "--open")
    running.wait_for("Kubeflow is at")
    deadline = time.monotonic() + 10
    while not opened.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert opened.read_text().strip() == f"http://localhost:{port}"
    assert running.interrupt() == 0


def test_sigterm_stops_kubectl_too(env, forwards) -> None:
    running = start(forwards, env, "--context", "kubeflow", "--port", str(free_port()))
    running.wait_for("Kubeflow is at")
    (kubectl,) = running.kubectl_pids()
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=30) == 0
    assert gone(kubectl)


def test_listening_beyond_loopback_warns(env, forwards) -> None:
    port = free_port()
    running = start(forwards, env, "--context", "kubeflow", "--port", str(port), "--address", "0.0.0.0")
    running.wait_for("anyone who can reach this machine on port")
    running.wait_for(f"from another machine use `ssh -L {port}:localhost:{port} HOST`")
    running.wait_for(f"Kubeflow is at http://localhost:{port}")
    assert running.interrupt() == 0


def test_a_port_an_earlier_kfinstall_port_forward_holds_is_said_to_be_that_forward(env, forwards) -> None:
    """The listener is the earlier kfinstall's kubectl, which it restarts: the hint names kfinstall, not kubectl."""
    port = free_port()
    earlier = start(forwards, env, "--context", "kubeflow", "--port", str(port))
    earlier.wait_for(f"Kubeflow is at http://localhost:{port}")
    result = kfinstall("port-forward", "--context", "kubeflow", "--port", str(port), env=env)
    assert result.returncode == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert (
        f"Kubeflow is already forwarded at http://localhost:{port} (kfinstall port-forward, pid {earlier.process.pid})"
    ) in said
    assert f"kill {earlier.process.pid}" in said and "kubectl" not in said
    assert get(port).status == 302  # the earlier forward goes on


def test_json_prints_one_line_with_the_url_once_the_gateway_answers(env, forwards) -> None:
    port = free_port()
    running = start(forwards, env, "--context", "kubeflow", "--port", str(port), "--json")
    line = running.wait_for('"phase": "forwarding"')
    document = json.loads(line)
    assert document["schema_version"] == 1 and document["url"] == f"http://localhost:{port}"
    assert document["email"] == "user@example.com" and document["default_password"] is True
    assert get(port).status == 302


def test_the_readme_port_forward_example_is_what_port_forward_prints(env, forwards) -> None:
    """README.md's block, at this test's free port instead of 8080 (the one thing that must vary)."""
    from tests.test_readme import assert_shown_in_order, example

    port = free_port()
    running = start(forwards, env, "--context", "kubeflow", "--port", str(port))
    running.wait_for("Forwarding; Ctrl-C to stop.")
    assert running.interrupt() == 0
    running.wait_for("stopped port-forward")
    shown = [line.replace(":8080", f":{port}") for line in example("kfinstall port-forward")]
    assert_shown_in_order(shown, "\n".join(running.seen))
