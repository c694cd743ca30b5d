"""`kfinstall status --watch` through an API server restart: the real CLI, the fake minikube and the double.

A blip of a few seconds (minikube's API server restarting, a laptop resuming) must not end the watch, and the
screen must say what is going on in words: never kubectl's raw JSON, never a traceback.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
MYSQL = "docker.io/kfsynthetic/mysql:8.0.26"


@pytest.fixture
def installed(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release: LocalRelease, shared_builds: Path
) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)  # the builds are not what is tested
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return env


def double(fake_tools: FakeTools, *args: str) -> None:
    state_dir = str(fake_tools.double_dir("kubeflow"))
    subprocess.run([sys.executable, "-m", "tests.double", *args, "--state-dir", state_dir], check=True,
                   capture_output=True)  # fmt: skip


def kubectl(fake_tools: FakeTools, *args: str) -> None:
    result = fake_tools.run("kubectl", "--context", "kubeflow", *args)
    assert result.returncode == 0, result.stderr


class Watching:
    """`kfinstall status --watch` with its output lines collected as they come."""

    def __init__(self, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "kfinstall", "status", "--watch", "--interval", "0.3"]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if not self.reader.is_alive() and self.lines.empty():
                    break  # the watch ended
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed; exit {self.process.poll()}; got:\n" + "\n".join(self.seen))

    def finish(self) -> int:
        code = self.process.wait(timeout=90)
        self.reader.join(timeout=30)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


def test_watch_keeps_watching_through_an_api_server_restart_and_says_since_when(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    double(fake_tools, "knobs", f'image_pull_backoff=["{MYSQL}"]')
    kubectl(fake_tools, "rollout", "restart", "deployment/katib-mysql", "-n", "kubeflow")
    watching = Watching(installed)
    try:
        watching.wait_for("1 of 13 components is not ready.")
        double(fake_tools, "fault", "--restart", "9")
        blip = watching.wait_for("cluster not answering since ")
        assert "still watching" in blip and watching.process.poll() is None
        watching.wait_for("1 of 13 components is not ready.")  # the screen again: the cluster answers again
        double(fake_tools, "knobs", "image_pull_backoff=[]")
        repaired = '{"spec": {"template": {"metadata": {"annotations": {"test/repaired": "yes"}}}}}'
        kubectl(fake_tools, "patch", "deployment", "katib-mysql", "-n", "kubeflow", "--type", "merge", "-p", repaired)
        watching.wait_for("All 13 components are ready.")
        assert watching.finish() == 0
    finally:
        if watching.process.poll() is None:
            watching.process.kill()
    output = "\n".join(watching.seen)
    assert "Traceback" not in output and '{"' not in output, output
    assert "is stopped: start it with" not in output  # a restart is not a stopped cluster
