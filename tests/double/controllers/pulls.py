"""The kubelet's image manager: the image pull model (`image_pull_delays`, one puller, serialized by default; with
`image_link_bandwidth` pulls share one download link by bytes, tests/double/images.py `SharedLink`) and the
events and waiting states of images that cannot be pulled (kubernetes/kubernetes pkg/kubelet/images/image_manager.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.double.cluster import Obj
from tests.double.controllers.common import (
    go_duration,
)
from tests.double.images import ImageStore, SharedLink, pull_error

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers
    from tests.double.scenario import Scenario


def pull_images(ctrl: Controllers, pod: Obj, sim: dict[str, Any], now: float) -> None:
    """The kubelet makes sure a mounted pod's images are on the node (with the scenario's image_pull_delays).

    On the first pass after mounting, every image the pod lacks (init containers included; ImagePullBackOff images
    excluded, they fail as before) is asked of the puller, unless it is already present or on its way; the pod
    then waits (`pull_wait`) until all are present and records `pulled_at`, from which its start delay runs.
    """
    s = ctrl.c.scenario
    if "pull_wait" not in sim:
        if not s.pull_model:
            sim["pull_wait"] = []
            return
        use_link(ctrl.images, s, now)
        spec = pod["spec"]
        images = [c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]
        wait = []
        for image in dict.fromkeys(i for i in images if i and not s.image_fails(i)):
            if image in ctrl.images.present:
                message = f'Container image "{image}" already present on machine'
                ctrl.event(pod, "Pod", "Pulled", message, etype="Normal", component="kubelet")
                continue
            duration = ctrl.images.duration(image, s.image_pull_delays, s.seed)
            ctrl.images.kubelet_pull(image, now, duration, s.serialize_image_pulls)
            ctrl.event(pod, "Pod", "Pulling", f'Pulling image "{image}"', etype="Normal", component="kubelet")
            wait.append(image)
        sim["pull_wait"], sim["pull_asked"] = wait, now
        ctrl.images.advance(now, s.serialize_image_pulls)
    wait = sim["pull_wait"]
    if not wait or "pulled_at" in sim or not all(image in ctrl.images.present for image in wait):
        return
    sim["pulled_at"] = max(ctrl.images.present[image] for image in wait)
    for image in wait:
        pull = next((p for p in reversed(ctrl.images.history) if p.image == image), None)
        waited = go_duration(round(ctrl.images.present[image] - sim["pull_asked"], 3))
        took = go_duration(round(pull.end - pull.start, 3)) if pull is not None else waited
        message = f'Successfully pulled image "{image}" in {took}'
        if s.minor >= 28:
            message += f" ({waited} including waiting)"
        ctrl.event(pod, "Pod", "Pulled", message, etype="Normal", component="kubelet")


def use_link(images: ImageStore, s: Scenario, now: float) -> None:
    """Put the scenario's shared download link (`image_link_bandwidth` and friends) on the node's image store, once:
    from then on pulls take their bytes' time over it (tests/double/images.py `SharedLink`)."""
    if images.link is None and s.image_link_bandwidth > 0:
        images.link = SharedLink.of(s)
        images.clock = max(images.clock, now)


def pull_failed(ctrl: Controllers, pod: Obj, image: str, first: float, now: float) -> Obj:
    """The waiting state of a container whose image cannot be pulled (`image_pull_backoff`, `deleted_images`).

    As pkg/kubelet/images/image_manager.go `EnsureImageExists` does it: each pull attempt records `Pulling image
    "X"` (Normal), `Failed to pull image "X": <CRI error>` (Warning `Failed`) and kuberuntime's `Error:
    ErrImagePull`, and starts the image back-off (10 s doubling to 5 min); the container waits `ErrImagePull` with
    the CRI error as its message. A sync inside the back-off records `Back-off pulling image "X"` (Normal
    `BackOff`) and `Error: ImagePullBackOff`, and the container waits `ImagePullBackOff`, whose message carries the
    last pull's error from 1.32 on (`Back-off pulling image "X": ErrImagePull: <CRI error>`,
    kubernetes/kubernetes#127918). The first attempt is at `first`; `ErrImagePull` shows for `pull_error_window`
    after each attempt, the double's stand-in for the time until the pod's next sync.
    """
    s = ctrl.c.scenario
    error = pull_error(image, s.deleted_image_error(image), s.container_runtime)
    attempt, failures = first, 1
    wait = max(s.pull_backoff_after(failures), 0.01)
    while now >= attempt + wait:
        attempt, failures = attempt + wait, failures + 1
        wait = max(s.pull_backoff_after(failures), 0.01)
    ctrl.event(pod, "Pod", "Pulling", f'Pulling image "{image}"', etype="Normal", component="kubelet")
    ctrl.event(pod, "Pod", "Failed", f'Failed to pull image "{image}": {error}', component="kubelet")
    ctrl.event(pod, "Pod", "Failed", "Error: ErrImagePull", component="kubelet")
    window = min(s.pull_error_window, wait)
    if now < attempt + window:
        ctrl.due(attempt + window)
        return {"reason": "ErrImagePull", "message": error}
    ctrl.due(attempt + wait)
    ctrl.event(pod, "Pod", "BackOff", f'Back-off pulling image "{image}"', etype="Normal", component="kubelet")
    ctrl.event(pod, "Pod", "Failed", "Error: ImagePullBackOff", component="kubelet")
    message = f'Back-off pulling image "{image}"'
    if s.minor >= 32:
        message += f": ErrImagePull: {error}"
    return {"reason": "ImagePullBackOff", "message": message}
