"""What each minikube release can start, as data (facts from minikube's sources and release notes).

minikube refuses Kubernetes versions older than its floor (exit 106, K8S_OLD_UNSUPPORTED), and the floor rose
over time. Kubeflow v1.4.0 needs Kubernetes ≤ 1.21, so a current minikube cannot run it at all: kfinstall must
say so before starting anything, and suggest a minikube that can, or a Kubeflow release this minikube can run.
"""

from __future__ import annotations

from kfinstall.pins import Version

#: (first minikube release of a floor, the oldest Kubernetes it starts). The floor was v1.14.0 up to minikube
#: v1.24, v1.16.0 from v1.25 (PR #12973), v1.20.0 from v1.33 (PR #18264) and v1.28.0 from v1.37.
OLDEST_KUBERNETES: tuple[tuple[Version, Version], ...] = (
    (Version(0, 0, 0), Version(1, 14, 0)),
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
