"""`--memory` and `--cpus` values, read the way minikube reads them.

kfinstall passes these on to minikube, so it must accept exactly what minikube accepts (`8192`, `8192mb`, `7g`,
`7GB`, `7.5GiB`: binary units, a bare number is MB) and say "no" to the rest before anything starts, with a hint
showing the accepted forms rather than minikube's `FromHumanSize` error half-way through a run.
"""

from __future__ import annotations

import re

from kfinstall.errors import UsageError

#: go-units' RAMInBytes pattern, which minikube's CalculateSizeInMB uses (every unit is binary: 1g = 1024mb).
_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_POWER = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
MEMORY_HINT = "give a size like 8192 (MB), 8192mb, 8g or 8GB"


def parse_memory_mb(text: str | int) -> int:
    """Megabytes in `text` like minikube's CalculateSizeInMB; nonsense, zero and negatives are a UsageError."""
    value = str(text).strip()
    if re.fullmatch(r"[+-]?\d+", value):
        value += "mb"
    match = _SIZE.match(value)
    if not match:
        raise UsageError(f"--memory {text!r} is not a size", MEMORY_HINT)
    try:
        number = float(match[1])
    except ValueError:  # go-units accepts "1.2.3"; float() does not, and neither should we
        raise UsageError(f"--memory {text!r} is not a size", MEMORY_HINT) from None
    megabytes = int(number * 1024 ** _POWER[(match[2] or "").lower()]) // (1024 * 1024)
    if megabytes <= 0:
        raise UsageError(f"--memory {text!r} is less than 1 MB", MEMORY_HINT)
    return megabytes


def parse_cpus(text: str | int) -> int:
    """A positive whole number of CPUs."""
    value = str(text).strip()
    if not re.fullmatch(r"\d+", value) or int(value) <= 0:
        raise UsageError(f"--cpus {text!r} is not a positive whole number", "give a number of CPUs like 4")
    return int(value)


def format_mb(megabytes: int) -> str:
    """8192 -> "8 GB", 12800 -> "12.5 GB", 900 -> "900 MB" (binary GB, like minikube)."""
    if megabytes < 1024:
        return f"{megabytes} MB"
    gigabytes = megabytes / 1024
    return f"{gigabytes:.0f} GB" if gigabytes == int(gigabytes) else f"{gigabytes:.1f} GB"
