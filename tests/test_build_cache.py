"""The build cache, through `kfinstall up`: its files are private (a build holds the release's Secrets), and one
that is cut short or damaged between two runs is noticed, noted in the log and rebuilt, never installed."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.1 --set ready_delay=0.1 --set seed=3"
KATIB = "apps/katib/base"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def up(env: dict[str, str], release: LocalRelease) -> subprocess.CompletedProcess[str]:
    return kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal", env=env)


def builds(env: dict[str, str]) -> Path:
    return Path(env["KFINSTALL_CACHE_DIR"]) / "builds"


def katib_cache(env: dict[str, str], suffix: str) -> Path:
    """The cached build (`.yaml`) or parse (`.json`) of katib: the one that names katib's UI."""
    (path,) = [p for p in builds(env).rglob(f"*{suffix}") if "katib-ui" in p.read_text(errors="replace")]
    return path


def katib_builds(fake_tools: FakeTools) -> int:
    return len([call for call in fake_tools.calls("kustomize") if call[:1] == ["build"] and call[-1].endswith(KATIB)])


def latest_log(env: dict[str, str]) -> str:
    return (Path(env["KFINSTALL_LOG_DIR"]) / "latest.log").read_text()


def test_build_cache_files_are_0600_in_0700_directories(fake_tools: FakeTools, env, release_with_a_secret) -> None:
    assert up(env, release_with_a_secret).returncode == 0
    assert "kind: Secret" in katib_cache(env, ".yaml").read_text()
    files = [p for p in builds(env).rglob("*") if p.is_file()]
    directories = [builds(env), *(p for p in builds(env).rglob("*") if p.is_dir())]
    assert files and {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {"0o600"}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in directories} == {"0o700"}


def test_a_cached_build_cut_short_between_two_ups_is_rebuilt_not_installed(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    assert up(env, synthetic_release).returncode == 0
    cached = katib_cache(env, ".yaml")
    whole = cached.read_text()
    cached.write_text(whole[: whole.index("\n---\n", len(whole) // 2)] + "\n")  # whole documents, but not all
    katib_cache(env, ".json").unlink()  # so the YAML is what the next run reads
    built_before = katib_builds(fake_tools)

    again = up(env, synthetic_release)

    assert again.returncode == 0, again.stderr
    assert katib_builds(fake_tools) == built_before + 1
    assert f"build cache {cached} is damaged" in latest_log(env)
    assert "(0 installed, 13 unchanged" in again.stderr
    assert katib_cache(env, ".yaml").read_text() == whole  # healed


def test_a_garbage_build_cache_is_rebuilt_and_the_install_succeeds(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    assert up(env, synthetic_release).returncode == 0
    for suffix in (".yaml", ".json"):
        katib_cache(env, suffix).write_bytes(b"\x00\xff garbage: [unclosed\n")
    built_before = katib_builds(fake_tools)

    again = up(env, synthetic_release)

    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert katib_builds(fake_tools) == built_before + 1
    assert latest_log(env).count("is damaged") == 2
