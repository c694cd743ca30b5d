"""An install record (ConfigMap kube-system/kfinstall-install) kfinstall cannot read must not block the way out.

The record is written by kubectl into the double, as a user editing it by hand or another tool would: valid JSON
of the wrong shape, or a record from a newer kfinstall. `status` says so and shows what the labels tell, `up`
re-applies everything and writes a good record, `down --keep-cluster` still deletes by label.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=11"
LABEL = "kfinstall.dev/component"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One manifests and build cache for the module: each test's `up` then skips the clone and the builds."""
    return tmp_path_factory.mktemp("kfinstall-cache")


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, shared_cache: Path) -> dict[str, str]:
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    return {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_CACHE_DIR": str(shared_cache)}


def up(env: dict[str, str], release: LocalRelease) -> str:
    result = kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal",
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture
def installed(env: dict[str, str], synthetic_release: LocalRelease) -> dict[str, str]:
    up(env, synthetic_release)
    return env


def record_text(fake_tools: FakeTools) -> str | None:
    result = fake_tools.run("kubectl", "--context", "kubeflow", "get", "configmap", "kfinstall-install", "-n",
                            "kube-system", "-o", "json", "--ignore-not-found")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["data"]["install.json"] if result.stdout.strip() else None


def write_record(fake_tools: FakeTools, install_json: object) -> None:
    """Overwrite the record's install.json with kubectl, as a hand edit would."""
    patch = json.dumps({"data": {"install.json": json.dumps(install_json)}})
    result = fake_tools.run("kubectl", "--context", "kubeflow", "patch", "configmap", "kfinstall-install", "-n",
                            "kube-system", "--type", "merge", "-p", patch)  # fmt: skip
    assert result.returncode == 0, result.stderr


def wrong_shape(fake_tools: FakeTools) -> None:
    """Valid JSON, but `components` a list of names instead of an object (today: AttributeError in `status`)."""
    record = json.loads(record_text(fake_tools) or "{}")
    record["components"] = sorted(record["components"])
    write_record(fake_tools, record)


def test_status_says_a_record_of_the_wrong_shape_is_unreadable_and_shows_the_labelled_components(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    wrong_shape(fake_tools)
    result = kfinstall("status", env=installed)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the install record (ConfigMap kube-system/kfinstall-install) is unreadable: components:" in result.stdout
    assert "hint: `kfinstall up` re-applies every component and writes a new record" in result.stdout
    katib = next(line for line in result.stdout.splitlines() if " katib " in line)
    assert "ready" in katib


def test_status_json_carries_the_record_problem_instead_of_a_traceback(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    write_record(fake_tools, ["not", "a", "record"])
    result = kfinstall("status", "--json", env=installed)
    document = json.loads(result.stdout)
    assert document["install"] is None and result.returncode == 1
    assert document["record_problem"] == "it is a JSON list, not an object"
    assert any(component["id"] == "katib" for component in document["components"])


def test_status_names_a_record_written_by_a_newer_kfinstall(fake_tools: FakeTools, installed: dict[str, str]) -> None:
    record = json.loads(record_text(fake_tools) or "{}")
    write_record(fake_tools, {**record, "schema_version": 2, "components": {"katib": {"digest": "sha256:…"}}})
    result = kfinstall("status", env=installed)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "it has schema version 2, written by a newer kfinstall (this one reads 1)" in result.stdout


def test_up_over_a_record_of_the_wrong_shape_warns_reapplies_everything_and_writes_a_good_record(
    fake_tools: FakeTools, installed: dict[str, str], synthetic_release: LocalRelease
) -> None:
    wrong_shape(fake_tools)
    output = up(installed, synthetic_release)
    assert "the install record is unreadable (components: " in output
    assert " 0 unchanged" in output  # nothing is skipped on the word of a record that cannot be read
    record = json.loads(record_text(fake_tools) or "{}")
    assert record["schema_version"] == 1 and isinstance(record["components"], dict) and "katib" in record["components"]
    assert kfinstall("status", env=installed).returncode == 0


def test_down_keep_cluster_over_a_record_of_the_wrong_shape_still_removes_by_label(
    fake_tools: FakeTools, installed: dict[str, str]
) -> None:
    wrong_shape(fake_tools)
    result = kfinstall("down", "--keep-cluster", "--yes", env=installed)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = result.stdout + result.stderr
    assert "the install record is unreadable" in shown and "and the install record" in shown
    left = fake_tools.run("kubectl", "--context", "kubeflow", "get", "deployments", "-A", "-l", LABEL, "-o", "name")
    assert left.returncode == 0 and left.stdout.strip() == "", left.stdout + left.stderr
    assert record_text(fake_tools) is None


def test_a_record_written_before_schema_version_existed_reads_as_version_1() -> None:
    """Records on clusters installed by an earlier kfinstall have no `schema_version`: they are version 1's shape."""
    from kfinstall.kube.record import InstallRecord

    katib = {"hash": "h", "applied_at": "T0", "ready_at": "T1"}
    old = {"release": "v0.1.0", "commit": None, "profile": "minimal", "kfinstall_version": "0.1.0", "started_at": "T0",
           "components": {"katib": katib}, "order": ["katib"]}  # fmt: skip
    record = InstallRecord.from_json(json.dumps(old))
    assert record.schema_version == 1 and record.components["katib"].ready_at == "T1"
    assert json.loads(record.to_json())["schema_version"] == 1
