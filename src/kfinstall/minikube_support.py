"""What each minikube release can start, as data (facts from minikube's sources and release notes).

minikube refuses Kubernetes versions older than its floor (exit 106, K8S_OLD_UNSUPPORTED), and the floor rose
over time. Kubeflow v1.4.0 needs Kubernetes ≤ 1.21, so a current minikube cannot run it at all: kfinstall must
say so before starting anything, and suggest a minikube that can, or a Kubeflow release this minikube can run.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from kfinstall.pins import Version

#: (first minikube release of a floor, the oldest Kubernetes it starts). The floor was v1.14.0 up to minikube
#: v1.24, v1.16.0 from v1.25 (PR #12973), v1.20.0 from v1.33 (PR #18264) and v1.28.0 from v1.37.
OLDEST_KUBERNETES: tuple[tuple[Version, Version], ...] = (
    (Version(0, 0, 0), Version(1, 14, 0)),
    (Version(1, 25, 0), Version(1, 16, 0)),
    (Version(1, 33, 0), Version(1, 20, 0)),
    (Version(1, 37, 0), Version(1, 28, 0)),
)


class NewestKubernetes(NamedTuple):
    """From minikube release `since` on (until the next row): the newest Kubernetes it knows.

    `newest` is minikube's `constants.NewestKubernetesVersion` as minikube spells it (it may be a pre-release), or
    None when no source states it. `at_least` is a version the release notes say this minikube supports (its
    default, or "support for vX"): minikube's newest is never older than its default, so that much it knows.
    """

    since: Version
    newest: str | None
    at_least: str | None


#: Newer than `newest`, minikube only warns ("Specified Kubernetes version X is newer than the newest supported
#: version: Y") and tries anyway; kubeadm then often fails. Sources: minikube's CHANGELOG.md (the copy released
#: with v1.34.0) and the GitHub release notes of v1.35.0 and v1.37.0. A "Bump Kubernetes version default: X and
#: latest: Y" line is minikube's update script setting DefaultKubernetesVersion=X and NewestKubernetesVersion=Y.
#: A patch release whose notes name no bump (v1.26.1 aside: v1.30.1, v1.31.1, v1.33.1) keeps its row's value.
#: Not established (newest None): v1.25.x (no Kubernetes line), v1.27.0 and v1.29.0 (the default only), v1.28.0
#: (no line, although v1.29.0's notes show its default had moved to v1.25.3), v1.34.0 (default only), v1.35.0
#: ("Support latest Kubernetes v1.32.0" without the newest), v1.36.x (no source found), v1.37.0 ("Add Support for
#: Kubernetes v1.34.0"), v1.38.0 on (not researched).
NEWEST_KUBERNETES: tuple[NewestKubernetes, ...] = (
    NewestKubernetes(Version(1, 25, 0), None, None),
    NewestKubernetes(Version(1, 26, 0), "v1.24.1", "v1.24.1"),  # default v1.24.1 and latest v1.24.1 (#14197)
    NewestKubernetes(Version(1, 26, 1), "v1.24.3", "v1.24.3"),  # default v1.24.3 and latest v1.24.3 (#14606)
    NewestKubernetes(Version(1, 27, 0), None, "v1.25.0"),  # "Bump default Kubernetes version to v1.25.0" (#14848)
    NewestKubernetes(Version(1, 27, 1), "v1.25.2", "v1.25.2"),  # default v1.25.2 and latest v1.25.2 (#14995)
    NewestKubernetes(Version(1, 28, 0), None, None),
    NewestKubernetes(Version(1, 29, 0), None, "v1.26.1"),  # "Bump default Kubernetes version from 1.25.3 to 1.26.1"
    NewestKubernetes(Version(1, 30, 0), "v1.27.0-rc.0", "v1.26.3"),  # default v1.26.3, latest v1.27.0-rc.0 (#16181)
    NewestKubernetes(Version(1, 31, 0), "v1.27.3", "v1.27.3"),  # default v1.27.3 and latest v1.27.3 (#16718)
    NewestKubernetes(Version(1, 31, 2), "v1.28.0-rc.1", "v1.27.4"),  # default v1.27.4, latest v1.28.0-rc.1 (#17051)
    NewestKubernetes(Version(1, 32, 0), "v1.28.3", "v1.28.3"),  # v1.32.0-beta.0: default and latest v1.28.3 (#17463)
    NewestKubernetes(Version(1, 33, 0), "v1.30.0", "v1.30.0"),  # default v1.30.0 and latest v1.30.0 (#18669)
    NewestKubernetes(Version(1, 34, 0), None, "v1.31.0"),  # "Bump default Kubernetes version to v1.31.0" (#19435)
    NewestKubernetes(Version(1, 35, 0), None, "v1.32.0"),  # "Support latest Kubernetes v1.32.0" (#20091)
    NewestKubernetes(Version(1, 36, 0), None, None),
    NewestKubernetes(Version(1, 37, 0), None, "v1.34.0"),  # "Add Support for Kubernetes v1.34.0" (#21439)
    NewestKubernetes(Version(1, 38, 0), None, None),
)


#: `minikube start --gpus` exists since v1.32.0 (values all, nvidia; amd since v1.35.0) and needs the docker driver.
GPUS_SINCE = Version(1, 32, 0)
GPU_VALUES: tuple[tuple[str, Version], ...] = (("all", GPUS_SINCE), ("nvidia", GPUS_SINCE), ("amd", Version(1, 35, 0)))

#: minikube refuses `--memory` below this many MB (RSRC_INSUFFICIENT_REQ_MEMORY, exit 23) and `--cpus` below 2.
MIN_MEMORY_MB = 1800
MIN_CPUS = 2

RELEASES_URL = "https://github.com/kubernetes/minikube/releases"


def oldest_kubernetes(minikube: Version) -> Version:
    """The oldest Kubernetes version `minikube` agrees to start."""
    floor = OLDEST_KUBERNETES[0][1]
    for since, oldest in OLDEST_KUBERNETES:
        if minikube >= since:
            floor = oldest
    return floor


def can_start(minikube: Version, kubernetes: Version) -> bool:
    """Whether `minikube` starts `kubernetes` (newer than it knows is only a warning in minikube; older is refused)."""
    return kubernetes >= oldest_kubernetes(minikube)


def last_minikube_for(kubernetes: Version) -> Version | None:
    """The last minikube release line (as vX.Y) that still starts `kubernetes`; None when current ones do."""
    for since, oldest in OLDEST_KUBERNETES[1:]:
        if kubernetes < oldest:
            return Version(since.major, since.minor - 1)
    return None


def gpu_flag_values(minikube: Version) -> list[str]:
    """The `--gpus` values this minikube accepts ([] before v1.32.0: the flag does not exist)."""
    return [value for value, since in GPU_VALUES if minikube >= since]


_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(-.+)?$")


def _semver_key(text: str) -> tuple[int, int, int, int]:
    """Order as minikube's semver does, as far as a released Kubernetes is concerned: v1.28.0-rc.1 < v1.28.0."""
    match = _SEMVER.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a version like v1.28.0 or v1.28.0-rc.1")
    major, minor, patch, pre = match.groups()
    return int(major), int(minor), int(patch), 0 if pre else 1


def _row(minikube: Version) -> NewestKubernetes | None:
    found = None
    for row in NEWEST_KUBERNETES:
        if minikube >= row.since:
            found = row
    return found


def newest_kubernetes(minikube: Version) -> str | None:
    """minikube's NewestKubernetesVersion for this release, or None where no source establishes it."""
    row = _row(minikube)
    return row.newest if row else None


def knows_kubernetes(minikube: Version, kubernetes: Version) -> bool | None:
    """Whether `kubernetes` is within the newest this minikube knows; None when that is not established."""
    row = _row(minikube)
    wanted = _semver_key(f"v{kubernetes.major}.{kubernetes.minor}.{kubernetes.patch or 0}")
    if row is None:
        return None
    if row.newest is not None:
        return wanted <= _semver_key(row.newest)
    return True if row.at_least is not None and wanted <= _semver_key(row.at_least) else None


def first_minikube_knowing(kubernetes: Version) -> Version | None:
    """The first minikube release documented to know `kubernetes`; None when no recorded one is."""
    for row in NEWEST_KUBERNETES:
        if knows_kubernetes(row.since, kubernetes):
            return row.since
    return None
