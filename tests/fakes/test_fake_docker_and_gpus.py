"""The fake docker and nvidia-smi answer like the real ones for a running or stopped daemon, with or without GPUs."""

from __future__ import annotations

import json
import shutil

from tests.fakes.fixtures import FakeTools

CANNOT_CONNECT = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"


def test_docker_info_reports_the_configured_runtimes_as_json(fake_tools: FakeTools) -> None:
    fake_tools.set(docker_runtimes="io.containerd.runc.v2,runc,nvidia")
    result = fake_tools.run("docker", "info", "--format", "{{json .Runtimes}}")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "io.containerd.runc.v2": {"path": "runc"},
        "nvidia": {"path": "nvidia-container-runtime"},
        "runc": {"path": "runc"},
    }


def test_docker_info_with_the_daemon_down_fails_with_the_real_message(fake_tools: FakeTools) -> None:
    fake_tools.set(docker="down")
    result = fake_tools.run("docker", "info")
    assert result.returncode == 1
    assert result.stderr == f"ERROR: {CANNOT_CONNECT}\nerrors pretty printing info\n"
    assert result.stdout.startswith("Client: Docker Engine - Community\n")


def test_docker_info_format_with_the_daemon_down_exits_0_like_docker_28(fake_tools: FakeTools) -> None:
    """docker/cli#5900: with --format the error only shows on stderr; the template renders empty server info."""
    fake_tools.set(docker="down")
    result = fake_tools.run("docker", "info", "--format", "{{json .Runtimes}}")
    assert (result.returncode, result.stdout, result.stderr) == (0, "null\n", CANNOT_CONNECT + "\n")


def test_docker_info_reports_the_host_cpus_and_memory(fake_tools: FakeTools) -> None:
    fake_tools.set(host_cpus=4, host_memory_mb=16000)
    result = fake_tools.run("docker", "info", "--format", "{{.NCPU}} {{.MemTotal}}")
    assert result.stdout == f"4 {16000 * 1024 * 1024}\n"


def test_absent_docker_is_not_on_path_even_when_the_machine_has_one(fake_tools: FakeTools) -> None:
    fake_tools.set(docker="absent")
    assert shutil.which("docker", path=fake_tools.env["PATH"]) is None


def test_nvidia_smi_lists_each_gpu_with_its_uuid(fake_tools: FakeTools) -> None:
    fake_tools.set(gpus=2)
    lines = fake_tools.run("nvidia-smi", "-L").stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("GPU 0: NVIDIA GeForce RTX 3090 (UUID: GPU-")
    assert lines[1].startswith("GPU 1: NVIDIA GeForce RTX 3090 (UUID: GPU-")


def test_nvidia_smi_without_gpus_fails_like_a_missing_driver(fake_tools: FakeTools) -> None:
    result = fake_tools.run("nvidia-smi", "-L")
    assert result.returncode == 9
    assert result.stdout.startswith("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")


def test_nvidia_smi_can_be_absent(fake_tools: FakeTools) -> None:
    fake_tools.set(nvidia_smi="absent")
    assert shutil.which("nvidia-smi", path=fake_tools.env["PATH"]) is None


def test_nvidia_smi_plain_prints_a_table_naming_the_driver(fake_tools: FakeTools) -> None:
    fake_tools.set(gpus=1, nvidia_driver="535.183.01")
    result = fake_tools.run("nvidia-smi")
    assert result.returncode == 0
    assert "Driver Version: 535.183.01" in result.stdout
