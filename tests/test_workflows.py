"""The GitHub Actions workflows: actionlint finds nothing, and every kfinstall command they run exists, accepts
the options given and is exercised by a test against the fake tools and the cluster double."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import kfinstall
from tests.paths import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
TESTS = REPO_ROOT / "tests"


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is installed by the test extra: pip install -e '.[test]'")
    return found


def kfinstall_calls(*only: Path) -> list[list[str]]:
    """argv (after `kfinstall`) of every kfinstall command in the workflows' (or `only` these) `run:` scripts."""
    calls = []
    for workflow in only or WORKFLOWS:
        document = yaml.safe_load(workflow.read_text())
        for job in document["jobs"].values():
            for step in job.get("steps", []):
                for line in str(step.get("run", "")).splitlines():
                    for match in re.finditer(r"(?:^|&&|\|\||;|\|)\s*kfinstall\s+([^|&;>]+)", line):
                        calls.append(shlex.split(match.group(1)))
    return calls


def test_there_is_a_smoke_workflow() -> None:
    assert REPO_ROOT / ".github" / "workflows" / "smoke.yml" in WORKFLOWS


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    # shellcheck/pyflakes off: their findings would depend on what happens to be installed on the machine
    result = subprocess.run(
        [actionlint(), "-no-color", "-shellcheck=", "-pyflakes=", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_smoke_job_runs_check_up_status_verify_and_down() -> None:
    smoke = [call[0] for call in kfinstall_calls(REPO_ROOT / ".github" / "workflows" / "smoke.yml")]
    assert smoke == ["check", "up", "status", "verify", "down"]


def test_the_smoke_matrix_covers_the_newest_pinned_release_and_the_tutorial_s_v1_4_0() -> None:
    from kfinstall.release.pins import load_pins

    smoke = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "smoke.yml").read_text())
    matrix = smoke["jobs"]["smoke"]["strategy"]["matrix"]["include"]
    releases = {entry["kubeflow"].removeprefix("v") for entry in matrix}
    assert releases == {load_pins().newest.tag.removeprefix("v"), "1.4.0"}


def test_the_weekly_image_check_asks_the_registries_for_every_pinned_release() -> None:
    from kfinstall.release.pins import load_pins

    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "images.yml").read_text())
    job = workflow["jobs"]["resolve"]
    assert "schedule" in workflow[True]  # YAML 1.1 reads the key `on` as True
    assert job["strategy"]["matrix"]["release"] == load_pins().tags
    assert ["check", "-k", "$RELEASE", "--profile", "full", "--images", "--json"] in kfinstall_calls(
        REPO_ROOT / ".github" / "workflows" / "images.yml"
    )


@pytest.mark.parametrize("call", kfinstall_calls(), ids=lambda call: call[0])
def test_each_kfinstall_command_of_the_workflows_accepts_its_options(call: list[str]) -> None:
    helped = kfinstall(call[0], "--help", env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert helped.returncode == 0, helped.stderr
    for option in (arg for arg in call[1:] if arg.startswith("-")):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", helped.stdout), f"{call[0]} has no {option}"


@pytest.mark.parametrize("command", sorted({call[0] for call in kfinstall_calls()}))
def test_each_kfinstall_command_of_the_workflows_is_run_by_a_test(command: str) -> None:
    """A test runs the real entry point with this command (against the fakes and the double)."""
    invocation = re.compile(rf"kfinstall\((?:[\w.]+, )?\s*\"{re.escape(command)}\"")
    runners = [path.name for path in TESTS.glob("test_*.py") if invocation.search(path.read_text())]
    assert runners, f"no test runs `kfinstall {command}`"


def test_every_action_is_pinned_by_commit_sha_with_its_version_in_a_comment() -> None:
    uses = [
        line.strip()
        for workflow in WORKFLOWS
        for line in workflow.read_text().splitlines()
        if line.strip().removeprefix("- ").startswith("uses:")
    ]
    unpinned = [line for line in uses if not re.search(r"@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*$", line)]

    assert uses and not unpinned, unpinned


def test_the_release_workflow_publishes_with_trusted_publishing_only_after_the_tests() -> None:
    release = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "release.yml").read_text())
    publish = release["jobs"]["publish"]
    text = (REPO_ROOT / ".github" / "workflows" / "release.yml").read_text()

    assert set(publish["needs"]) == {"build", "test"}
    assert publish["permissions"] == {"id-token": "write"}
    assert any("pypa/gh-action-pypi-publish@" in step.get("uses", "") for step in publish["steps"])
    assert "password:" not in text and "PYPI_TOKEN" not in text.upper()
    assert "bash .ci/run" in yaml.safe_dump(release["jobs"]["test"])


def test_every_downloaded_tool_is_verified_against_its_published_checksum() -> None:
    for workflow in WORKFLOWS:
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job.get("steps", []):
                script = str(step.get("run", ""))
                downloads = len(re.findall(r"curl -fsSL(?:o \S+|O) \"", script))
                assert downloads == script.count("sha256sum --check"), f"{workflow.name}: {step.get('name')}"
