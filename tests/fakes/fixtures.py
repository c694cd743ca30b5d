"""Pytest fixtures that put the fake tools first on PATH (see tests/fakes/README.md).

`fake_tools` gives each test its own world: a bin directory (fake minikube, docker, nvidia-smi, kustomize and
the real kubectl), its own FAKE_TOOLS_STATE, KUBECONFIG and kubectl cache, and knobs to change what the fakes
report. Any API server double a fake `minikube start` launched is stopped at teardown.

`module_fake_tools` is the same world shared by a module's tests: for a cluster installed once that several tests
only read (each checks its one behaviour; a test that changes the cluster takes `fake_tools` and installs its own).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import common
from tests.fakes import minikube_cluster as cluster
from tests.paths import real_kubectl

FAKES_BIN = Path(__file__).resolve().parent / "bin"
TOOLS = ("minikube", "docker", "nvidia-smi", "kustomize")

#: `.set()` keyword -> environment variable read by the fakes.
KNOBS = {
    "minikube_version": "FAKE_MINIKUBE_VERSION",
    "minikube_platform": "FAKE_MINIKUBE_PLATFORM",
    "double_args": "FAKE_MINIKUBE_DOUBLE_ARGS",
    "start_timeout": "FAKE_MINIKUBE_START_TIMEOUT",
    "minikube_start_gate": "FAKE_MINIKUBE_START_GATE",
    "image_pull_seconds": "FAKE_MINIKUBE_IMAGE_PULL_SECONDS",
    "image_pull_fail": "FAKE_MINIKUBE_IMAGE_PULL_FAIL",
    "kustomize_version": "FAKE_KUSTOMIZE_VERSION",
    "kustomize_version_output": "FAKE_KUSTOMIZE_VERSION_OUTPUT",
    "kustomize_build_gate": "FAKE_KUSTOMIZE_BUILD_GATE",
    "docker": "FAKE_DOCKER",
    "docker_runtimes": "FAKE_DOCKER_RUNTIMES",
    "docker_version": "FAKE_DOCKER_VERSION",
    "gpus": "FAKE_NVIDIA_GPUS",
    "gpu_name": "FAKE_NVIDIA_GPU_NAME",
    "nvidia_driver": "FAKE_NVIDIA_DRIVER",
    "nvidia_smi": "FAKE_NVIDIA_SMI",
    "minikube": "FAKE_MINIKUBE",
    "kustomize": "FAKE_KUSTOMIZE",
    "host_cpus": "FAKE_HOST_CPUS",
    "host_memory_mb": "FAKE_HOST_MEMORY_MB",
}

#: Environment that would make the fakes or kfinstall behave differently from one machine to the next.
_CLEARED = ("KFINSTALL_MINIKUBE", "KFINSTALL_KUSTOMIZE", "KFINSTALL_DOCKER", "KFINSTALL_NVIDIA_SMI",
            "MINIKUBE_IN_STYLE", "MINIKUBE_PROFILE", "MINIKUBE_HOME", *KNOBS.values())  # fmt: skip


class FakeTools:
    """Handle on one test's fake tools: knobs, recorded calls, the environment to run things with."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.state = root / "state"
        self.bin_dir = root / "bin"
        self.kubeconfig = root / "kubeconfig"
        self.kubectl = real_kubectl()
        self._monkeypatch = monkeypatch
        self._base_path = os.environ.get("PATH", "")
        self.state.mkdir(parents=True)
        self.bin_dir.mkdir()
        for name in _CLEARED:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("FAKE_TOOLS_STATE", str(self.state))
        monkeypatch.setenv("FAKE_TOOLS_PYTHON", sys.executable)
        monkeypatch.setenv("FAKE_TOOLS_OWNER_PID", str(os.getpid()))
        monkeypatch.setenv("KUBECONFIG", str(self.kubeconfig))
        monkeypatch.setenv("KUBECACHEDIR", str(root / "kubecache"))
        monkeypatch.setenv("KFINSTALL_KUBECTL", str(self.kubectl))
        # every kfinstall command but `versions` writes a log: the test's own, never the (guarded) home's;
        # tests/cli_helpers.py isolated_env still sets one of its own
        monkeypatch.setenv("KFINSTALL_LOG_DIR", str(root / "logs"))
        self._link_tools()

    def set(self, **knobs: Any) -> FakeTools:
        """Change what the fakes report, e.g. `.set(minikube_version="v1.32.0", docker="down", gpus=1)`.

        None removes a knob (back to the fake's default); lists are joined with commas; `minikube`, `docker`,
        `kustomize` and `nvidia_smi` accept "absent" (not installed: gone from PATH) and "present".
        """
        for key, value in knobs.items():
            if key not in KNOBS:
                raise TypeError(f"unknown fake_tools knob {key!r}; known: {', '.join(sorted(KNOBS))}")
            if value is None or value == "present":
                self._monkeypatch.delenv(KNOBS[key], raising=False)
            elif isinstance(value, (list, tuple)):
                self._monkeypatch.setenv(KNOBS[key], ",".join(str(v) for v in value))
            else:
                self._monkeypatch.setenv(KNOBS[key], str(value))
        self._link_tools()
        return self

    def absent_tools(self) -> set[str]:
        return {tool for tool in TOOLS if os.environ.get("FAKE_" + tool.upper().replace("-", "_")) == "absent"}

    def _link_tools(self) -> None:
        """bin/: the present fakes plus the real kubectl; PATH: bin/ first, minus dirs holding an absent tool."""
        absent = self.absent_tools()
        for entry in self.bin_dir.iterdir():
            entry.unlink()
        for tool in TOOLS:
            if tool not in absent:
                (self.bin_dir / tool).symlink_to(FAKES_BIN / tool)
        (self.bin_dir / "kubectl").symlink_to(self.kubectl)
        kept = [
            d
            for d in self._base_path.split(os.pathsep)
            if d and not any(os.access(os.path.join(d, tool), os.X_OK) for tool in absent)
        ]
        self._monkeypatch.setenv("PATH", os.pathsep.join([str(self.bin_dir), *kept]))

    @property
    def env(self) -> dict[str, str]:
        """The environment (as now configured) for subprocesses such as the real `kfinstall` entry point."""
        return dict(os.environ)

    def calls(self, tool: str) -> list[list[str]]:
        """The argv (after the program name) of every call of `tool`, oldest first."""
        return common.read_calls(self.state, tool)

    def run(
        self, tool: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run a tool found through this test's PATH (so absent tools really are absent), capturing text."""
        return run_tool([tool, *args], env={**self.env, **(env or {})}, timeout=timeout)

    def apiserver(self, profile: str = "minikube") -> dict[str, Any] | None:
        """{"pid", "url", "port"} of the double behind `profile`, if it ever started."""
        return cluster.apiserver_info(profile, self.state)

    def double_dir(self, profile: str = "minikube") -> Path:
        """The double's --state-dir for `profile` (for `python -m tests.double fault|knobs --state-dir ...`)."""
        return cluster.profile_dir(profile, self.state) / "apiserver"

    def stop_all(self) -> list[int]:
        """Stop every API server double started in this test; returns their pids."""
        return cluster.stop_all(self.state)


def run_tool(argv: Sequence[str], env: Mapping[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def module_fake_tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeTools]:
    """`fake_tools` for a whole module: its environment stays set until the module's last test ended."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        tools = FakeTools(tmp_path_factory.mktemp("module-fake-tools"), monkeypatch)
        try:
            yield tools
        finally:
            tools.stop_all()


@pytest.fixture
def fake_tools(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTools]:
    """Fake minikube/docker/nvidia-smi/kustomize first on PATH, isolated state and kubeconfig (see README)."""
    tools = FakeTools(tmp_path_factory.mktemp("fake-tools"), monkeypatch)
    try:
        yield tools
    finally:
        tools.stop_all()
