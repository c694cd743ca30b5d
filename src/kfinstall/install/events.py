"""Progress events: what `up` tells its display (live table, plain lines or JSON lines) as it goes.

Whole-run steps (`component` None): `step` (done, a ✓ line), `note` (a ! line), `failed`; a long one is announced
by `begin` with a `task` name (`manifests`, `builds`, `lock`, `minikube`, `images`) and ends with the `step` (or
`failed`) event of the same `task`; `progress` updates a running task (`ready`/`total`: e.g. images pulled so far).
Component rows: `pending` (with `depends_on`: what it waits for), `building`, `applying`, `retrying`, `waiting`
(`ready`/`total`: its workloads), `problem` (a pod's problem as the cluster says it, with a `hint`; an empty message:
it passed), `restarted` (a pod of it restarted out of its crash-loop back-off: install/restarts.py; the row's
state stays), `ready`, `skipped`, `failed` (the reason). `--json` prints each event as one JSON object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

#: Phases after which a component's row does not change any more.
FINISHED = ("ready", "skipped", "failed")


@dataclass(frozen=True)
class Event:
    """One step of progress. `component` is None for whole-run steps (checks, cluster, manifests)."""

    phase: str  # step | begin | progress | note | warning | pending | building | applying | retrying | waiting
    # | problem | restarted | ready | skipped | failed | done (`up --json` ends a failure with an "error" line of
    # the frame's own: commands/frame.py `json_error`)
    message: str
    component: str | None = None
    ready: int | None = None
    total: int | None = None
    #: The long whole-run step a `begin`/`progress`/`step` event belongs to (None: a one-off line).
    task: str | None = None
    #: What to do about a `problem`.
    hint: str | None = None
    #: A `pending` component's dependencies (the display names those not ready yet).
    depends_on: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


Reporter = Callable[[Event], None]


def discard(_: Event) -> None:
    """A reporter that shows nothing (for library use and tests that only look at the result)."""
