"""Ctrl-C, `kill` and a closed terminal during `kfinstall up`: one message, its processes stopped, exit 128 + N.

Real `kfinstall up` processes on the synthetic release (fake minikube and kustomize, the cluster double, the real
kubectl), signalled while a build is held (the fake kustomize's build gate), while `minikube start` is held (the
fake minikube's start gate) and while the install waits for components. Each run gets an environment marker of
its own, so every process it started is found afterwards, wherever it was reparented; the cluster double is the
cluster (a real minikube's container outlives an interrupted kfinstall too) and is left to the fixtures.

Exit codes are the shell's for a process the signal killed (bash: 128 + the signal's number), so a script
running kfinstall sees what it would see if kfinstall did not handle the signal: 130, 143, 129.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests import processes
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

pytestmark = pytest.mark.skipif(not processes.supported(), reason="finds processes through /proc")

RUN_MARKER = "KFINSTALL_SIGNAL_TEST_RUN"
RESUME = "run the same `kfinstall up` again to resume"
#: The cluster double and its watchdog: the cluster, not kfinstall's children.
CLUSTER = ("tests.double", "supervise.py")


class Up:
    """A `kfinstall up` in the background, with a marker in its environment that all its children inherit."""

    def __init__(self, env: dict[str, str], release: LocalRelease, *args: str) -> None:
        self.marker = uuid.uuid4().hex
        self.log_dir = Path(env["KFINSTALL_LOG_DIR"])
        command = [sys.executable, "-m", "kfinstall", "up", "--pins", str(release.pins), "-k", release.tag, "--yes"]
        self.output = self.log_dir.parent / f"up-{self.marker}.txt"  # a file, not a pipe nobody reads meanwhile
        with self.output.open("w") as output:
            self.process = subprocess.Popen([*command, *args], env={**env, RUN_MARKER: self.marker},
                                            stdout=output, stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def children(self) -> list[processes.Proc]:
        """The processes this run started that still run (the cluster double aside)."""
        return [
            proc
            for proc in processes.marked(RUN_MARKER, self.marker)
            if proc.pid != self.process.pid and not any(part in proc.command for part in CLUSTER)
        ]

    def wait_for(self, condition, what: str, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"kfinstall ended before {what}:\n{self.output.read_text()}")
            assert time.monotonic() < deadline, f"never saw {what}"
            time.sleep(0.05)

    def signal(self, signum: int) -> str:
        """Send `signum` to kfinstall alone (a terminal's Ctrl-C or hang-up reaches only kfinstall too: its
        children run in sessions of their own); its output once it has ended."""
        self.process.send_signal(signum)
        self.process.wait(timeout=60)
        return self.output.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for proc in self.children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)


@pytest.fixture
def runs() -> list[Up]:
    started: list[Up] = []
    yield started  # type: ignore[misc]
    for run in started:
        run.kill()


def assert_stopped_cleanly(run: Up, stderr: str, signum: int, tool: str) -> None:
    """Exit 128 + N, the one message naming the signal and the stopped processes, the resume hint, the log; no
    child left; the log complete (its last line says so)."""
    name = signal.Signals(signum).name
    assert run.process.returncode == 128 + signum, stderr
    assert re.search(rf"error: interrupted \({name}\): stopped \d+ process(es)? \([^)]*\b{tool}\b", stderr), stderr
    assert RESUME in stderr
    assert "log: " in stderr
    assert "Traceback" not in stderr
    assert stderr.count("error:") == 1, stderr
    left = processes.still_running(run.children, 10)
    assert not left, "still running after kfinstall ended:\n" + "\n".join(map(str, left))
    lines = (run.log_dir / "latest.log").read_text().strip().splitlines()
    stopped = [number for number, line in enumerate(lines) if f"interrupted ({name})" in line]
    assert stopped, "\n".join(lines[-40:])
    # After it, only the ends of processes that were running: one that ended as the signal came logs its command,
    # output and exit just after the message (runner logs a command when it ends); nothing starts, no step runs.
    records_after = [line for line in lines[stopped[-1] + 1 :] if re.match(r"^\d{4}-\d\d-\d\d ", line)]
    ends = re.compile(r"^\S+ \S+ (\$ (?!.*\(background\)$)|  (stdout|stderr):|  exit )")
    assert [line for line in records_after if not ends.match(line)] == [], "\n".join(records_after)
    assert not any("Traceback" in line for line in lines)


def no_partial_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*.partial")]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_during_the_builds_stops_kustomize_and_exits_128_plus_its_number(
    fake_tools: FakeTools, synthetic_release: LocalRelease, runs: list[Up], tmp_path: Path, signum: int
) -> None:
    gate = tmp_path / "never-opened"
    fake_tools.set(minikube_version="v1.37.0", kustomize_build_gate=f"*apps/katib/base={gate}")
    env = isolated_env(fake_tools.env, tmp_path)
    run = Up(env, synthetic_release, "--profile", "minimal")
    runs.append(run)
    run.wait_for(lambda: any("katib" in " ".join(call) for call in fake_tools.calls("kustomize")), "katib's build")
    run.wait_for(lambda: any("kustomize" in proc.command for proc in run.children()), "the kustomize process")
    stderr = run.signal(signum)
    assert_stopped_cleanly(run, stderr, signum, "kustomize")
    assert not [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]  # it stopped, not went on
    assert not no_partial_files(tmp_path / "cache"), "a half-written file in the cache"


def test_sigterm_during_minikube_start_stops_minikube_and_exits_143(
    fake_tools: FakeTools, synthetic_release: LocalRelease, runs: list[Up], tmp_path: Path
) -> None:
    gate = tmp_path / "start-gate"
    fake_tools.set(minikube_version="v1.37.0", minikube_start_gate=str(gate))
    env = isolated_env(fake_tools.env, tmp_path)
    run = Up(env, synthetic_release, "--profile", "minimal")
    runs.append(run)
    run.wait_for(lambda: Path(f"{gate}.waiting").exists(), "minikube start at its gate")
    stderr = run.signal(signal.SIGTERM)
    assert_stopped_cleanly(run, stderr, signal.SIGTERM, "minikube")
    assert not no_partial_files(tmp_path / "cache")


def test_a_closed_terminal_during_the_install_stops_every_kubectl_and_a_rerun_resumes(
    fake_tools: FakeTools, synthetic_release: LocalRelease, runs: list[Up], tmp_path: Path
) -> None:
    """SIGHUP (the terminal closed) while `up` waits for components: the kubectl processes (applies, polls, the
    watches of the shared cluster view) used to run on for minutes; now they are stopped, the install record is
    written whole, and the same `up` resumes where it stopped."""
    fake_tools.set(minikube_version="v1.37.0",
                   double_args="--set crd_establish_delay=0.2 --set ready_delay=0.3 --set seed=7"
                               " --set 'ready_delays={\"kubeflow/katib-*\":10}'")  # fmt: skip
    env = isolated_env(fake_tools.env, tmp_path)
    run = Up(env, synthetic_release, "--profile", "minimal")
    runs.append(run)

    def waiting() -> bool:  # the shared view's kubectl watches run while components are waited for (katib: 10 s)
        return any("kubectl" in proc.command and "watch=true" in proc.command for proc in run.children())

    run.wait_for(waiting, "the install waiting for components", 300)
    stderr = run.signal(signal.SIGHUP)
    assert_stopped_cleanly(run, stderr, signal.SIGHUP, "kubectl")
    rerun = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                      "--timeout", "120", env=env)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert re.search(r"\d+ unchanged", rerun.stderr), rerun.stderr
