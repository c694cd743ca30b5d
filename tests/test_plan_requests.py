"""`plan` shows what the plan's pods request, per component, measured from the built manifests, with the total
and what it is judged against; `plan --json` has it; a plan an existing minikube profile cannot hold is refused
(exit 1) with the smaller profile that fits as the hint. The real CLI on the fakes and the cluster double."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return {**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "200"}


def run(env: dict[str, str], release: LocalRelease, *args: str) -> subprocess.CompletedProcess[str]:
    return kfinstall(*args, "--pins", str(release.pins), env=env)


def fetched(env: dict[str, str], release: LocalRelease, *args: str) -> dict[str, str]:
    """The manifests in the cache, as `images list` leaves them (plan measures only what is on the machine)."""
    result = run(env, release, "images", "list", *args)
    assert result.returncode == 0, result.stderr
    return env


def said(text: str) -> str:
    return " ".join(text.split())


def test_plan_without_the_manifests_says_the_requests_are_not_measured_and_shows_the_pinned_size(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    result = run(env, synthetic_release, "plan", "--profile", "minimal")
    assert result.returncode == 0, result.stderr
    assert "Requests: not measured (the manifests of v0.1.0 are not on this machine yet" in said(result.stdout)
    assert "minikube's default size: 4 CPUs, 8 GB (pinned: synthetic)" in said(result.stdout)


def test_plan_shows_each_components_requests_and_the_total_judged_against_the_new_minikube(
    env: dict[str, str], heavy_release: LocalRelease
) -> None:
    result = run(fetched(env, heavy_release), heavy_release, "plan", "--profile", "standard")
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "component CPU memory storage" in lines
    pipelines = next(line for line in lines if line.startswith("pipelines "))
    assert "5" in pipelines and "GiB" in pipelines
    assert any(line.startswith("total ") for line in lines)
    assert (
        "judged against: a new minikube with 4 CPUs and 12288 MB, less kube-system's 750m CPU and 170 MiB: fits"
        in lines
    )


def test_plan_json_has_the_requests_per_component_and_the_verdict(
    env: dict[str, str], heavy_release: LocalRelease
) -> None:
    result = run(fetched(env, heavy_release), heavy_release, "plan", "--profile", "standard", "--json")
    assert result.returncode == 0, result.stderr
    requests = json.loads(result.stdout)["requests"]
    assert requests["measured"] is True
    assert requests["components"]["pipelines"]["memory_bytes"] >= 5 * 2**30
    assert requests["components"]["pipelines"]["cpu"] >= 2
    assert requests["total"]["memory_bytes"] == sum(c["memory_bytes"] for c in requests["components"].values())
    assert (requests["fits"], requests["pinned"]["memory_mb"]) == (True, 12288)


def test_plan_says_a_new_minikube_too_small_does_not_fit_and_what_does(
    env: dict[str, str], heavy_release: LocalRelease
) -> None:
    result = run(fetched(env, heavy_release), heavy_release, "plan", "--profile", "standard", "--memory", "4g")
    assert result.returncode == 0, result.stderr
    assert "4096 MB, less kube-system's 750m CPU and 170 MiB: does not fit; --profile minimal fits" in said(
        result.stdout
    )


def test_plan_refuses_a_plan_the_existing_profile_cannot_hold_and_names_the_profile_that_fits(
    env: dict[str, str], heavy_release: LocalRelease
) -> None:
    up = run(env, heavy_release, "up", "--yes", "--profile", "minimal", "--cpus", "4", "--memory", "4g")
    assert up.returncode == 0, up.stderr
    result = run(env, heavy_release, "plan", "--profile", "standard", "--cpus", "4", "--memory", "4g")
    assert result.returncode == 1, result.stderr
    message = said(result.stderr)
    assert message.startswith("error: minikube profile 'kubeflow' with 4 CPUs and 4096 MB")
    assert "cannot hold this plan: its pods request" in message
    assert "more memory than the node has for them (3.25 CPU, 3.8 GiB)" in message
    assert "hint: --profile minimal fits it" in said(result.stderr)
    assert "Traceback" not in result.stderr


def test_plan_refuses_what_up_refuses_on_an_existing_profile(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    up = run(env, synthetic_release, "up", "--yes", "--profile", "minimal", "--cpus", "4", "--memory", "4g")
    assert up.returncode == 0, up.stderr
    planned = run(env, synthetic_release, "plan", "--profile", "standard")
    refused = run(env, synthetic_release, "up", "--yes", "--profile", "standard")
    assert (planned.returncode, refused.returncode) == (2, 2)
    assert "minikube profile 'kubeflow' holds" in said(planned.stderr)
    assert said(planned.stderr).split(" log:")[0] == said(refused.stderr).split(" log:")[0]


def test_plan_on_an_existing_context_refuses_what_its_nodes_cannot_hold(
    env: dict[str, str], heavy_release: LocalRelease, make_cluster: Any
) -> None:
    cluster = make_cluster(cpus=4, memory_mb=4096)
    result = run({**fetched(env, heavy_release), **cluster.env}, heavy_release, "plan", "--context", "minikube",
                 "--profile", "standard")  # fmt: skip
    assert result.returncode == 1, result.stderr
    message = said(result.stderr)
    assert message.startswith("error: the cluster's node ")
    assert "cannot hold this plan: its pods request" in message
    assert "hint: --profile minimal fits it; or room freed on it, or another node" in message


def test_plan_on_an_existing_context_with_room_says_it_fits(
    env: dict[str, str], heavy_release: LocalRelease, make_cluster: Any
) -> None:
    cluster = make_cluster(cpus=8, memory_mb=16384)
    result = run({**fetched(env, heavy_release), **cluster.env}, heavy_release, "plan", "--context", "minikube",
                 "--profile", "standard")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "allocatable less the 750m CPU, 170 MiB its pods request: fits" in said(result.stdout)
