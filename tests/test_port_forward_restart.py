"""`kfinstall port-forward` through an API server restart of tens of seconds (a laptop resuming from sleep).

After a resume minikube's API server refuses connections for tens of seconds while its container and the
control plane come back (kubernetes/minikube#1981: `The connection to the server ...:8443 was refused` and
`cluster: Stopped` after a Mac wakes up; #21593), so a forward must outlast that, while a permanent error (no
such Service, a busy port: tests/test_port_forward.py) still ends it at once. The fake `kubectl port-forward`
dies with the API server as the real one does.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env
from tests.test_port_forward import FAKE_KUBECTL, GATEWAY, Running, free_port, get


@pytest.fixture
def forward_env(make_cluster, tmp_path: Path):
    double = make_cluster(context="kubeflow")
    applied = double.kubectl("apply", "--server-side", "-f", "-", input=GATEWAY)
    assert applied.returncode == 0, applied.stderr
    fakes = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_TOOLS_STATE": str(tmp_path / "fakes")}
    return double, isolated_env({**os.environ, **double.env, **fakes}, tmp_path)


def test_a_forward_outlasts_an_api_server_restart_of_15_seconds_and_announces_the_url_again(forward_env) -> None:
    double, env = forward_env
    port = free_port()
    running = Running(env, "--context", "kubeflow", "--port", str(port))
    try:
        running.wait_for(f"Kubeflow is at http://localhost:{port}")
        double.restart(down_for=15, block=False)
        waiting = running.wait_for("API server not answering, retrying (")
        assert waiting.rstrip().endswith("s)…"), waiting
        running.wait_for(f"forwarding again on http://localhost:{port}", timeout=90)
        assert get(port).status == 302
        assert running.interrupt() == 0
    finally:
        running.stop()
    assert not any("error:" in line or "failed" in line for line in running.seen), "\n".join(running.seen)


@pytest.mark.parametrize(
    ("output", "waited_out"),
    [
        ("The connection to the server 127.0.0.1:8443 was refused - did you specify the right host or port?", True),
        (
            "E1201 08:57:23.654507   25734 memcache.go:265] couldn't get current server API group list: Get "
            '"https://127.0.0.1:8443/api?timeout=32s": dial tcp 127.0.0.1:8443: connect: connection refused',
            True,
        ),
        ('Error from server (NotFound): services "istio-ingressgateway" not found', False),
        ('Error from server (NotFound): namespaces "istio-system" not found', False),
        ("error: unable to listen on any of the requested ports: [{8080 80}]", False),
    ],
)
def test_only_an_api_server_that_does_not_answer_is_waited_out(output: str, waited_out: bool) -> None:
    from kfinstall.kube.portforward import api_server_unavailable

    assert api_server_unavailable(output) is waited_out
