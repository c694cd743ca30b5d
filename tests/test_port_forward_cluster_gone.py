"""`kfinstall port-forward` when its minikube cluster is deleted under it: said at once, not waited out as a restart.

A restarting API server is waited out for minutes (tests/test_port_forward_restart.py); a deleted minikube profile
never comes back, and minikube says so (`minikube status` exits 85, kube/presence.py). The kubeconfig context is
put back after `minikube delete`, as a kubeconfig kept elsewhere (or a failed clean-up) leaves it: kubectl then
only sees a refused connection, the one failure that looks like a restart.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli_helpers import isolated_env
from tests.fakes.fixtures import FakeTools
from tests.test_port_forward import FAKE_KUBECTL, GATEWAY, Running, free_port


def test_a_forward_whose_minikube_profile_was_deleted_ends_at_once_naming_it(
    fake_tools: FakeTools, tmp_path: Path
) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    started = fake_tools.run("minikube", "start", "-p", "kubeflow")
    assert started.returncode == 0, started.stderr
    env = isolated_env(
        {**fake_tools.env, "KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_TOOLS_PYTHON": sys.executable}, tmp_path
    )
    kubeconfig = Path(env["KUBECONFIG"])
    applied = subprocess.run(
        ["kubectl", "--context", "kubeflow", "apply", "--server-side", "-f", "-"],
        input=GATEWAY, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    port = free_port()
    running = Running(env, "--port", str(port))
    try:
        running.wait_for(f"Kubeflow is at http://localhost:{port}")
        kept = kubeconfig.read_text()
        deleted = fake_tools.run("minikube", "delete", "-p", "kubeflow")
        assert deleted.returncode == 0, deleted.stderr
        kubeconfig.write_text(kept)  # the context stays: only a refused connection is left to see
        error = running.wait_for("error:", timeout=60)
        assert "the cluster is gone: minikube profile 'kubeflow' no longer exists" in error, "\n".join(running.seen)
        hint = running.wait_for("hint:")
        assert "create it again with `kfinstall up`" in hint
        assert running.process.wait(timeout=30) == 1
    finally:
        running.stop()
