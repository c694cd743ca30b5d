"""README.md's examples of the commands run after `up` are what they print, on the fake minikube and the double
(tests/test_readme.py holds the commands before `up`; the port-forward example is held in test_port_forward.py).

Only what must vary is normalised: the README's placeholders `N`, `SIZE`, `IMAGE` and the cache directory's path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease
from tests.test_readme import assert_shown_in_order, example

#: The double's pull model on (each synthetic image takes a little while), so the node has images `down` keeps.
FAST = (
    "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
    " --set 'image_pull_delays={\"docker.io/kfsynthetic/*\": 0.05}'"
)


@pytest.fixture
def installed(fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path) -> dict[str, str]:
    """A finished minimal install of this test's own on the fake minikube profile `kubeflow`."""
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = {**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "200"}
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "minimal", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return env


def pattern(readme_line: str, cache: str) -> re.Pattern[str]:
    """A README line whose placeholders stand for what this run printed: `N` a count, `SIZE` a size, `IMAGE` an
    image, `~/.cache/kfinstall` the test's cache directory."""
    text = re.escape(readme_line.replace("~/.cache/kfinstall", cache))
    text = re.sub(r"\bN\b", r"\\d+", text)
    text = re.sub(r"\bSIZE\b", r"[0-9.]+\\ [kKMGT]?i?B", text)
    return re.compile(re.sub(r"\bIMAGE\b", r"\\S+", text))


def assert_matched_in_order(shown: list[str], printed: str, cache: str) -> None:
    actual = [line.rstrip() for line in printed.splitlines()]
    position = 0
    for line in shown:
        if line.strip() == "…":
            continue
        wanted = pattern(line, cache)
        found = next((i for i in range(position, len(actual)) if wanted.fullmatch(actual[i])), None)
        assert found is not None, f"README line not printed (in this order): {line!r}\n{printed}"
        position = found + 1


def test_the_password_example_is_what_password_prints(installed: dict[str, str], tmp_path: Path) -> None:
    secret = tmp_path / ".kubeflow-password"
    secret.write_text("correct-horse-battery\n")
    result = kfinstall("password", "--password-file", str(secret), env=installed)
    assert result.returncode == 0, result.stderr
    assert_shown_in_order(example("kfinstall password --password-file ~/.kubeflow-password"),
                          result.stdout + result.stderr)  # fmt: skip


def test_the_down_example_is_what_down_prints(installed: dict[str, str]) -> None:
    result = kfinstall("down", "--yes", env=installed)
    assert result.returncode == 0, result.stderr
    assert_matched_in_order(example("kfinstall down --yes"), result.stdout + result.stderr,
                            installed["KFINSTALL_CACHE_DIR"])  # fmt: skip
