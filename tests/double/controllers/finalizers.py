"""Finalizers: an object deleted while it has finalizers is released `finalizer_delay` later, standing in for the
controllers that would remove them (namespaces are the namespace controller's, tests/double/controllers/namespaces.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.controllers.common import (
    NS,
)

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    delay = ctrl.c.scenario.finalizer_delay
    for gk, obj in list(ctrl.c.iter_all()):
        meta = obj["metadata"]
        if gk == NS or "deletionTimestamp" not in meta:
            continue
        deleted_at = ctrl.sim(obj).get("deleted_at", now)
        if now - deleted_at >= delay:
            ctrl.c.remove(gk, obj)
        else:
            ctrl.due(deleted_at + delay)
