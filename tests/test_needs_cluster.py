"""Commands that need a cluster look for one first and say one clear thing when there is none: no kubectl or
minikube error text, and never `minikube start -p kubeflow` (it would start a cluster without the release's
settings): the way is `kfinstall up`. The real CLI on the fake minikube."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools

#: The commands that need a running cluster, with what they need besides (a password on stdin).
COMMANDS = {
    "password": (("password", "--password-stdin"), "a-long-enough-password\n"),
    "port-forward": (("port-forward", "--port", "FREE"), None),
    "gpu-test": (("gpu-test",), None),
    "images pull": (("images", "pull"), None),
    "images save": (("images", "save", "kf.tar"), None),
}


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def said(text: str) -> str:
    return " ".join(text.split())


def run(env: dict[str, str], name: str, tmp_path: Path):
    args, stdin = COMMANDS[name]
    args = tuple(str(tmp_path / arg) if arg.endswith(".tar") else free_port() if arg == "FREE" else arg for arg in args)
    return kfinstall(*args, env=env, stdin=stdin)


def assert_one_clear_message(stderr: str) -> None:
    assert stderr.count("error:") == 1, stderr
    for raw in ("minikube start", "Error from server", "connection refused", "Exiting due to", "Traceback"):
        assert raw not in stderr, stderr


@pytest.mark.parametrize("name", COMMANDS)
def test_with_no_minikube_profile_a_command_says_kfinstall_up_creates_it(
    fake_tools: FakeTools, env: dict[str, str], tmp_path: Path, name: str
) -> None:
    result = run(env, name, tmp_path)
    assert result.returncode == 3, result.stderr
    text = said(result.stderr)
    assert f"there is no minikube profile 'kubeflow': `kfinstall {name}` needs a cluster with Kubeflow" in text
    assert "hint: `kfinstall up` creates it and installs Kubeflow" in text
    assert_one_clear_message(result.stderr)
    assert all(call[0] in ("status", "profile") for call in fake_tools.calls("minikube"))  # only looked


@pytest.mark.parametrize("name", COMMANDS)
def test_on_a_stopped_profile_a_command_says_kfinstall_up_starts_it_and_continues(
    fake_tools: FakeTools, env: dict[str, str], tmp_path: Path, name: str
) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--cpus", "4", "--memory", "8g").returncode == 0
    assert fake_tools.run("minikube", "stop", "-p", "kubeflow").returncode == 0
    result = run(env, name, tmp_path)
    assert result.returncode == 3, result.stderr
    text = said(result.stderr)
    assert f"minikube profile 'kubeflow' is stopped: `kfinstall {name}` needs it running" in text
    assert "hint: `kfinstall up` starts it and continues what it holds (Kubernetes v1.34.0, 4 CPUs, 8 GB)" in text
    assert_one_clear_message(result.stderr)


def test_a_context_that_does_not_exist_is_named_with_where_to_look(env: dict[str, str]) -> None:
    result = kfinstall("gpu-test", "--context", "nowhere", env=env)
    assert result.returncode == 3, result.stderr
    text = said(result.stderr)
    assert "kubeconfig context 'nowhere' does not exist: `kfinstall gpu-test` needs a cluster" in text
    assert "`kubectl config get-contexts` lists the contexts of your kubeconfig" in text
    assert_one_clear_message(result.stderr)


def test_images_refuses_an_unknown_action_before_it_looks_or_clones(fake_tools: FakeTools, env: dict[str, str]):
    result = kfinstall("images", "pul", env=env)
    assert result.returncode == 2, result.stderr
    assert "unknown images action 'pul'" in result.stderr and "use one of: list, pull, save, load" in result.stderr
    assert fake_tools.calls("minikube") == []
    assert not (Path(env["KFINSTALL_CACHE_DIR"]) / "manifests").exists()
