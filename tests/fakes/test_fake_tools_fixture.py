"""The fake_tools fixture isolates each test and exposes knobs, recorded calls and the environment."""

from __future__ import annotations

import shutil

import pytest

from tests.fakes.fixtures import FakeTools


def test_fakes_come_first_on_path(fake_tools: FakeTools) -> None:
    for tool in ("minikube", "docker", "nvidia-smi", "kustomize", "kubectl"):
        assert shutil.which(tool, path=fake_tools.env["PATH"]) == str(fake_tools.bin_dir / tool)


def test_environment_points_at_this_tests_state_and_kubeconfig(fake_tools: FakeTools) -> None:
    env = fake_tools.env
    assert (env["FAKE_TOOLS_STATE"], env["KUBECONFIG"]) == (str(fake_tools.state), str(fake_tools.kubeconfig))
    assert env["KFINSTALL_KUBECTL"] == str(fake_tools.kubectl)


def test_a_tool_set_absent_disappears_and_comes_back(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube="absent")
    gone = shutil.which("minikube", path=fake_tools.env["PATH"])
    fake_tools.set(minikube="present")
    assert (gone, shutil.which("minikube", path=fake_tools.env["PATH"])) == (None, str(fake_tools.bin_dir / "minikube"))


def test_unknown_knob_is_an_error(fake_tools: FakeTools) -> None:
    with pytest.raises(TypeError, match="unknown fake_tools knob 'minikube_versoin'"):
        fake_tools.set(minikube_versoin="v1.32.0")


def test_calls_are_kept_per_tool_in_order(fake_tools: FakeTools) -> None:
    fake_tools.run("minikube", "version", "--short")
    fake_tools.run("docker", "info", "--format", "{{json .Runtimes}}")
    fake_tools.run("minikube", "status")
    assert fake_tools.calls("minikube") == [["version", "--short"], ["status"]]
    assert fake_tools.calls("docker") == [["info", "--format", "{{json .Runtimes}}"]]


def test_list_knobs_are_joined_with_commas(fake_tools: FakeTools) -> None:
    fake_tools.set(docker_runtimes=["runc", "nvidia"])
    assert fake_tools.env["FAKE_DOCKER_RUNTIMES"] == "runc,nvidia"
