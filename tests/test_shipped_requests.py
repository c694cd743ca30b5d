"""On a machine that has never fetched a release's manifests, `plan` and `check` judge the install by the requests
shipped with kfinstall (manifests_requests.yaml, measured at the pinned commits by tools/measure_requests.py),
say so in one line, and clone nothing; and the shipped figures are what the real manifests request (rebuilt
from ../shared's bundle: they never drift). The real CLI with the shipped pins, on the fake tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import KNOBS, FakeTools
from tests.paths import REPO_ROOT, needs_bundle, real_kubectl
from tests.releases import LocalRelease

SHIPPED = REPO_ROOT / "manifests_requests.yaml"
PINS = yaml.safe_load((REPO_ROOT / "manifests_pins.yaml").read_text())
TAG = "v1.10.2"


def shipped_release(tag: str) -> dict[str, Any]:
    return next(r for r in yaml.safe_load(SHIPPED.read_text())["releases"] if r["tag"] == tag)


def component_paths(tag: str, component: str) -> list[str]:
    release = next(r for r in PINS["releases"] if r["tag"] == tag)
    return next(c for c in release["components"] if c["id"] == component)["paths"]


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(minikube_version="v1.37.0", kustomize_version="5.7.1", docker="running", host_memory_mb=16384)
    return {**isolated_env(fake_tools.env, tmp_path), "COLUMNS": "200"}


def no_checkout(env: dict[str, str]) -> bool:
    manifests = Path(env["KFINSTALL_CACHE_DIR"]) / "manifests"
    return not manifests.exists() or not any(manifests.iterdir())


def test_plan_without_a_checkout_shows_the_shipped_requests_and_where_they_come_from(env: dict[str, str]) -> None:
    result = kfinstall("plan", "-k", TAG, "--profile", "standard", env=env)
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert f"measured from the manifests at {TAG} (shipped with kfinstall)" in lines
    assert "component CPU memory storage" in lines
    assert any(line.startswith("pipelines ") and "GiB" in line for line in lines)
    assert any(line.startswith("judged against: a new minikube with") and line.endswith(": fits") for line in lines)
    assert no_checkout(env)  # a plan clones nothing


def test_plan_json_without_a_checkout_has_each_components_shipped_figures(env: dict[str, str]) -> None:
    result = kfinstall("plan", "-k", TAG, "--profile", "standard", "--json", env=env)
    assert result.returncode == 0, result.stderr
    requests = json.loads(result.stdout)["requests"]
    assert (requests["measured"], requests["measured_from"]) == (True, f"measured from the manifests at {TAG} "
                                                                       "(shipped with kfinstall)")  # fmt: skip
    figures = shipped_release(TAG)["paths"]
    pipelines = [figures[path] for path in component_paths(TAG, "pipelines")]
    assert requests["components"]["pipelines"]["memory_bytes"] == sum(f["memory_bytes"] for f in pipelines) > 0
    assert requests["components"]["pipelines"]["storage_bytes"] == sum(f["storage_bytes"] for f in pipelines) > 0
    assert requests["total"]["memory_bytes"] == sum(c["memory_bytes"] for c in requests["components"].values())
    assert requests["fits"] is True
    assert no_checkout(env)


def test_plan_counts_the_proxy_istio_injects_into_the_plans_pods_and_says_so(env: dict[str, str]) -> None:
    result = kfinstall("plan", "-k", TAG, "--profile", "standard", "--json", env=env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    figures = shipped_release(TAG)["paths"]
    pods = sum(figures[path].get("istio_proxies", 0) for c in document["components"] for path in c["paths"])
    assert document["requests"]["istio_proxies"] == {
        "pods": pods, "each": {"cpu": 0.1, "memory_bytes": 128 * 2**20, "storage_bytes": 0}}  # fmt: skip
    assert pods >= 20  # v1.10.2 runs most of its pods in `kubeflow`, labelled for injection
    shown = kfinstall("plan", "-k", TAG, "--profile", "standard", env=env)
    assert (f"counted: the proxy Istio injects into {pods} pods (100m CPU, 128 MiB each, as the release's "
            "istio-sidecar-injector sets it; a pod may set its own)") in " ".join(shown.stdout.split())  # fmt: skip


def test_plan_without_a_checkout_says_a_too_small_minikube_does_not_fit_and_what_does(env: dict[str, str]) -> None:
    result = kfinstall("plan", "-k", TAG, "--profile", "standard", "--memory", "4g", "--json", env=env)
    assert result.returncode == 0, result.stderr
    requests = json.loads(result.stdout)["requests"]
    assert requests["fits"] is False
    assert requests["alternative"] == "--profile minimal"


def test_plan_with_a_component_added_that_does_not_fit_names_the_without_that_does(env: dict[str, str]) -> None:
    args = ("plan", "-k", TAG, "--profile", "minimal", "--with", "pipelines", "--memory", "4g")
    result = kfinstall(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert "4096 MB, less kube-system's 750m CPU and 170 MiB: does not fit; --without pipelines fits" in " ".join(
        result.stdout.split()
    )


def test_plan_of_a_release_whose_trainer_needs_the_network_names_it_as_not_measured(env: dict[str, str]) -> None:
    result = kfinstall("plan", "-k", "26.03", "--profile", "standard", env=env)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "measured from the manifests at 26.03 (shipped with kfinstall)" in text
    assert "not counted, not measured: trainer (its build downloads remote bases)" in text
    assert ": fits (what was measured)" in text


def test_check_without_a_checkout_judges_memory_by_the_shipped_requests(env: dict[str, str]) -> None:
    result = kfinstall("check", "-k", TAG, "--profile", "standard", "--memory", "3g", "--json", env=env)
    assert result.returncode == 1, result.stderr
    memory = next(row for row in json.loads(result.stdout)["checks"] if row["name"] == "memory")
    assert memory["status"] == "fail"
    assert memory["required"].endswith(f"requested with kube-system, measured from the manifests at {TAG} "
                                       "(shipped with kfinstall)")  # fmt: skip
    assert "some stay Pending (Insufficient memory)" in memory["message"]
    assert no_checkout(env)


def test_check_on_a_host_too_small_for_standard_names_the_profile_the_shipped_requests_fit(
    env: dict[str, str],
) -> None:
    small = {**env, KNOBS["host_memory_mb"]: "5120"}
    result = kfinstall("check", "-k", TAG, "--profile", "standard", "--json", env=small)
    memory = next(row for row in json.loads(result.stdout)["checks"] if row["name"] == "memory")
    assert memory["status"] == "fail"
    assert memory["hint"] == "use --memory 4096mb (this machine less 1024 MB for the system) with --profile minimal"


def test_a_fork_pinned_at_another_commit_gets_no_shipped_figures(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    result = kfinstall("plan", "--pins", str(synthetic_release.pins), "--profile", "minimal", env=env)
    assert result.returncode == 0, result.stderr
    assert "kfinstall ships no figures for its commit" in " ".join(result.stdout.split())


@needs_bundle
def test_the_shipped_figures_are_what_the_real_manifests_request(
    bundle_releases: dict[str, LocalRelease], tmp_path: Path
) -> None:
    """tools/measure_requests.py run again on the real manifests (the bundle's copies of the pinned tags) gives
    the shipped figures; only paths whose build downloads remote bases cannot be rebuilt offline."""
    bare = next(iter(bundle_releases.values())).repo_url.removeprefix("file://")
    out = tmp_path / "measured.yaml"
    env = {**os.environ, "PATH": f"{real_kubectl().parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(REPO_ROOT / "src"), "KFINSTALL_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    script = REPO_ROOT / "tools" / "measure_requests.py"
    done = subprocess.run([sys.executable, str(script), "--manifests", bare, "--at-tags", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stderr
    remeasured = {r["tag"]: r for r in yaml.safe_load(out.read_text())["releases"]}
    for pinned in PINS["releases"]:
        tag, shipped = pinned["tag"], shipped_release(pinned["tag"])
        assert shipped["commit"] == pinned["commit"], tag  # the figures hold for the pinned commit
        network = {p for c in pinned["components"] for p in c.get("needs_network", [])}
        again = remeasured[tag]
        assert set(again["paths"]) | set(again.get("not_measured", {})) == set(shipped["paths"]) | set(
            shipped.get("not_measured", {})
        ), tag
        assert set(again.get("not_measured", {})) <= network, (tag, again.get("not_measured"))
        for path, figure in again["paths"].items():
            assert shipped["paths"].get(path) == figure, (tag, path)
        assert again.get("istio_proxy") == shipped.get("istio_proxy"), tag
