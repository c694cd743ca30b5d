"""`kfinstall versions`: the pinned Kubeflow releases, read from the pins file; nothing runs, no log."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall.commands.frame import Command

if TYPE_CHECKING:
    from kfinstall.release.pins import Pins
    from kfinstall.ui.messages import Voice


@dataclass(frozen=True)
class VersionsRequest:
    pins: Path | None


@dataclass(frozen=True)
class Versions:
    pins: Pins


def prepare(*, pins: Path | None) -> VersionsRequest:
    return VersionsRequest(pins)


def versions(request: VersionsRequest, say: Voice) -> Versions:
    """The pins (a broken or unknown pins file is a UsageError: exit 2)."""
    from kfinstall.release.pins import load_pins

    return Versions(load_pins(request.pins))


def show(result: Versions) -> None:
    from kfinstall.ui import output, tables

    tables.print_versions(result.pins, output.stdout())


def as_json(result: Versions) -> dict[str, Any]:
    from kfinstall.ui import tables

    return tables.versions_dict(result.pins)


#: No log: `versions` runs no program and reads no cluster, only the pins file, and its one failure (a broken pins
#: file) is shown whole; a log would only push the last `up`'s out of `latest.log`.
COMMAND = Command(log=None, prepare=prepare, run=versions, show=show, json=as_json)
