"""The fake kustomize prints each release line's real `version` output and builds with the real engine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT

DASHBOARD = REPO_ROOT / "tests" / "data" / "synthetic-manifests" / "apps" / "centraldashboard" / "base"


@pytest.mark.parametrize(
    ("version", "printed"),
    [
        (
            "3.2.0",
            "Version: {KustomizeVersion:3.2.0 GitCommit:a3103f1e62ddb5b696daa3fd359bb6f2e8333b49 "
            "BuildDate:2019-09-18T16:26:36Z GoOs:linux GoArch:amd64}",
        ),
        (
            "3.2.1",
            "Version: {Version:kustomize/v3.2.1 GitCommit:d89b448c745937f0cf1936162f26a5aac688f840 "
            "BuildDate:2019-09-27T00:10:52Z GoOs:linux GoArch:amd64}",
        ),
        (
            "3.6.1",
            "{Version:kustomize/v3.6.1 GitCommit:c97fa946d576eb6ed559f17f2ac43b3b5a8d5dbd "
            "BuildDate:2020-05-27T20:47:35Z GoOs:linux GoArch:amd64}",
        ),
        (
            "v4.5.7",
            "{Version:kustomize/v4.5.7 GitCommit:56d82a8378dfc8dc3b3b1085e5a6e67b82966bd7 "
            "BuildDate:2022-08-02T16:35:54Z GoOs:linux GoArch:amd64}",
        ),
        ("5.0.0", "v5.0.0"),
        ("v5.7.1", "v5.7.1"),
    ],
)
def test_version_prints_the_shape_of_its_release_line(fake_tools: FakeTools, version: str, printed: str) -> None:
    fake_tools.set(kustomize_version=version)
    result = fake_tools.run("kustomize", "version")
    assert (result.returncode, result.stdout) == (0, printed + "\n")


def test_release_3_3_still_prints_the_version_prefix(fake_tools: FakeTools) -> None:
    fake_tools.set(kustomize_version="3.3.0")
    assert fake_tools.run("kustomize", "version").stdout.startswith("Version: {Version:kustomize/v3.3.0 GitCommit:")


def test_version_output_can_be_any_text_such_as_a_distro_build(fake_tools: FakeTools) -> None:
    fake_tools.set(kustomize_version_output="{Version:3.8.2 GitCommit:unknown}")
    assert fake_tools.run("kustomize", "version").stdout == "{Version:3.8.2 GitCommit:unknown}\n"


def test_build_prints_what_the_real_engine_renders(fake_tools: FakeTools) -> None:
    real = subprocess.run(
        [str(fake_tools.kubectl), "kustomize", str(DASHBOARD)], capture_output=True, text=True, check=True
    )
    fake = fake_tools.run("kustomize", "build", str(DASHBOARD))
    assert (fake.returncode, fake.stdout) == (0, real.stdout)
    assert "kind: Service" in fake.stdout


def test_build_of_a_missing_directory_fails_with_the_engine_error(fake_tools: FakeTools, tmp_path: Path) -> None:
    result = fake_tools.run("kustomize", "build", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "must build at directory" in result.stderr


def test_build_translates_the_3_x_load_restrictor_spelling(fake_tools: FakeTools) -> None:
    result = fake_tools.run("kustomize", "build", "--load_restrictor", "none", str(DASHBOARD))
    assert result.returncode == 0
    assert fake_tools.calls("kustomize")[-1] == ["build", "--load_restrictor", "none", str(DASHBOARD)]
