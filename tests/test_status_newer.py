"""`status` says when the installed release is older than the newest pinned one, and how to upgrade."""

from __future__ import annotations

from kfinstall.commands.status import StatusReport, newer_release
from kfinstall.kube.record import InstallRecord
from kfinstall.release.pins import load_pins
from kfinstall.ui.status_screen import install_lines


def test_an_older_shipped_release_is_told_of_the_newest_and_of_the_commands_that_upgrade() -> None:
    newest = load_pins().newest.tag
    assert newer_release("v1.10.2") == newest
    record = InstallRecord("v1.10.2", None, "minimal", "0.1.0", "2026-12-01T00:00:00Z", "2026-12-01T00:10:00Z")
    lines = install_lines(StatusReport("running", "kubeflow", record=record, newer=newer_release("v1.10.2")))
    assert f"`kfinstall plan -k {newest}` shows the upgrade, `kfinstall up -k {newest}` upgrades in place" in lines[1]


def test_the_newest_release_and_a_release_of_another_pins_file_get_no_such_line() -> None:
    assert newer_release(load_pins().newest.tag) is None
    assert newer_release("v0.1.0") is None  # the synthetic release: not a shipped one
