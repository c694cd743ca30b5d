"""The frame every command runs in (src/kfinstall/commands/frame.py), seen from the command line.

A command that opened its log names it in its error (`log: PATH`, the hint's last line), so the full output of
what failed is one copy away; down and up did so before the frame, password and gpu-test did not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools

FAILURES = {  # the command line, its stdin, its error, its exit code (3: nothing installed, errors.py)
    "gpu-test": (("gpu-test",), None, "error: no node offers a nvidia.com/gpu", 1),
    "password": (("password", "--password-stdin"), "a-new-password\n", "kfinstall installed nothing on context", 3),
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_a_failure_after_the_log_opened_names_the_log_file(name: str, fake_tools: FakeTools, tmp_path: Path) -> None:
    args, stdin, message, code = FAILURES[name]
    fake_tools.set(minikube_version="v1.37.0")
    assert fake_tools.run("minikube", "start", "-p", "kubeflow").returncode == 0  # a cluster with nothing of ours
    result = kfinstall(*args, env=isolated_env(fake_tools.env, tmp_path), stdin=stdin)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    (log,) = (tmp_path / "logs").glob(f"*-{name}-*.log")
    assert result.stderr.rstrip("\n").splitlines()[-1] == f"log: {log}"
    assert result.stderr.count("log: ") == 1


def test_the_programs_a_command_runs_before_its_log_opens_are_in_the_log_after_its_first_line(
    fake_tools: FakeTools, tmp_path: Path
) -> None:
    """`plan` asks minikube about the profile while it decides (prepare, before the log exists): that call is in
    the log too, after the line naming the run, as every external command must be."""
    result = kfinstall("plan", "--profile", "minimal", env=isolated_env(fake_tools.env, tmp_path))
    assert result.returncode == 0, result.stderr
    (log,) = (tmp_path / "logs").glob("*-plan-*.log")
    lines = log.read_text().splitlines()
    assert " kfinstall " in lines[0] and "plan --profile minimal" in lines[0]
    assert any("minikube status -p kubeflow -o json" in line for line in lines[1:]), lines
