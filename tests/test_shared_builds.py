"""The session's build cache (tests/releases.py `shared_builds`): a second test building what a first one built of the
same commit, paths and kustomize builds nothing, and gets the same objects. Tests that install real releases use it
to build each release once per session."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease


def images(env: dict[str, str], release: LocalRelease) -> list[str]:
    args = ("images", "list", "--pins", str(release.pins), "-k", release.tag, "--profile", "minimal", "--json")
    result = kfinstall(*args, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["images"]


def builds(fake_tools: FakeTools) -> list[list[str]]:
    return [call for call in fake_tools.calls("kustomize") if call[:1] == ["build"]]


def test_a_second_test_with_the_shared_cache_builds_nothing_and_sees_the_same_objects(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    first = images(isolated_env(fake_tools.env, tmp_path / "first", builds=shared), synthetic_release)
    built_first = len(builds(fake_tools))

    second = images(isolated_env(fake_tools.env, tmp_path / "second", builds=shared), synthetic_release)

    assert built_first > 0
    assert len(builds(fake_tools)) == built_first  # no build by the second
    assert second == first


def test_without_the_shared_cache_each_test_builds_its_own(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    images(isolated_env(fake_tools.env, tmp_path / "first"), synthetic_release)
    built_first = len(builds(fake_tools))

    images(isolated_env(fake_tools.env, tmp_path / "second"), synthetic_release)

    assert built_first > 0
    assert len(builds(fake_tools)) == 2 * built_first
