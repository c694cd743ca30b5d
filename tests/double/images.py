"""The node's image store and the kubelet's image puller (scenario knobs `image_pull_delays`, `serialize_image_pulls`).

Pure bookkeeping over simulated time: nothing sleeps here. The controllers ask for a pod's images and advance the
store to "now"; every pull has a start and an end computed from the previous ones, so a late controller pass still
puts images on the node at the time they would really have arrived. The caller holds the cluster lock.

Two kinds of pull, as on a real minikube node:

- kubelet pulls (a pod needs an image): with `serializeImagePulls: true` (the kubelet's default) they go through one
  queue, one image at a time, in the order pods asked; otherwise each starts when asked.
- external pulls (`docker pull` on the node, i.e. `minikube image pull`): start at once, concurrently with
  everything else, outside the kubelet's queue.

An image already present or being pulled (by anyone) is not pulled again; whoever needs it waits for that pull.
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field

from tests.double.scenario import Delay, draw


@dataclass
class Pull:
    image: str
    start: float
    end: float
    kubelet: bool


@dataclass
class ImageStore:
    #: image -> (simulated) time it arrived on the node
    present: dict[str, float] = field(default_factory=dict)
    #: pulls in progress, by image
    pulling: dict[str, Pull] = field(default_factory=dict)
    #: the kubelet's serial queue: (image, time asked, pull duration), oldest first
    queue: list[tuple[str, float, float]] = field(default_factory=list)
    #: when the kubelet's serial puller finished its last pull
    kubelet_free_at: float = 0.0
    #: every pull that ended, oldest first (for assertions and the control port)
    history: list[Pull] = field(default_factory=list)
    _durations: dict[str, float] = field(default_factory=dict)

    def duration(self, image: str, delays: dict[str, Delay], seed: int) -> float:
        """Pull time of an image: first fnmatch pattern of `delays`, drawn once per image (seeded by the image, so
        independent of the order of pulls); no match: 0."""
        if image not in self._durations:
            value = next((v for p, v in delays.items() if fnmatch.fnmatchcase(image, p)), 0.0)
            self._durations[image] = max(0.0, draw(value, random.Random(f"{seed}:{image}")))
        return self._durations[image]

    def preload(self, images: list[str], at: float) -> None:
        for image in images:
            self.present.setdefault(image, at)

    def busy(self, image: str) -> bool:
        """Present, being pulled or waiting in the kubelet's queue."""
        return image in self.present or image in self.pulling or any(i == image for i, _, _ in self.queue)

    def kubelet_pull(self, image: str, now: float, duration: float, serialize: bool) -> None:
        """The kubelet needs `image` (a pod asked at `now`): queue it unless it is already there or on its way."""
        if self.busy(image):
            return
        if serialize:
            self.queue.append((image, now, duration))
        else:
            self.pulling[image] = Pull(image, now, now + duration, kubelet=True)

    def external_pull(self, image: str, now: float, duration: float) -> float:
        """`docker pull` on the node: starts now unless present or being pulled; returns when the image is there."""
        if image in self.present:
            return self.present[image]
        if image not in self.pulling:
            self.pulling[image] = Pull(image, now, now + duration, kubelet=False)
        return self.pulling[image].end

    def load(self, image: str, now: float) -> None:
        """An image put on the node without pulling (`minikube image load`)."""
        self.present.setdefault(image, now)

    def advance(self, now: float, serialize: bool) -> None:
        """Play the pulls forward to `now`: finish those that ended, start queued kubelet pulls as the puller frees."""
        while True:
            end = min(self.pulling.values(), key=lambda p: p.end, default=None)
            kubelet_busy = serialize and any(p.kubelet for p in self.pulling.values())
            start_at = float("inf")
            if self.queue and not kubelet_busy:
                start_at = max(self.kubelet_free_at, self.queue[0][1]) if serialize else self.queue[0][1]
            if end is not None and end.end <= min(now, start_at):
                del self.pulling[end.image]
                self.present.setdefault(end.image, end.end)
                self.history.append(end)
                if end.kubelet:
                    self.kubelet_free_at = max(self.kubelet_free_at, end.end)
                continue
            if start_at <= now:
                image, _, duration = self.queue.pop(0)
                if image not in self.present and image not in self.pulling:
                    self.pulling[image] = Pull(image, start_at, start_at + duration, kubelet=True)
                continue
            return

    def next_change(self, serialize: bool) -> float:
        """The next simulated time something happens (a pull ends or a queued one starts); inf when idle."""
        times = [p.end for p in self.pulling.values()]
        if self.queue and not (serialize and any(p.kubelet for p in self.pulling.values())):
            times.append(max(self.kubelet_free_at, self.queue[0][1]) if serialize else self.queue[0][1])
        return min(times, default=float("inf"))
