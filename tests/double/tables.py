"""Server-side printing (meta.k8s.io/v1 Table) for `kubectl get` without `-o`: a few kinds' columns, else Name/Age."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.double.catalog import ResourceType


def _age(obj: dict[str, Any]) -> str:
    created = obj.get("metadata", {}).get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    seconds = int((dt.datetime.now(dt.timezone.utc) - then).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _col(name: str, typ: str = "string", fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": typ, "format": fmt, "description": "", "priority": 0}


def _row(obj: dict[str, Any], rt: ResourceType) -> list[Any]:
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    name = obj["metadata"]["name"]
    if rt.kind == "Pod":
        statuses = status.get("containerStatuses") or []
        ready = sum(1 for c in statuses if c.get("ready"))
        total = len(spec.get("containers") or [])
        reason = status.get("phase", "Pending")
        for c in statuses:
            waiting = (c.get("state") or {}).get("waiting")
            if waiting:
                reason = waiting.get("reason", reason)
        restarts = sum(c.get("restartCount", 0) for c in statuses)
        return [name, f"{ready}/{total}", reason, restarts, _age(obj)]
    if rt.kind in ("Deployment", "StatefulSet"):
        ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
        if rt.kind == "StatefulSet":
            return [name, ready, _age(obj)]
        return [name, ready, status.get("updatedReplicas", 0), status.get("availableReplicas", 0), _age(obj)]
    if rt.kind == "Namespace":
        return [name, status.get("phase", "Active"), _age(obj)]
    return [name, _age(obj)]


def _columns(rt: ResourceType) -> list[dict[str, Any]]:
    name = _col("Name", fmt="name")
    age = _col("Age")
    if rt.kind == "Pod":
        return [name, _col("Ready"), _col("Status"), _col("Restarts", "integer"), age]
    if rt.kind == "Deployment":
        return [name, _col("Ready"), _col("Up-to-date", "integer"), _col("Available", "integer"), age]
    if rt.kind == "StatefulSet":
        return [name, _col("Ready"), age]
    if rt.kind == "Namespace":
        return [name, _col("Status"), age]
    return [name, age]


def to_table(obj: dict[str, Any], rt: ResourceType) -> dict[str, Any]:
    items = obj.get("items", [obj])
    rows = []
    for item in items:
        meta = item.get("metadata", {})
        partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append({"cells": _row(item, rt), "object": partial})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", "")},
        "columnDefinitions": _columns(rt),
        "rows": rows,
    }
