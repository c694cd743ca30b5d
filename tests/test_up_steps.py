"""`up` as an explicit list of steps: `steps(plan, options)` decides which run, `kfinstall plan` prints that list,
and `up` runs exactly it (the log names each step as it starts)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from kfinstall.install.steps import steps
from kfinstall.install.up import UpOptions, make_plan
from kfinstall.release.pins import load_pins
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

#: The log line the loop writes as each step starts (install/steps.py `run_up`).
STEP_LINE = re.compile(r" step \d+/\d+ ([a-z-]+): ")


def names(release: LocalRelease, **options: object) -> list[str]:
    pins = load_pins(release.pins)
    up_options = UpOptions(pins=release.pins, **options)  # type: ignore[arg-type]
    return [step.name for step in steps(make_plan(up_options, pins.get(release.tag)), up_options)]


def test_up_without_context_starts_minikube_after_the_builds_and_before_the_record(synthetic_release) -> None:
    assert names(synthetic_release) == [
        "check-prerequisites",
        "show-plan",
        "fetch-manifests",
        "start-builds",
        "lock-cluster",
        "start-minikube",
        "load-cached-images",
        "read-record",
        "install-components",
        "finish-cached-images",
        "write-record",
        "remember-images",
    ]


def test_up_with_context_uses_the_cluster_and_starts_no_minikube(synthetic_release) -> None:
    found = names(synthetic_release, context="elsewhere")
    assert "start-minikube" not in found
    assert not {"load-cached-images", "finish-cached-images", "remember-images"} & set(found)  # minikube's cache
    assert found[found.index("show-plan") + 1] == "use-context"


def test_only_gpus_add_the_gpu_wait_right_after_minikube(synthetic_release) -> None:
    assert "wait-for-gpus" not in names(synthetic_release)
    found = names(synthetic_release, gpus="all")
    assert found[found.index("start-minikube") + 1] == "wait-for-gpus"


def test_prefetch_images_pulls_around_the_install_only_when_asked(synthetic_release) -> None:
    assert "prefetch-images" not in names(synthetic_release)
    found = names(synthetic_release, prefetch_images=True)
    assert found.index("prefetch-images") < found.index("install-components") < found.index("finish-prefetch")


def test_prefetch_images_with_context_only_says_it_needs_minikube(synthetic_release) -> None:
    pins = load_pins(synthetic_release.pins)
    options = UpOptions(pins=synthetic_release.pins, context="elsewhere", prefetch_images=True)
    todo = steps(make_plan(options, pins.get(synthetic_release.tag)), options)
    (prefetch,) = [step for step in todo if step.name == "prefetch-images"]
    assert "needs minikube" in prefetch.description
    assert "finish-prefetch" not in [step.name for step in todo]


def test_skip_checks_drops_the_prerequisite_step(synthetic_release) -> None:
    assert names(synthetic_release, skip_checks=True)[0] == "show-plan"


def test_every_step_has_a_name_and_a_one_line_description(synthetic_release) -> None:
    pins = load_pins(synthetic_release.pins)
    options = UpOptions(pins=synthetic_release.pins, gpus="all", prefetch_images=True)
    todo = steps(make_plan(options, pins.get(synthetic_release.tag)), options)
    assert len({step.name for step in todo}) == len(todo)
    assert all(step.description and "\n" not in step.description for step in todo)


def test_plan_prints_the_steps_numbered_after_the_components(fake_tools: FakeTools, synthetic_release, tmp_path):
    env = isolated_env(fake_tools.env, tmp_path)
    result = kfinstall("plan", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", env=env)
    assert result.returncode == 0, result.stderr
    after = result.stdout.split("Steps of `kfinstall up` (12):\n", 1)[1]
    assert after.splitlines()[0].split()[:2] == ["1.", "check-prerequisites"]
    assert "components" in result.stdout.split("Steps of", 1)[0]


def planned_and_ran(env: dict[str, str], release: LocalRelease, *args: str) -> tuple[list[str], list[str]]:
    """The steps `up --dry-run --json` lists and those the log of the same `up` says it started."""
    common = ("up", "--pins", str(release.pins), "-k", release.tag, "--yes", *args)
    planned = kfinstall(*common, "--dry-run", "--json", env=env)
    assert planned.returncode == 0, planned.stderr
    ran: subprocess.CompletedProcess[str] = kfinstall(*common, env=env)
    assert ran.returncode == 0, ran.stderr
    log = (Path(env["KFINSTALL_LOG_DIR"]) / "latest.log").read_text()
    return [step["name"] for step in json.loads(planned.stdout)["steps"]], STEP_LINE.findall(log)


@pytest.mark.parametrize("args", [(), ("--skip-checks", "--prefetch-images")], ids=["default", "prefetch"])
def test_up_runs_exactly_the_steps_plan_lists(fake_tools: FakeTools, synthetic_release, tmp_path, args) -> None:
    fake_tools.set(minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)
    planned, ran = planned_and_ran(env, synthetic_release, "--profile", "minimal", *args)
    assert ran == planned
    assert ("prefetch-images" in ran) == ("--prefetch-images" in args)
