"""`up` restarts a pod crash-looping for what just became ready, instead of letting it sit out the kubelet's back-off.

The synthetic Pipelines has ml-pipeline and its MySQL in one component. With the double's `needs`, ml-pipeline's
pod crashes while MySQL is not ready, the kubelet restarts it at once, it crashes again and is held back for
`crash_backoff` (tests/double/controllers/crashloop.py). The pins' `runtime_needs` name that need; the back-off is
long next to MySQL's start, so which of the two ends the wait shows on the double's readiness timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

BACK_OFF = 30
#: ml-pipeline starts (and crashes twice) 0.2 s after it is created, MySQL is ready 5 s after: so the kubelet holds
#: ml-pipeline back for BACK_OFF seconds from about 0.2 s on, and its next start is some 25 s after MySQL's.
DOUBLE = (
    "--set crd_establish_delay=0.2 --set ready_delay=0.2 --set seed=7"
    f" --set crash_backoff={BACK_OFF}"
    ' --set \'needs={"kubeflow/ml-pipeline":["kubeflow/mysql"]}\''
    " --set 'ready_delays={\"kubeflow/mysql\":5}'"
)


def pins_with_needs(release: LocalRelease, tmp_path: Path) -> Path:
    """The synthetic pins, with ml-pipeline needing MySQL as the shipped pins say of the real Pipelines."""
    data = yaml.safe_load(release.pins.read_text())
    component = next(c for c in data["releases"][0]["components"] if c["id"] == "pipelines")
    component["runtime_needs"] = [
        {"workloads": ["ml-pipeline"], "needs": "mysql", "source": "synthetic: as the shipped pins' Pipelines"}
    ]
    pins = tmp_path / "pins.yaml"
    pins.write_text(yaml.safe_dump(data, sort_keys=False))
    return pins


def install(fake_tools: FakeTools, release: LocalRelease, pins: Path, root: Path) -> Installed:
    """`up --profile standard` on the double."""
    fake_tools.set(double_args=DOUBLE, minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, root)
    result = kfinstall("up", "--pins", str(pins), "-k", release.tag, "--yes", "--profile", "standard", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (fake_tools.double_dir("kubeflow") / "ready.jsonl").read_text().splitlines()
    return Installed(result.stderr, [json.loads(line) for line in lines], (root / "logs" / "latest.log").read_text())


@dataclass(frozen=True)
class Installed:
    stderr: str
    #: The double's readiness timeline.
    timeline: list[dict]
    log: str


@pytest.fixture(scope="module")
def with_needs(module_fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("with-needs")
    return install(module_fake_tools, synthetic_release, pins_with_needs(synthetic_release, root), root)


def first_ready(timeline: list[dict], name: str) -> float:
    return next(entry["time"] for entry in timeline if entry["name"] == name and entry["ready"])


def test_a_pod_crash_looping_for_mysql_is_restarted_once_mysql_is_ready(with_needs: Installed) -> None:
    assert "restarted ml-pipeline-" in with_needs.stderr
    assert ": mysql is ready, skipping " in with_needs.stderr and " of back-off" in with_needs.stderr
    # ready well before the kubelet would have started it again (some 25 s after MySQL)
    assert first_ready(with_needs.timeline, "ml-pipeline") - first_ready(with_needs.timeline, "mysql") < BACK_OFF / 2


def test_the_log_shows_the_restart_and_the_kubectl_delete_that_did_it(with_needs: Installed) -> None:
    assert "delete pod -n kubeflow ml-pipeline-" in with_needs.log
    assert "restarted ml-pipeline-" in with_needs.log and ": mysql is ready, skipping " in with_needs.log


def test_a_pod_crash_looping_for_a_need_the_pins_do_not_name_sits_out_its_back_off(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    installed = install(fake_tools, synthetic_release, synthetic_release.pins, tmp_path)

    assert "restarted ml-pipeline-" not in installed.stderr and "is ready, skipping" not in installed.stderr
    # the kubelet's own next start: BACK_OFF after the second crash, about 25 s after MySQL was ready
    assert first_ready(installed.timeline, "ml-pipeline") - first_ready(installed.timeline, "mysql") >= BACK_OFF - 10
