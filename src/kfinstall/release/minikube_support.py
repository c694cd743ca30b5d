"""What each minikube release can start, as data (facts from minikube's sources and release notes).

minikube refuses Kubernetes versions older than its floor (exit 106, K8S_OLD_UNSUPPORTED), and the floor rose
over time. Kubeflow v1.4.0 needs Kubernetes ≤ 1.21, so a current minikube cannot run it at all: kfinstall must
say so before starting anything, and suggest a minikube that can, or a Kubeflow release this minikube can run.
"""

from __future__ import annotations

from typing import NamedTuple

from packaging.version import Version as PackagingVersion

from kfinstall.release.version import Version


class KubernetesSupport(NamedTuple):
    """From minikube release `since` on (until the next row): the Kubernetes versions it supports.

    The three values are minikube's own constants, spelled as minikube spells them (`newest` may be a
    pre-release): `DefaultKubernetesVersion` (what `minikube start` runs without --kubernetes-version),
    `NewestKubernetesVersion` (newer ones only get a warning, "Specified Kubernetes version X is newer than the
    newest supported version: Y", and are tried with kubeadm configs that may not fit) and
    `OldestKubernetesVersion` (older ones are refused, exit 106, unless --force).
    """

    since: Version
    default: str
    newest: str
    oldest: str


#: Every minikube release from v1.15.0 to v1.38.1, from kubernetes/minikube pkg/minikube/constants/constants.go
#: at each tag (the constants above); a row covers the patch releases after it that changed nothing (named in
#: its comment). Releases older than the first row are not recorded; for one newer than the last, what it
#: supports is unknown until a row is added here.
KUBERNETES_SUPPORT: tuple[KubernetesSupport, ...] = (
    KubernetesSupport(Version(1, 15, 0), "v1.19.4", "v1.20.0-beta.1", "v1.13.0"),  # and v1.15.1
    KubernetesSupport(Version(1, 16, 0), "v1.20.0", "v1.20.0", "v1.13.0"),
    KubernetesSupport(Version(1, 17, 0), "v1.20.2", "v1.20.3-rc.0", "v1.13.0"),  # and v1.17.1
    KubernetesSupport(Version(1, 18, 0), "v1.20.2", "v1.20.5-rc.0", "v1.14.0"),  # and v1.18.1, v1.19.0
    KubernetesSupport(Version(1, 20, 0), "v1.20.2", "v1.22.0-alpha.1", "v1.14.0"),
    KubernetesSupport(Version(1, 21, 0), "v1.20.7", "v1.22.0-alpha.2", "v1.14.0"),
    KubernetesSupport(Version(1, 22, 0), "v1.21.2", "v1.22.0-beta.0", "v1.14.0"),
    KubernetesSupport(Version(1, 23, 0), "v1.22.1", "v1.22.2-rc.0", "v1.14.0"),  # and v1.23.1
    KubernetesSupport(Version(1, 23, 2), "v1.22.2", "v1.22.3-rc.0", "v1.14.0"),
    KubernetesSupport(Version(1, 24, 0), "v1.22.3", "v1.22.4-rc.0", "v1.14.0"),
    KubernetesSupport(Version(1, 25, 0), "v1.23.1", "v1.23.2-rc.0", "v1.16.0"),  # and v1.25.1
    KubernetesSupport(Version(1, 25, 2), "v1.23.3", "v1.23.4-rc.0", "v1.16.0"),
    KubernetesSupport(Version(1, 26, 0), "v1.24.1", "v1.24.1", "v1.16.0"),
    KubernetesSupport(Version(1, 26, 1), "v1.24.3", "v1.24.3", "v1.16.0"),
    KubernetesSupport(Version(1, 27, 0), "v1.25.0", "v1.25.0", "v1.16.0"),
    KubernetesSupport(Version(1, 27, 1), "v1.25.2", "v1.25.2", "v1.16.0"),
    KubernetesSupport(Version(1, 28, 0), "v1.25.3", "v1.25.3", "v1.16.0"),
    KubernetesSupport(Version(1, 29, 0), "v1.26.1", "v1.26.1", "v1.16.0"),
    KubernetesSupport(Version(1, 30, 0), "v1.26.3", "v1.27.0-rc.0", "v1.16.0"),  # and v1.30.1
    KubernetesSupport(Version(1, 31, 0), "v1.27.3", "v1.27.3", "v1.16.0"),  # and v1.31.1
    KubernetesSupport(Version(1, 31, 2), "v1.27.4", "v1.28.0-rc.1", "v1.16.0"),
    KubernetesSupport(Version(1, 32, 0), "v1.28.3", "v1.28.3", "v1.16.0"),
    KubernetesSupport(Version(1, 33, 0), "v1.30.0", "v1.30.0", "v1.20.0"),  # and v1.33.1
    KubernetesSupport(Version(1, 34, 0), "v1.31.0", "v1.31.0", "v1.20.0"),
    KubernetesSupport(Version(1, 35, 0), "v1.32.0", "v1.32.0", "v1.20.0"),
    KubernetesSupport(Version(1, 36, 0), "v1.33.1", "v1.33.1", "v1.20.0"),
    KubernetesSupport(Version(1, 37, 0), "v1.34.0", "v1.34.0", "v1.28.0"),
    KubernetesSupport(Version(1, 38, 0), "v1.35.0", "v1.35.0", "v1.28.0"),
    KubernetesSupport(Version(1, 38, 1), "v1.35.1", "v1.35.1", "v1.28.0"),
)
#: The newest minikube release recorded above, patch included (v1.38.2 or v1.39.0 may support more).
LAST_RECORDED = KUBERNETES_SUPPORT[-1].since

