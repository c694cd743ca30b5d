"""`--memory`, `--cpus`, `--disk-size` and `--driver` values, read the way minikube reads them; `--timeout`s.

kfinstall passes these on to minikube, so it must accept exactly what minikube accepts (`8192`, `8192mb`, `7g`,
`7GB`, `7.5GiB`: binary units, a bare number is MB) and say "no" to the rest before anything starts, with a hint
showing the accepted forms rather than minikube's `FromHumanSize` error half-way through a run.
"""

from __future__ import annotations

import math
import re

from kfinstall.errors import UsageError

#: go-units' RAMInBytes pattern, which minikube's CalculateSizeInMB uses (every unit is binary: 1g = 1024mb).
_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_POWER = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
MEMORY_HINT = "give a size like 8192 (MB), 8192mb, 8g or 8GB"


def parse_memory_mb(text: str | int) -> int:
    """Megabytes in `text` like minikube's CalculateSizeInMB; nonsense, zero and negatives are a UsageError."""
    return _size_mb(text, "--memory", MEMORY_HINT)


def _size_mb(text: str | int, option: str, hint: str) -> int:
    value = str(text).strip()
    if re.fullmatch(r"[+-]?\d+", value):
        value += "mb"
    match = _SIZE.match(value)
    if not match:
        raise UsageError(f"{option} {text!r} is not a size", hint)
    try:
        number = float(match[1])
    except ValueError:  # go-units accepts "1.2.3"; float() does not, and neither should we
        raise UsageError(f"{option} {text!r} is not a size", hint) from None
    megabytes = int(number * 1024 ** _POWER[(match[2] or "").lower()]) // (1024 * 1024)
    if megabytes <= 0:
        raise UsageError(f"{option} {text!r} is less than 1 MB", hint)
    return megabytes


#: minikube's smallest disk (kubernetes/minikube cmd/minikube/cmd/start_flags.go `minimumDiskSize`, in MB), which
#: `validateDiskSize` (start.go) enforces after reading the size with pkg/util/utils.go `CalculateSizeInMB`
#: (go-units' RAMInBytes: binary units, a bare number is MB), the same reader as --memory.
MIN_DISK_MB = 2000
DISK_HINT = "give a size like 50g, 51200mb or 51200 (MB); minikube needs at least 2000 MB"


def check_disk_size(text: str) -> str:
    """`text` unchanged (minikube reads it) once it is a size minikube accepts; else a UsageError."""
    megabytes = _size_mb(text, "--disk-size", DISK_HINT)
    if megabytes < MIN_DISK_MB:
        raise UsageError(f"--disk-size {text!r} is {megabytes} MB, less than minikube's minimum of 2000 MB", DISK_HINT)
    return text


#: Every driver name `minikube start --driver` knows (kubernetes/minikube pkg/minikube/driver/driver.go: the
#: driver constants and their aliases kvm, generic, native; `mock` is for minikube's own tests). Which of them
#: this OS supports is minikube's to say (driver_linux.go etc., `DRV_UNSUPPORTED_OS`); a name outside the list
#: is a typo to refuse before anything starts.
DRIVERS = (
    "docker", "podman", "none", "ssh", "kvm2", "qemu2", "qemu", "virtualbox", "hyperkit", "vmware", "hyperv",
    "parallels", "vfkit", "krunkit", "kvm", "generic", "native",
)  # fmt: skip


def check_driver(name: str) -> str:
    if name not in DRIVERS:
        raise UsageError(f"--driver {name!r} is not a minikube driver", f"minikube's drivers: {', '.join(DRIVERS)}")
    return name


def check_seconds(value: float, option: str = "--timeout", *, at_least: float = 1) -> float:
    """A finite number of seconds, at least `at_least`: 0, negatives and nan would never time out or fail at once,
    and kubectl's `--timeout=0s` means "no limit" (after `int()`, so does anything under 1)."""
    if not math.isfinite(value) or value < at_least:
        raise UsageError(
            f"{option} {value:g} is not a number of seconds of at least {at_least:g}", f"e.g. {option} 600"
        )
    return value


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
