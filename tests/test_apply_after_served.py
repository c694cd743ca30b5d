"""`up` applies a component as soon as the dependencies the pins mark `after_served` are served (CRDs established,
admission webhooks answering), not only once they are ready.

The synthetic Istio's istiod serves its validating webhook (failurePolicy Fail, for Istio's custom resources,
which Dex's build has); its ingress gateway is slow here. Istio is ready once both are; it is served once istiod
answers. The double's readiness timeline says which came first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import needs_bundle
from tests.releases import SHIPPED_PINS, LocalRelease, release_tools

GATEWAY_DELAY = 8
DOUBLE = (
    "--set crd_establish_delay=0.2 --set ready_delay=0.2 --set seed=7"
    f" --set 'ready_delays={{\"istio-system/istio-ingressgateway\":{GATEWAY_DELAY}}}'"
)


def pins_with_dex_after_served_istio(release: LocalRelease, tmp_path: Path) -> Path:
    data = yaml.safe_load(release.pins.read_text())
    dex = next(c for c in data["releases"][0]["components"] if c["id"] == "dex")
    dex["after_served"] = ["istio"]
    pins = tmp_path / "pins.yaml"
    pins.write_text(yaml.safe_dump(data, sort_keys=False))
    return pins


def timeline_of_up(fake_tools: FakeTools, release: LocalRelease, pins: Path, root: Path) -> list[dict]:
    fake_tools.set(double_args=DOUBLE, minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, root)
    result = kfinstall("up", "--pins", str(pins), "-k", release.tag, "--yes", "--profile", "minimal", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (fake_tools.double_dir("kubeflow") / "ready.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def first_ready(timeline: list[dict], name: str) -> float:
    return next(entry["time"] for entry in timeline if entry["name"] == name and entry["ready"])


def test_a_component_after_served_istio_is_ready_before_istio_is(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    pins = pins_with_dex_after_served_istio(synthetic_release, tmp_path)
    timeline = timeline_of_up(fake_tools, synthetic_release, pins, tmp_path)

    assert first_ready(timeline, "dex") < first_ready(timeline, "istio-ingressgateway")


def test_a_component_after_istio_waits_until_istio_is_ready(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    timeline = timeline_of_up(fake_tools, synthetic_release, synthetic_release.pins, tmp_path)

    assert first_ready(timeline, "dex") > first_ready(timeline, "istio-ingressgateway")


def test_after_served_may_only_name_a_dependency(synthetic_release: LocalRelease, tmp_path: Path) -> None:
    from kfinstall.release.pins import load_pins

    data = yaml.safe_load(synthetic_release.pins.read_text())
    next(c for c in data["releases"][0]["components"] if c["id"] == "dex")["after_served"] = ["katib"]
    pins = tmp_path / "pins.yaml"
    pins.write_text(yaml.safe_dump(data, sort_keys=False))

    with pytest.raises(Exception, match="after_served names what it does not depend on: katib"):
        load_pins(pins)


def test_plan_names_the_edges_that_wait_only_until_served(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    pins = pins_with_dex_after_served_istio(synthetic_release, tmp_path)
    env = isolated_env(fake_tools.env, tmp_path)
    result = kfinstall("plan", "--pins", str(pins), "-k", synthetic_release.tag, "--profile", "minimal", env=env)

    assert result.returncode == 0, result.stderr
    assert "after istio (served)" in result.stdout + result.stderr


@needs_bundle
@pytest.mark.timeout(600)
def test_a_real_release_applies_dex_before_its_istio_ingress_gateway_is_ready_and_ends_ready(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path
) -> None:
    """The shipped pins' Dex -> Istio edge (manifests_pins.yaml, after_served) on the real 26.03 manifests."""
    tag = "26.03"
    fake_tools.set(double_args=DOUBLE, minikube_version="v1.37.0", **release_tools(tag))
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    pins = bundle_releases[tag].pins  # the shipped pins, pointed at the bundle's clone
    args = ("up", "--pins", str(pins), "-k", tag, "--yes", "--profile", "minimal", "--timeout", "300")
    result = kfinstall(*args, env=env)

    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Kubeflow {tag} is ready" in result.stderr
    lines = (fake_tools.double_dir("kubeflow") / "ready.jsonl").read_text().splitlines()
    timeline = [json.loads(line) for line in lines]
    assert first_ready(timeline, "dex") < first_ready(timeline, "istio-ingressgateway")


@pytest.mark.parametrize("tag", ["v1.4.0", "v1.9.1", "v1.10.2", "v1.11.0", "26.03"])
def test_plan_of_every_shipped_release_shows_dex_after_istio_served(
    fake_tools: FakeTools, tmp_path: Path, tag: str
) -> None:
    env = isolated_env(fake_tools.env, tmp_path)
    result = kfinstall("plan", "--pins", str(SHIPPED_PINS), "-k", tag, "--profile", "minimal", env=env)

    assert result.returncode == 0, result.stderr
    dex = next(line for line in (result.stdout + result.stderr).splitlines() if ". dex" in line)
    assert "after istio (served)" in dex