#: (first minikube release of a floor, the oldest Kubernetes it starts): the floors of the table above, for the
#: minikube releases outside it too: v1.13.0 up to minikube v1.17 (older ones are assumed to be no stricter),
#: v1.14.0 from v1.18, v1.16.0 from v1.25 (PR #12973), v1.20.0 from v1.33 (PR #18264) and v1.28.0 from v1.37;
#: a minikube newer than the table keeps the last floor.
OLDEST_KUBERNETES: tuple[tuple[Version, Version], ...] = (
    (Version(0, 0, 0), Version(1, 13, 0)),
    (Version(1, 18, 0), Version(1, 14, 0)),
    (Version(1, 25, 0), Version(1, 16, 0)),
    (Version(1, 33, 0), Version(1, 20, 0)),
    (Version(1, 37, 0), Version(1, 28, 0)),
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


def support(minikube: Version) -> KubernetesSupport | None:
    """The row of `minikube`; None before the first recorded release and after the last one (not established)."""
    if minikube > LAST_RECORDED:
        return None
    found = None
    for row in KUBERNETES_SUPPORT:
        if minikube >= row.since:
            found = row
    return found


def newest_kubernetes(minikube: Version) -> str | None:
    """minikube's NewestKubernetesVersion for this release, or None where it is not recorded."""
    row = support(minikube)
    return row.newest if row else None


def knows_kubernetes(minikube: Version, kubernetes: Version) -> bool | None:
    """Whether `kubernetes` is within the newest this minikube supports; None when that is not recorded."""
    row = support(minikube)
    if row is None:
        return None
    # minikube's semver order, as far as a released Kubernetes is concerned: v1.28.0-rc.1 < v1.28.0 (PEP 440 agrees)
    return PackagingVersion(f"{kubernetes.major}.{kubernetes.minor}.{kubernetes.patch or 0}") <= PackagingVersion(
        row.newest
    )


def first_minikube_knowing(kubernetes: Version) -> Version | None:
    """The first recorded minikube release that both starts and supports `kubernetes`; None when none does."""
    for row in KUBERNETES_SUPPORT:
        if can_start(row.since, kubernetes) and knows_kubernetes(row.since, kubernetes):
            return row.since
    return None


def supported_span(minikube: Version) -> str | None:
    """`v1.16.0 – v1.28.3`: the Kubernetes versions this minikube starts without a warning (None: not recorded)."""
    row = support(minikube)
    return f"{row.oldest} – {row.newest}" if row else None
