"""Progress events: what `up` tells its display (live table or JSON lines) as it goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Event:
    """One step of progress. `component` is None for whole-run steps (checks, cluster, manifests)."""

    phase: str  # step | building | applying | retrying | waiting | ready | skipped | failed | note | warning | done
    # (`up --json` ends a failure with an "error" line of the frame's own: commands/frame.py `json_error`)
    message: str
    component: str | None = None
    ready: int | None = None
    total: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


Reporter = Callable[[Event], None]


def discard(_: Event) -> None:
    """A reporter that shows nothing (for library use and tests that only look at the result)."""
