"""`kfinstall versions`: the pinned releases, as a table and as JSON, from the shipped or a given pins file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from kfinstall.release.pins import shipped_pins_path

KFINSTALL = str(Path(sys.executable).parent / "kfinstall")


def kfinstall(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script with no tools on PATH; PYTHONPATH kept, so that a checkout's src/ is the code run."""
    env = {"COLUMNS": "160", "PATH": "", **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}
    return subprocess.run([KFINSTALL, *args], capture_output=True, text=True, timeout=60, check=False, env=env)


def test_versions_json_lists_every_release_with_its_requirements_and_profiles() -> None:
    result = kfinstall("versions", "--json")
    assert result.returncode == 0, result.stderr
    releases = {r["tag"]: r for r in json.loads(result.stdout)["releases"]}
    assert list(releases) == ["v1.4.0", "v1.9.1", "v1.10.2", "v1.11.0", "26.03"]
    tutorial = releases["v1.4.0"]
    assert tutorial["kubernetes"] == {"min": "v1.17", "max": "v1.21", "default": "v1.19.3"}
    assert tutorial["kustomize"] == {"exact": "3.2.0", "min": None}
    assert "katib" in tutorial["profiles"]["minimal"] and "pipelines" not in tutorial["profiles"]["minimal"]
    assert len(tutorial["profiles"]["full"]) == len(tutorial["components"])


def test_versions_table_shows_each_release_and_what_profiles_add() -> None:
    result = kfinstall("versions")
    assert result.returncode == 0, result.stderr
    for text in ("v1.4.0", "v1.11.0", "= 3.2.0", "≥ 5.7.1", "(default v1.19.3)", "standard (17): + pipelines"):
        assert text in result.stdout


def test_versions_shows_the_calendar_release_26_03_first_newest_on_top() -> None:
    result = kfinstall("versions")
    assert result.returncode == 0, result.stderr
    assert "26.03" in result.stdout and "≥ 5.8.1" in result.stdout and "d68ebc7fab36" in result.stdout
    assert result.stdout.index("26.03") < result.stdout.index("v1.11.0") < result.stdout.index("v1.4.0")
    calendar = json.loads(kfinstall("versions", "--json").stdout)["releases"][-1]
    assert (calendar["tag"], calendar["repo"]) == ("26.03", "https://github.com/kubeflow/community-distribution.git")


def test_versions_reads_another_pins_file(tmp_path: Path) -> None:
    data = yaml.safe_load(shipped_pins_path().read_text())
    data["releases"] = [r for r in data["releases"] if r["tag"] == "v1.4.0"]
    fork = tmp_path / "fork.yaml"
    fork.write_text(yaml.safe_dump(data))
    result = kfinstall("versions", "--json", "--pins", str(fork))
    assert [r["tag"] for r in json.loads(result.stdout)["releases"]] == ["v1.4.0"]


def test_a_broken_pins_file_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "pins.yaml"
    broken.write_text("releases:\n  - tag: v1.4.0\n")
    result = kfinstall("versions", "--pins", str(broken))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: invalid pins file {broken}: release v1.4.0: repo: missing field")
    assert "Traceback" not in result.stderr


def test_help_lists_the_commands() -> None:
    result = kfinstall("--help")
    assert result.returncode == 0
    assert "versions" in result.stdout and "check" in result.stdout


def test_the_cli_module_leaves_heavy_imports_to_the_commands_so_help_stays_fast() -> None:
    """What kfinstall.cli imports beyond Typer itself (older Typers import rich.table at once: not ours to avoid)."""
    heavy = ("pydantic", "yaml", "sh", "rich.table", "kfinstall.release.pins", "kfinstall.checks.prerequisites")
    code = (
        "import sys, typer; before = set(sys.modules); import kfinstall.cli; "
        f"print([m for m in {heavy!r} if m in sys.modules and m not in before])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
