"""Numbers in words: `1 object`, `2 objects`, `1 of 13 components is not ready`, `3/3 workloads`, `1m12s`.

Every count a user reads goes through here, so `up` and `status` say what they count the same way.
"""

from __future__ import annotations

#: Plurals that are not the word plus `s`.
_IRREGULAR = {"is": "are", "was": "were", "has": "have"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """`word` as it goes with `count` (`1 object`, `0 objects`): `many` when the plural is not `word` + s."""
    if count == 1:
        return word
    return many or _IRREGULAR.get(word) or (word + "es" if word.endswith(("s", "sh", "ch", "x")) else word + "s")


def count(number: int, word: str, many: str | None = None) -> str:
    """`number word`, the word agreeing: `1 object`, `231 objects`, `2 warnings`."""
    return f"{number} {plural(number, word, many)}"


def first_few(names: list[str], shown: int = 3) -> str:
    """The first few of a list, then how many more: a line stays readable with 6 or 60 names."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def workloads(ready: int, total: int) -> str:
    """Ready of a component's workloads (Deployments, StatefulSets, DaemonSets), as `up` and `status` show them:
    `3/3 workloads`, `0/1 workload`; no workloads: `-`."""
    return f"{ready}/{total} {plural(total, 'workload')}" if total else "-"


def duration(seconds: float) -> str:
    """`6s`, `1m12s`, `1h03m`: the elapsed times of up's display."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def size(number: int) -> str:
    """Bytes for people: `512 B`, `3.4 MB`, `5.1 GB` (decimal units, as registries and docker print them)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if number >= scale:
            return f"{number / scale:.1f} {unit}"
    return f"{number} B"
