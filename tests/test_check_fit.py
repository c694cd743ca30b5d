"""`check`'s CPU and memory verdicts through the real CLI on the fakes: never the profile already chosen, never all
of the host's memory, and, once the manifests are on the machine, the requests measured from them with the
smaller profile that fits (tests/heavy_release.py: standard asks 5 GiB more than minimal)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import KNOBS, FakeTools
from tests.releases import LocalRelease


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(minikube_version="v1.37.0", kustomize_version="5.7.1", docker="running", host_memory_mb=16384)
    return isolated_env(fake_tools.env, tmp_path)


def on_host_of(env: dict[str, str], memory_mb: int) -> dict[str, str]:
    """`env` on a host (docker's answer) with `memory_mb` of memory."""
    return {**env, KNOBS["host_memory_mb"]: str(memory_mb)}


def check(env: dict[str, str], release: LocalRelease, *args: str) -> dict[str, dict[str, Any]]:
    result = kfinstall("check", "--pins", str(release.pins), "--json", *args, env=env)
    assert result.returncode in (0, 1), result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)["checks"]}


def fetched(env: dict[str, str], release: LocalRelease) -> dict[str, str]:
    result: subprocess.CompletedProcess[str] = kfinstall("images", "list", "--pins", str(release.pins), env=env)
    assert result.returncode == 0, result.stderr
    return env


def test_too_little_memory_for_minimal_never_suggests_minimal_again(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    memory = check(env, synthetic_release, "--profile", "minimal", "--memory", "4g")["memory"]
    assert memory["status"] == "warn"
    assert memory["hint"] == "use --memory 8192mb (at most 15360mb: this machine less 1024 MB for the system)"


def test_a_6_gb_host_is_never_told_to_give_minikube_all_6_gb(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    memory = check(on_host_of(env, 6144), synthetic_release, "--profile", "minimal")["memory"]
    assert memory["status"] == "fail"
    assert "6144mb" not in memory["hint"]
    assert memory["hint"].startswith("use --memory 5120mb (this machine less 1024 MB for the system)")


def test_measured_requests_that_fit_the_pinned_size_pass(env: dict[str, str], heavy_release: LocalRelease) -> None:
    memory = check(fetched(env, heavy_release), heavy_release, "--profile", "minimal")["memory"]
    assert memory["status"] == "ok"
    assert memory["required"].endswith(
        "requested with kube-system, measured from the manifests at v0.1.0 (the checkout in the cache)"
    )


def test_measured_requests_that_fit_less_than_the_pinned_size_warn_with_the_pinned_size(
    env: dict[str, str], heavy_release: LocalRelease
) -> None:
    memory = check(fetched(env, heavy_release), heavy_release, "--profile", "minimal", "--memory", "4g")["memory"]
    assert memory["status"] == "warn"
    assert memory["message"].startswith("the pods' requests fit, but less memory than the minimal profile is pinned")
    assert memory["hint"].startswith("use --memory 8192mb")


def test_measured_requests_beyond_the_memory_asked_fail_with_the_memory_that_fits(
    env: dict[str, str], heavy_release: LocalRelease
) -> None:
    memory = check(fetched(env, heavy_release), heavy_release, "--profile", "standard", "--memory", "4g")["memory"]
    assert memory["status"] == "fail"
    assert "stay Pending (Insufficient memory)" in memory["message"]
    assert memory["hint"].startswith("use --memory ")
    assert "--profile" not in memory["hint"]


def test_a_host_too_small_for_the_measured_profile_gets_the_smaller_profile_that_fits(
    env: dict[str, str], heavy_release: LocalRelease
) -> None:
    memory = check(on_host_of(fetched(env, heavy_release), 6144), heavy_release, "--profile", "standard")["memory"]
    assert memory["status"] == "fail"
    assert memory["hint"] == "use --memory 5120mb (this machine less 1024 MB for the system) with --profile minimal"


def test_an_existing_cluster_too_full_for_the_measured_plan_fails_naming_the_profile_that_fits(
    env: dict[str, str], heavy_release: LocalRelease, make_cluster: Any
) -> None:
    cluster = make_cluster(cpus=4, memory_mb=4096)  # kube-system's pods already request 750m and 170Mi of it
    rows = check({**fetched(env, heavy_release), **cluster.env}, heavy_release, "--context", "minikube",
                 "--profile", "standard")  # fmt: skip
    fits = rows["cluster resources"]
    assert fits["status"] == "fail"
    assert fits["message"].startswith("the cluster's node ")
    assert "allocatable less the 750m CPU, 170 MiB its pods request: not enough memory" in fits["message"]
    assert fits["hint"] == "--profile minimal fits"


def test_an_existing_cluster_with_room_for_the_measured_plan_passes(
    env: dict[str, str], heavy_release: LocalRelease, make_cluster: Any
) -> None:
    cluster = make_cluster(cpus=8, memory_mb=16384)
    rows = check({**fetched(env, heavy_release), **cluster.env}, heavy_release, "--context", "minikube",
                 "--profile", "standard")  # fmt: skip
    assert rows["cluster resources"]["status"] == "ok"
