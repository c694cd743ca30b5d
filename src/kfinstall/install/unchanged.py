"""Skip-unchanged: the components applied before with the same content that are ready now need nothing.

A re-run of `up` on an installed cluster is mostly this check, so it costs one cluster-wide list of the labelled
workloads (and one of endpoints when webhooks are involved), not a few calls per component; only the README's wait
lines still ask the cluster themselves, side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from kfinstall.install.waits import KIND_RESOURCES, Snapshot, Waits, webhook_services
from kfinstall.install.work import ComponentWork, Obj, Work
from kfinstall.kube.readiness import WAITED_KINDS
from kfinstall.manifests.objects import COMPONENT_LABEL


def unchanged_and_ready(
    works: Sequence[Work], is_unchanged: Callable[[Work], bool], waits: Waits, pool: ThreadPoolExecutor
) -> list[ComponentWork]:
    """The components of `works` that `is_unchanged` and that are ready now, in the order of `works`."""
    candidates = [work.resolve() for work in works if is_unchanged(work)]
    if not candidates:
        return []
    snapshot = _snapshot(candidates, waits, pool)
    if snapshot is None:
        return []  # the API server did not answer: install them as usual (re-applying changes nothing)
    verdicts = list(pool.map(lambda work: not waits.not_ready(work, snapshot), candidates))
    return [work for work, ready in zip(candidates, verdicts, strict=True) if ready]


def _snapshot(works: Sequence[ComponentWork], waits: Waits, pool: ThreadPoolExecutor) -> Snapshot | None:
    """Labelled CRDs, labelled workloads and (for webhooks) all endpoints: up to three calls, side by side."""
    kinds = {obj["kind"] for work in works for obj in work.objects if obj.get("kind") in WAITED_KINDS}
    calls: list[Future[list[Obj] | None]] = []
    if "CustomResourceDefinition" in kinds:
        calls.append(pool.submit(waits.crd_conditions))
    resources = ",".join(sorted(KIND_RESOURCES[kind] for kind in kinds if kind != "CustomResourceDefinition"))
    if resources:
        calls.append(pool.submit(waits.poll, resources, "-A", "-l", COMPONENT_LABEL))
    endpoints_call = pool.submit(waits.poll, "endpoints", "-A") if any(map(webhook_services, works)) else None
    workloads: dict[str, list[Obj]] = {}
    for call in calls:
        items = call.result()
        if items is None:
            return None
        for item in items:
            owner = ((item.get("metadata") or {}).get("labels") or {}).get(COMPONENT_LABEL, "")
            workloads.setdefault(owner, []).append(item)
    endpoints: dict[tuple[str, str], Obj] = {}
    if endpoints_call is not None:
        items = endpoints_call.result()
        if items is None:
            return None
        endpoints = {(item["metadata"].get("namespace", ""), item["metadata"]["name"]): item for item in items}
    return Snapshot(workloads, endpoints)
