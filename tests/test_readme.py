"""README.md stays true: every command has its section, and its example outputs are what the commands print.

The examples were captured from kfinstall driving the fakes and the cluster double; lines shown as `…` are
abridged, every other line must appear, in order, in what the command prints today.
"""

from __future__ import annotations

import re

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
GPU_MACHINE = {"gpus": 1, "docker_runtimes": ["io.containerd.runc.v2", "nvidia", "runc"], "minikube_version": "v1.37.0"}


def example(command_line: str) -> list[str]:
    """The indented block that follows `    $ COMMAND_LINE` in the README (comments after `#` ignored)."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(rf"    \$ {re.escape(command_line)}( +#.*)?", line))
    block = []
    for line in lines[start + 1 :]:
        if line.startswith("    $ ") or (line and not line.startswith("    ")):
            break
        block.append(line[4:].rstrip())
    while block and not block[-1]:
        block.pop()
    return block


def assert_shown_in_order(shown: list[str], printed: str) -> None:
    actual = [line.rstrip() for line in printed.splitlines()]
    position = 0
    for line in shown:
        if line in ("…", "^C"):
            continue
        assert line in actual[position:], f"README line not printed (in this order): {line!r}"
        position = actual.index(line, position) + 1


def commands() -> set[str]:
    import typer

    from kfinstall.cli import app

    return set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_every_command_has_a_readme_section_and_every_section_a_command() -> None:
    sections = set(re.findall(r"^### `kfinstall ([a-z-]+)`$", README, re.MULTILINE))
    assert sections == commands()


@pytest.fixture
def machine(fake_tools: FakeTools, tmp_path) -> dict[str, str]:
    fake_tools.set(minikube_version="v1.37.0", kustomize_version="5.7.1")
    return {**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "100"}


def test_the_plan_example_is_what_plan_prints(machine: dict[str, str]) -> None:
    result = kfinstall("plan", "--profile", "minimal", env=machine)
    assert result.returncode == 0, result.stderr
    assert_shown_in_order(example("kfinstall plan --profile minimal"), result.stdout)


def test_the_check_example_is_what_check_prints(machine: dict[str, str]) -> None:
    """Every row but the inotify limits', which this machine's kernel decides (with the count of warnings)."""
    shown = example("kfinstall check -k 1.11.0 --profile minimal")
    inotify = next(i for i, line in enumerate(shown) if "│ inotify limits" in line)
    bottom = next(i for i, line in enumerate(shown) if line.startswith("└"))
    kept = [line for line in shown[:inotify] + shown[bottom:] if not line.startswith(("! inotify", "ready for"))]
    result = kfinstall("check", "-k", "1.11.0", "--profile", "minimal", env={**machine, "COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    assert_shown_in_order(kept, result.stdout)


def test_the_versions_example_is_what_versions_prints(machine: dict[str, str]) -> None:
    shown = README.split("### `kfinstall versions`", 1)[1].split("###", 1)[0]
    block = [line[4:].rstrip() for line in shown.splitlines() if line.startswith("    ")]
    result = kfinstall("versions", env=machine)
    assert result.returncode == 0, result.stderr
    assert_shown_in_order(block, result.stdout)


def test_the_gpu_check_fixes_are_what_check_prints(fake_tools: FakeTools, machine: dict[str, str]) -> None:
    fake_tools.set(gpus=0)
    result = kfinstall("check", "--gpus", "all", "--profile", "minimal", env={**fake_tools.env, "COLUMNS": "100"})
    shown = [line for line in README.splitlines() if line.startswith("    ✗ gpu driver:")]
    shown += [line for line in README.splitlines() if line.startswith("    ✗ docker nvidia runtime:")]
    assert len(shown) == 2
    assert_shown_in_order([line[4:] for line in shown], result.stdout)


def test_the_gpu_test_example_is_what_gpu_test_prints(fake_tools: FakeTools, tmp_path) -> None:
    fake_tools.set(**GPU_MACHINE)
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", "--gpus", "all").returncode == 0
    result = kfinstall("gpu-test", env={**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert_shown_in_order(example("kfinstall gpu-test"), result.stdout)
