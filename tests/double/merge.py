"""Patch and server-side apply semantics, simplified but with the properties kubectl and kfinstall rely on.

Server-side apply: each field manager's last applied configuration is remembered; a new apply by the same manager
removes the fields it applied before and no longer applies (unless another manager applied them too) and merges the
new configuration in. Maps merge recursively; lists are replaced as a whole (the real apiserver merges associative
lists by key; for one manager re-applying its own objects the result is the same). Re-applying the same
configuration is therefore a no-op, and a changed one updates exactly what changed.
"""

from __future__ import annotations

import copy
import json
import marshal
from typing import Any

Obj = dict[str, Any]


def clone(value: Any) -> Any:
    """A deep copy of JSON-shaped data; marshal is several times faster than copy.deepcopy on big CRDs."""
    try:
        return marshal.loads(marshal.dumps(value, 2))  # version 2: no shared references
    except ValueError:  # not JSON-shaped (e.g. a YAML timestamp): the slow way
        return copy.deepcopy(value)


def deep_merge(base: Obj, patch: Obj) -> Obj:
    """Merge `patch` into a copy of `base`: maps recursively, everything else replaced."""
    out = dict(base)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = clone(v)
    return out


def _remove_stale(obj: Obj, old: Obj, new: Obj, others: list[Obj]) -> Obj:
    """Drop from `obj` the fields present in `old` but absent from `new` and from every other manager's config."""
    out = dict(obj)
    for k, old_v in old.items():
        if k not in out:
            continue
        new_v = new.get(k) if isinstance(new, dict) else None
        other_vs = [o[k] for o in others if isinstance(o, dict) and k in o]
        if new_v is None and not other_vs:
            del out[k]
        elif isinstance(old_v, dict) and isinstance(out[k], dict):
            out[k] = _remove_stale(
                out[k], old_v, new_v if isinstance(new_v, dict) else {}, [o for o in other_vs if isinstance(o, dict)]
            )
    return out


def server_side_apply(current: Obj | None, applied: Obj, previous: Obj | None, others: list[Obj]) -> Obj:
    """The object after `applied` is applied over `current` by a manager whose last applied config was `previous`."""
    base = clone(current) if current is not None else {}
    if previous:
        base = _remove_stale(base, previous, applied, others)
    return deep_merge(base, applied)


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch (also used for strategic merge patch: `$patch` directives are dropped)."""
    if not isinstance(patch, dict):
        return clone(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        else:
            out[k] = json_merge_patch(out.get(k), v)
    return out


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def json_patch(target: Obj, ops: list[Obj]) -> Obj:
    """RFC 6902 JSON patch: add, replace, remove, test (enough for `kubectl patch --type=json`)."""
    doc: Any = clone(target)
    for op in ops:
        parts = _pointer(op["path"])
        parent: Any = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        kind = op["op"]
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif kind == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            else:
                del parent[last]
        elif kind == "test":
            actual = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if actual != op.get("value"):
                raise ValueError(f"testing value {op['path']} failed")
    return doc


def fields_v1(config: Any) -> Any:
    """A plausible managedFields fieldsV1 set for an applied configuration."""
    if isinstance(config, dict):
        out: Obj = {}
        for k, v in config.items():
            if k in ("apiVersion", "kind"):
                continue
            if isinstance(v, dict):
                out[f"f:{k}"] = fields_v1(v)
            elif isinstance(v, list):
                entry: Obj = {}
                for item in v:
                    if isinstance(item, dict) and "name" in item:
                        key = "k:" + json.dumps({"name": item["name"]}, separators=(",", ":"))
                        entry[key] = {".": {}, **fields_v1(item)}
                    elif not isinstance(item, (dict, list)):
                        entry["v:" + json.dumps(item, separators=(",", ":"))] = {}
                out[f"f:{k}"] = entry
            else:
                out[f"f:{k}"] = {}
        return out
    return {}


def _leaves(config: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(config, dict) and config:
        out = []
        for k, v in config.items():
            out.extend(_leaves(v, (*prefix, k)))
        return out
    return [(prefix, config)]


def _value_at(obj: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return False, None
        obj = obj[key]
    return True, obj


def _owns(fields: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(fields, dict) or f"f:{key}" not in fields:
            return False
        fields = fields[f"f:{key}"]
    return True


def apply_conflicts(applied: Obj, current: Obj, managed: list[Obj], manager: str) -> list[tuple[Obj, tuple[str, ...]]]:
    """(other manager's entry, path) for each applied field whose value differs from one another manager owns."""
    out = []
    for path, value in _leaves({k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}):
        if path in (("metadata", "name"), ("metadata", "namespace")):
            continue
        present, old = _value_at(current, path)
        if not present or old == value:
            continue
        for entry in managed:
            if entry.get("manager") != manager and _owns(entry.get("fieldsV1"), path):
                out.append((entry, path))
    return out


def conflict_message(conflicts: list[tuple[Obj, tuple[str, ...]]]) -> str:
    """The apiserver's text: one conflict on one line, several as a list per manager."""

    def who(entry: Obj) -> str:
        return f'"{entry.get("manager")}" using {entry.get("apiVersion", "v1")}'

    def dotted(path: tuple[str, ...]) -> str:
        return "." + ".".join(path)

    if len(conflicts) == 1:
        entry, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {who(entry)}: {dotted(path)}"
    lines = [f"Apply failed with {len(conflicts)} conflicts:"]
    by_manager: dict[str, list[str]] = {}
    for entry, path in conflicts:
        by_manager.setdefault(who(entry), []).append(dotted(path))
    for name, paths in by_manager.items():
        lines.append(f" conflicts with {name}:" if len(by_manager) > 1 else f"conflicts with {name}:")
        lines.extend(f"- {p}" for p in paths)
    return lines[0] + " " + "\n".join(lines[1:])


def release(managed: list[Obj], conflicts: list[tuple[Obj, tuple[str, ...]]]) -> list[Obj]:
    """Managed fields after a forced apply: the conflicting fields are taken away from their old managers."""
    out = clone(managed)
    for entry, path in conflicts:
        target = next(
            e for e in out if e.get("manager") == entry.get("manager") and e.get("operation") == entry.get("operation")
        )
        fields = target.get("fieldsV1") or {}
        for key in path[:-1]:
            fields = fields.get(f"f:{key}", {})
        fields.pop(f"f:{path[-1]}", None)
    return out
