"""The upgrade notes in the pins (`upgrade_from`): upstream's version-specific steps as data, each with its source."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfinstall.errors import UsageError
from kfinstall.release.pins import Pins, load_pins, shipped_pins_path
from tests.paths import MANIFESTS_BUNDLE, needs_bundle


@pytest.fixture(scope="module")
def pins() -> Pins:
    return load_pins()


def test_the_releases_upstream_wrote_upgrade_notes_for_carry_them_with_their_source(pins: Pins) -> None:
    notes = {release.tag: [u.from_ for u in release.upgrade_from] for release in pins.releases}
    assert notes["v1.10.2"] == ["v1.9.1"]
    assert notes["v1.11.0"] == ["v1.10.2"]
    assert notes["26.03"] == ["v1.11.0"]
    for release in pins.releases:
        for upgrade in release.upgrade_from:
            assert "Upgrading" in upgrade.source  # the community-distribution README's section
            assert all(delete.why for delete in upgrade.deletes)


def test_v1_11_0_deletes_minio_and_keeps_its_volume_for_the_user_to_migrate(pins: Pins) -> None:
    upgrade = pins.get("v1.11.0").upgrade_notes("1.10.2")
    assert upgrade is not None
    assert [str(d) for d in upgrade.deletes] == ["deployment.apps/minio -n kubeflow"]
    assert any("minio-pvc" in note and "seaweedfs" in note for note in upgrade.notes)


def test_v1_10_2_deletes_the_metacontroller_binding_upstream_names(pins: Pins) -> None:
    upgrade = pins.get("v1.10.2").upgrade_notes("v1.9.1")
    assert upgrade is not None
    assert [d.resource for d in upgrade.deletes] == [
        "clusterrolebinding.rbac.authorization.k8s.io/meta-controller-cluster-role-binding"
    ]


def test_a_release_without_notes_for_the_installed_one_has_none(pins: Pins) -> None:
    assert pins.get("26.03").upgrade_notes("v1.10.2") is None


@needs_bundle
def test_every_object_the_notes_delete_is_in_the_older_release_at_its_tag(pins: Pins, tmp_path: Path) -> None:
    repo = tmp_path / "kfm.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(MANIFESTS_BUNDLE), str(repo)], check=True)
    for release in pins.releases:
        for upgrade in release.upgrade_from:
            for delete in upgrade.deletes:
                found = subprocess.run(
                    ["git", "-C", str(repo), "grep", "-l", "-e", f"name: {delete.name}$", upgrade.from_, "--",
                     "*.yaml"], capture_output=True, text=True,
                ).stdout.splitlines()  # fmt: skip
                kinds = [
                    subprocess.run(["git", "-C", str(repo), "show", hit], capture_output=True, text=True).stdout
                    for hit in found
                ]
                assert any(f"kind: {delete.kind}" in text for text in kinds), f"{upgrade.from_}: no {delete}"


def pins_with(tmp_path: Path, tag: str, upgrade: dict[str, Any]) -> Path:
    data = yaml.safe_load(shipped_pins_path().read_text())
    release = next(r for r in data["releases"] if r["tag"] == tag)
    release["upgrade_from"] = [upgrade]
    path = tmp_path / "pins.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_notes_from_an_unpinned_release_are_refused_naming_it(tmp_path: Path) -> None:
    path = pins_with(tmp_path, "v1.11.0", {"from": "v1.10.9", "source": "somewhere"})
    with pytest.raises(UsageError) as caught:
        load_pins(path)
    assert "upgrade_from v1.10.9 is not a pinned release" in caught.value.message


def test_notes_from_a_newer_release_are_refused(tmp_path: Path) -> None:
    path = pins_with(tmp_path, "v1.10.2", {"from": "v1.11.0", "source": "somewhere"})
    with pytest.raises(UsageError) as caught:
        load_pins(path)
    assert "upgrade_from v1.11.0 is not an older release" in caught.value.message


def test_notes_without_a_source_are_refused(tmp_path: Path) -> None:
    path = pins_with(tmp_path, "v1.11.0", {"from": "v1.10.2", "notes": ["x"]})
    with pytest.raises(UsageError) as caught:
        load_pins(path)
    assert "source" in caught.value.message
