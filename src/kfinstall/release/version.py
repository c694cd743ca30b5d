"""The version of a tool or of Kubernetes: `v1.19.3`, `1.21`, kustomize's `3.2.0`, minikube's `v1.37.0`.

kfinstall has two version types, one per purpose:

- **Release tags** (`v1.4.0`, `v1.11.0-rc.1`, `26.03`, `26.03.1`) are ordered with `packaging.version.Version`
  (see `release_order` in pins.py): PEP 440 reads the `v`, the pre-releases and the calendar tags as upstream
  writes them. So are minikube's `NewestKubernetesVersion` constants (`v1.28.0-rc.1`, in minikube_support.py),
  which are compared, never shown back.
- **Kubernetes and tool versions** use `Version` below, because they need what `packaging` does not give:
  `patch` None is meaningful (a pin's upper bound `v1.21` admits every v1.21.x, while PEP 440 makes `1.21` equal
  to `1.21.0`); the text is the tools' own `v1.19.3` (PEP 440 drops the `v`, which minikube's profile and the
  check table show); and a pre-release, epoch or fourth number is refused as the user's `--k8s-version`
  (`minikube start` would refuse it later), where PEP 440 accepts all of them.
"""

from __future__ import annotations

import re
from functools import total_ordering

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$", re.IGNORECASE)  # minikube lowercases too


@total_ordering
class Version:
    """A `major.minor[.patch]` version, with or without the leading `v` (Kubernetes, minikube, kustomize).

    `patch` is None when only `major.minor` was written: as an upper bound that means "any patch of that minor".
    """

    __slots__ = ("major", "minor", "patch")

    def __init__(self, major: int, minor: int, patch: int | None = None) -> None:
        self.major, self.minor, self.patch = major, minor, patch

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.match(str(text).strip())
        if not match:
            raise ValueError(f"{text!r} is not a version like v1.19.3 or 1.21")
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), None if patch is None else int(patch))

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch or 0)

    @property
    def minor_key(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}" + ("" if self.patch is None else f".{self.patch}")

    def __repr__(self) -> str:
        return f"Version({self})"
