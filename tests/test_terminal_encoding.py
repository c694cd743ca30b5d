"""Output on a terminal or pipe that is not UTF-8 (`PYTHONIOENCODING=ascii`, a `LANG=C` pipe, a latin-1 console):
plain ASCII stand-ins for kfinstall's symbols, never a UnicodeEncodeError traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease


def ascii_run(env: dict[str, str], *args: str, encoding: str = "ascii"):
    return kfinstall(*args, env={**env, "PYTHONIOENCODING": encoding, "COLUMNS": "160"})


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (("versions",), 0, ">= 5.0.0"),  # ≥
        (("check", "--pins", "{pins}"), None, "| + | kubernetes version"),  # ✓ (the table keeps its columns)
        (("plan", "--pins", "{pins}"), 0, "after"),  # `·  after ...`
    ],
    ids=["versions", "check", "plan"],
)
def test_an_ascii_stream_gets_ascii_stand_ins_instead_of_a_traceback(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path, args, code: int | None, shown: str
) -> None:
    """`code` None: whatever this machine's checks say (0 or 1), but not a crash."""
    env = isolated_env(fake_tools.env, tmp_path)
    if args[0] == "versions":
        args = (*args, "--pins", "{pins}")
    result = ascii_run(env, *[arg.replace("{pins}", str(synthetic_release.pins)) for arg in args])
    assert "Traceback" not in result.stderr and "UnicodeEncodeError" not in result.stderr, result.stderr
    assert result.returncode == code if code is not None else result.returncode in (0, 1), result.stderr
    assert result.stdout.isascii() and result.stderr.isascii()
    assert shown in result.stdout


def test_a_latin_1_stream_keeps_what_latin_1_can_say(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    env = {**isolated_env(fake_tools.env, tmp_path), "PYTHONIOENCODING": "latin-1"}
    result = subprocess.run([sys.executable, "-m", "kfinstall", "plan", "--pins", str(synthetic_release.pins)],
                            env=env, capture_output=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "· after".encode("latin-1") in result.stdout  # `·` is latin-1; only what latin-1 lacks is replaced
