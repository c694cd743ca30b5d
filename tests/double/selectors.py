"""Label and field selectors as the apiserver parses them (`app in (a,b)`, `!x`, `k!=v`, `metadata.name=x`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]


class SelectorError(ValueError):
    """An unparsable selector: the apiserver answers 400 BadRequest."""


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


_SET = re.compile(r"^([\w./-]+)\s+(in|notin)\s*\((.*)\)$")
_EQ = re.compile(r"^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$")
_EXISTS = re.compile(r"^(!?)\s*([\w./-]+)$")


def label_selector(text: str | None) -> Callable[[dict[str, str]], bool]:
    """A predicate over a labels map."""
    if not text:
        return lambda labels: True
    tests: list[Callable[[dict[str, str]], bool]] = []
    for req in _split_top_level(text):
        if m := _SET.match(req):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                tests.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
            else:
                tests.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif m := _EQ.match(req):
            key, op, value = m.groups()
            if op == "!=":
                tests.append(lambda lb, k=key, v=value: lb.get(k) != v)
            else:
                tests.append(lambda lb, k=key, v=value: lb.get(k) == v)
        elif m := _EXISTS.match(req):
            neg, key = m.groups()
            if neg:
                tests.append(lambda lb, k=key: k not in lb)
            else:
                tests.append(lambda lb, k=key: k in lb)
        else:
            raise SelectorError(f"unable to parse requirement: {req!r}")
    return lambda labels: all(t(labels) for t in tests)


def match_label_selector_object(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); an empty selector matches everything."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _get_path(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


#: Field labels the apiserver accepts per kind beyond metadata.name / metadata.namespace.
FIELD_LABELS: dict[str, set[str]] = {
    "Pod": {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
        "spec.hostNetwork",
    },
    "Event": {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    "Namespace": {"status.phase"},
    "Node": {"spec.unschedulable"},
    "Secret": {"type"},
    "ReplicaSet": {"status.replicas"},
    "Job": {"status.successful"},
}


def field_selector(text: str | None, kind: str) -> Predicate:
    """A predicate over a whole object; unsupported field labels raise like the apiserver does."""
    if not text:
        return lambda obj: True
    allowed = {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(kind, set())
    tests: list[Predicate] = []
    for req in _split_top_level(text):
        m = re.match(r"^([\w.]+)\s*(==|=|!=)\s*(.*)$", req)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{req}'")
        path, op, value = m.groups()
        if path not in allowed:
            raise SelectorError(f"field label not supported: {path}")
        if op == "!=":
            tests.append(lambda o, p=path, v=value: _get_path(o, p) != v)
        else:
            tests.append(lambda o, p=path, v=value: _get_path(o, p) == v)
    return lambda obj: all(t(obj) for t in tests)
