"""`kfinstall check` knows which kustomize versions build which release wrong (pins: `kustomize.defects`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kfinstall.checks.gather import Facts
from kfinstall.checks.prerequisites import evaluate
from kfinstall.checks.request import CheckRequest
from kfinstall.release.pins import KustomizeDefect, Pins, load_pins
from kfinstall.runner import Result
from tests.fakes.fixtures import FakeTools

KUBECTL_1_37 = '{"clientVersion": {"major": "1", "minor": "37", "gitVersion": "v1.37.1"}, "kustomizeVersion": "v5.8.1"}'
KFINSTALL = str(Path(sys.executable).parent / "kfinstall")
REPAIRED = "kustomize 5.8.1 leaves $(profile-name) in user-namespace: kfinstall names the Profile itself"


def out(stdout: str) -> Result:
    return Result(("tool",), 0, stdout, "", 0.0)


@pytest.fixture(scope="module")
def pins() -> Pins:
    return load_pins()


def facts(kustomize: Result | None) -> Facts:
    return Facts(
        kustomize=kustomize,
        kubectl=out(KUBECTL_1_37),
        minikube=out('{"minikubeVersion": "v1.37.0"}'),
        docker=out('{"NCPU":8,"MemTotal":33554432000,"ServerVersion":"28.0.1"}'),
        git=out("git version 2.43.0\n"),
        host_cpus=8,
        host_memory_mb=32000,
    )


def rows(pins: Pins, tag: str, kustomize: Result | None, **release_changes: object) -> dict[str, object]:
    release = pins.get(tag)
    if release_changes:
        release = release.model_copy(update={"kustomize": release.kustomize.model_copy(update=release_changes)})
    return {r.name: r for r in evaluate(CheckRequest(release=release, pins=pins, profile="minimal"), facts(kustomize))}


@pytest.mark.parametrize("tag", ["v1.9.1", "v1.10.2", "v1.11.0"])
def test_kubectls_kustomize_5_8_1_breaks_user_namespace_and_kfinstall_repairs_it_so_the_row_is_ok(
    pins: Pins, tag: str
) -> None:
    row = rows(pins, tag, None)["kustomize defects"]

    assert (row.status, row.found) == ("ok", "5.8.1")
    assert row.message == REPAIRED


def test_kustomize_5_7_1_has_no_known_defect_for_v1_11_0(pins: Pins) -> None:
    row = rows(pins, "v1.11.0", out("v5.7.1\n"))["kustomize defects"]

    assert (row.status, row.message) == ("ok", "no known defect for v1.11.0")


def test_a_defect_kfinstall_does_not_repair_fails_the_check_with_its_source(pins: Pins) -> None:
    unrepaired = KustomizeDefect(min="5.8.0", component="user-namespace", breaks="leaves vars", source="issue #1")

    row = rows(pins, "v1.10.2", out("v5.8.1\n"), defects=[unrepaired])["kustomize defects"]

    assert row.status == "fail"
    assert row.message == "kustomize 5.8.1 leaves vars (issue #1)"
    assert row.hint is not None and "user-namespace needs a kustomize outside ≥ 5.8.0" in row.hint


def test_a_defect_fixed_in_a_later_kustomize_spares_that_version(pins: Pins) -> None:
    fixed = KustomizeDefect(min="5.8.0", below="5.8.1", component="user-namespace", breaks="x", source="y")

    row = rows(pins, "v1.10.2", out("v5.8.1\n"), defects=[fixed])["kustomize defects"]

    assert row.status == "ok"


def test_v1_4_0_still_needs_exactly_kustomize_3_2_0_and_has_no_defect_row(pins: Pins) -> None:
    checks = rows(pins, "v1.4.0", None)

    assert (checks["kustomize"].status, checks["kustomize"].required) == ("fail", "exactly 3.2.0")
    assert "kustomize defects" not in checks


def test_kfinstall_check_shows_the_row_with_kubectls_kustomize(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.37.0", kustomize="absent", docker="running")

    result = subprocess.run(
        [KFINSTALL, "check", "-k", "v1.10.2", "--json"],
        env={**fake_tools.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    row = {c["name"]: c for c in json.loads(result.stdout)["checks"]}["kustomize defects"]
    assert (row["status"], row["found"]) == ("ok", "5.8.1")
    assert row["message"] == REPAIRED


def test_the_pins_name_a_source_for_every_defect(pins: Pins) -> None:
    defects = [d for release in pins.releases for d in release.kustomize.defects]
    assert defects and all("#" in d.source for d in defects)
