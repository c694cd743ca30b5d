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

With the scenario's `image_link_bandwidth` (`SharedLink`), a pull's time is not drawn but follows from bytes: a fixed
latency, its compressed size over the node's one download link, then extraction. The link is shared by every
download in flight, kubelet or external, so pulling more images at once does not make the bytes arrive sooner; what
concurrency buys is overlap (one image extracts while the next downloads) and starting early. Sources: the kubelet's
serial puller waits for the whole `PullImage` call, extraction included, before the next (kubernetes/kubernetes
pkg/kubelet/images/puller.go, `serialImagePuller`: one goroutine reading `pullRequests`); dockerd downloads at most
`max-concurrent-downloads` layers at a time over all pulls, default 3 (moby daemon/config/config.go
`DefaultMaxConcurrentDownloads`; distribution/xfer `NewLayerDownloadManager`, one per daemon); docker extracts a
layer after downloading it (distribution/xfer/download.go). Simplifications, said where they apply: a pull keeps
min(layers, free slots) downloads for its whole download (its layers are taken as equal parts), slots go to pulls
in the order they started, and extraction starts after the image's last byte (docker overlaps it layer by layer,
so the model's extraction is an upper bound).

A loaded image (`minikube image load FILE`, `load`) costs no bytes on the link, but with the link's extraction rate
it is on the node only after its extraction: minikube copies the archive into the node and runs `docker load`
(kubernetes/minikube pkg/minikube/machine/cache_images.go `transferAndLoadImage`: `cr.Copy`, then
`r.LoadImage`), and `docker load` registers every layer into the layer store as a pull's extraction does (moby
image/tarexport/load.go). The copy is not modelled (no rate with a source; the double is lenient there, said
here). Loads are kept apart from `history`, which holds registry pulls only. An image still being loaded is not on
the node: a kubelet (or `docker pull`) pull of it meanwhile goes to the registry. The kubelet pulls whenever the
runtime says the image is absent (kubernetes/kubernetes pkg/kubelet/images/image_manager.go `EnsureImageExists`),
and it is absent until `docker load` ends; that dockerd's pull then reuses nothing of the load in progress is the
double's assumption, on the strict side (more registry bytes, never fewer).
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field
from typing import Any

from tests.double.scenario import Delay, draw


@dataclass
class Pull:
    image: str
    start: float
    end: float
    kubelet: bool
    #: With a shared link: "latency", then "download", then "extract"; `phase_end` ends the timed phases.
    phase: str = ""
    phase_end: float = 0.0
    remaining: float = 0.0  # bytes still to download
    layers: int = 1
    extract: float = 0.0  # seconds of extraction after the download


@dataclass
class SharedLink:
    """The node's download link (scenario knobs `image_link_bandwidth`, `image_sizes`, `image_layers`,
    `max_concurrent_downloads`, `image_stream_bandwidth`, `image_extract_rate`): see the module docstring."""

    bandwidth: float
    sizes: dict[str, float]
    layers: dict[str, int]
    slots: int = 3
    stream_cap: float = 0.0
    extract_rate: float = 0.0

    @classmethod
    def of(cls, scenario: Any) -> SharedLink | None:
        if scenario.image_link_bandwidth <= 0:
            return None
        return cls(
            float(scenario.image_link_bandwidth),
            dict(scenario.image_sizes),
            dict(scenario.image_layers),
            max(1, int(scenario.max_concurrent_downloads)),
            float(scenario.image_stream_bandwidth),
            float(scenario.image_extract_rate),
        )

    def size(self, image: str) -> float:
        return float(next((v for p, v in self.sizes.items() if fnmatch.fnmatchcase(image, p)), 0.0))

    def layer_count(self, image: str) -> int:
        return max(1, int(next((v for p, v in self.layers.items() if fnmatch.fnmatchcase(image, p)), 1)))

    def rates(self, downloading: list[Pull]) -> dict[str, float]:
        """Bytes per second of each downloading pull: slots to pulls in start order, the link shared per stream."""
        streams: dict[str, int] = {}
        free = self.slots
        for pull in sorted(downloading, key=lambda p: p.start):
            streams[pull.image] = min(pull.layers, free)
            free -= streams[pull.image]
        total = sum(streams.values())
        if total == 0:
            return {image: 0.0 for image in streams}
        per_stream = self.bandwidth / total
        if self.stream_cap > 0:
            per_stream = min(per_stream, self.stream_cap)
        return {image: n * per_stream for image, n in streams.items()}


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
    #: every registry pull that ended, oldest first (for assertions and the control port)
    history: list[Pull] = field(default_factory=list)
    #: every `minikube image load` that ended with an extraction (a link with an extraction rate), oldest first
    loads: list[Pull] = field(default_factory=list)
    #: loads in progress, by image (apart from `pulling`: they do not stop a pull of the same image)
    loading: dict[str, Pull] = field(default_factory=dict)
    #: The shared download link (None: pulls take their drawn durations, as without the knob)
    link: SharedLink | None = None
    #: With a link: the simulated time the downloads' progress was last computed at
    clock: float = 0.0
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
        if self.link is not None:
            self.advance(now, serialize)
        if serialize:
            self.queue.append((image, now, duration))
        else:
            self.pulling[image] = self._new_pull(image, now, duration, kubelet=True)

    def external_pull(self, image: str, now: float, duration: float) -> float:
        """`docker pull` on the node: starts now unless present or being pulled; returns when the image is there."""
        if image in self.present:
            return self.present[image]
        if image not in self.pulling:
            self.pulling[image] = self._new_pull(image, now, duration, kubelet=False)
        return self.pulling[image].end

    def _new_pull(self, image: str, at: float, duration: float, kubelet: bool) -> Pull:
        """A pull starting at `at`: `duration` long, or with a link its latency, bytes and extraction."""
        if self.link is None:
            return Pull(image, at, at + duration, kubelet)
        size = self.link.size(image)
        extract = size / self.link.extract_rate if self.link.extract_rate > 0 else 0.0
        pull = Pull(image, at, at + duration, kubelet, "latency", at + duration, size, self.link.layer_count(image))
        pull.extract = extract
        pull.end = at + duration + size / self.link.bandwidth + extract  # the soonest it can end; refined as it runs
        return pull

    def load(self, image: str, now: float) -> None:
        """An image put on the node without pulling (`minikube image load`): at once, or with the link's extraction
        rate after its extraction (see the module docstring). One already present or on its way is left alone."""
        if image in self.present or image in self.loading:
            return
        if self.link is None or self.link.extract_rate <= 0:
            self.present[image] = now
            return
        extract = self.link.size(image) / self.link.extract_rate
        self.loading[image] = Pull(image, now, now + extract, False, "extract", now + extract, extract=extract)

    def advance(self, now: float, serialize: bool) -> None:
        """Play the pulls forward to `now`: finish those that ended, start queued kubelet pulls as the puller frees."""
        if self.link is not None:
            self._advance_shared(now, serialize)
            return
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
        if self.link is not None:
            return self._next_event(serialize)[0]
        times = [p.end for p in self.pulling.values()]
        if self.queue and not (serialize and any(p.kubelet for p in self.pulling.values())):
            times.append(max(self.kubelet_free_at, self.queue[0][1]) if serialize else self.queue[0][1])
        return min(times, default=float("inf"))

    # The shared link: a fluid model, stepped from event to event (a phase ends, a download ends, a queued pull
    # starts); between events every download's rate is constant, so its bytes advance linearly.

    def _queue_start(self, serialize: bool) -> float:
        if not self.queue or (serialize and any(p.kubelet for p in self.pulling.values())):
            return float("inf")
        return max(self.kubelet_free_at, self.queue[0][1]) if serialize else self.queue[0][1]

    def _next_event(self, serialize: bool) -> tuple[float, dict[str, float]]:
        """The time of the next event after `clock` and the downloads' current rates."""
        assert self.link is not None
        downloading = [p for p in self.pulling.values() if p.phase == "download"]
        rates = self.link.rates(downloading)
        times = [self._queue_start(serialize)]
        for pull in self.pulling.values():
            if pull.phase == "download":
                rate = rates[pull.image]
                if pull.remaining <= 0:
                    times.append(self.clock)
                elif rate > 0:
                    times.append(self.clock + pull.remaining / rate)
            else:
                times.append(pull.phase_end)
        times.extend(load.phase_end for load in self.loading.values())
        return min(times), rates

    def _advance_shared(self, now: float, serialize: bool) -> None:
        assert self.link is not None
        while True:
            at, rates = self._next_event(serialize)
            step_to = min(max(at, self.clock), now) if at <= now else now
            for pull in self.pulling.values():
                rate = rates.get(pull.image, 0.0)
                if pull.phase != "download" or rate <= 0:
                    continue
                if self.clock + pull.remaining / rate <= step_to + 1e-9:
                    pull.remaining = 0.0  # done now: no float residue may leave a zero-length step to repeat
                else:
                    pull.remaining -= rate * max(0.0, step_to - self.clock)
            self.clock = max(self.clock, step_to)
            if at > now:
                self._project(rates)
                return
            self._fire(max(at, self.clock), serialize)

    def _fire(self, at: float, serialize: bool) -> None:
        """Everything due at `at`: phases that end, downloads that finished, the next queued kubelet pull."""
        for pull in list(self.pulling.values()):
            if pull.phase == "latency" and pull.phase_end <= at:
                pull.phase = "download"
            if pull.phase == "download" and pull.remaining <= 1e-6:
                pull.phase, pull.phase_end = "extract", at + pull.extract
            if pull.phase == "extract" and pull.phase_end <= at:
                pull.end = pull.phase_end
                del self.pulling[pull.image]
                self.present.setdefault(pull.image, pull.end)
                self.history.append(pull)
                if pull.kubelet:
                    self.kubelet_free_at = max(self.kubelet_free_at, pull.end)
        for load in [load for load in self.loading.values() if load.phase_end <= at]:
            del self.loading[load.image]
            self.present.setdefault(load.image, load.phase_end)
            self.loads.append(load)
        if self._queue_start(serialize) <= at:
            image, _, duration = self.queue.pop(0)
            if image not in self.present and image not in self.pulling:
                self.pulling[image] = self._new_pull(image, at, duration, kubelet=True)

    def _project(self, rates: dict[str, float]) -> None:
        """Each pull's `end` as if the current rates held (what waiting callers and the control port see)."""
        assert self.link is not None
        for pull in self.pulling.values():
            if pull.phase == "extract":
                pull.end = pull.phase_end
            elif pull.phase == "download":
                rate = rates.get(pull.image) or self.link.bandwidth
                pull.end = self.clock + pull.remaining / rate + pull.extract
            else:
                pull.end = pull.phase_end + pull.remaining / self.link.bandwidth + pull.extract


# ------------------------------------------------------------------------------------------- failed pulls

#: What the docker daemon says for a repository the registry does not have (Docker Hub's answer to an anonymous pull
#: of a missing repository), used for `image_pull_backoff` images and `deleted_images` entries without words.
DOCKER_HUB_MISSING = (
    "pull access denied for {repo}, repository does not exist or may require 'docker login': "
    "denied: requested access to the resource is denied"
)


def split_reference(image: str) -> tuple[str, str, str, str]:
    """`(host, path, tag, repo)` of an image reference, the way docker's reference parser normalises it.

    `repo` is the name as written (no tag); `path` is the repository path on the host (Docker Hub's official images
    under `library/`); `tag` is the tag, the digest, or `latest`.
    """
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = "latest"
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    repo = name
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = "docker.io", name if "/" in name else f"library/{name}"
    return host, path, digest or tag, repo


def daemon_error(image: str, words: str | None) -> str:
    """The docker daemon's message for a failed pull of `image` (what follows "Error response from daemon: ").

    `words` is the `deleted_images` entry (placeholders `{ref}`, `{repo}`, `{tag}` filled in); None or empty gives
    Docker Hub's answer for a missing repository. Real examples: `manifest for gcr.io/kubebuilder/kube-rbac-proxy:
    v0.13.1 not found: manifest unknown: Failed to fetch "v0.13.1"` (kubeslice/kubeslice-controller#289), `Head
    "https://gcr.io/v2/arrikto/kubeflow/oidc-authservice/manifests/28c59ef": denied: This API method requires billing
    to be enabled. ...` (arrikto/oidc-authservice#133).
    """
    _, _, tag, repo = split_reference(image)
    text = words or DOCKER_HUB_MISSING
    return text.replace("{ref}", image).replace("{repo}", repo).replace("{tag}", tag)


def pull_error(image: str, words: str | None, runtime: str) -> str:
    """The CRI error of a failed pull, as the kubelet puts it in the `Failed` event and the `ErrImagePull` message.

    docker (cri-dockerd, and dockershim before 1.24): `rpc error: code = Unknown desc = Error response from daemon:
    ...` (kubeflow/community-distribution#1156: `Failed to pull image "gcr.io/istio-release/proxyv2:...": rpc error:
    code = Unknown desc = Error response from daemon: Get https://gcr.io/v2/...: denied: Project istio-release has
    been deleted.`; lachie83/k8s-kubectl#157 for `manifest unknown`).
    containerd: `rpc error: code = NotFound desc = failed to pull and unpack image "REF": failed to resolve reference
    "REF": REF: not found` for a missing manifest (GoogleCloudPlatform/anthos-service-mesh-packages#1883), `unexpected
    status from HEAD request to https://...: 401 Unauthorized` when the registry refuses (awslabs/kubeflow-manifests
    #833); 403 Forbidden for `denied` is the status the distribution spec gives DENIED.
    """
    daemon = daemon_error(image, words)
    if runtime != "containerd":
        return f"rpc error: code = Unknown desc = Error response from daemon: {daemon}"
    return f"rpc error: code = {_containerd_code(daemon)} desc = {containerd_error(image, words)}"


def containerd_error(image: str, words: str | None) -> str:
    """containerd's `failed to pull and unpack image` text for a failed pull (see `pull_error`)."""
    host, path, tag, _ = split_reference(image)
    ref = image if host != "docker.io" or image.startswith("docker.io/") else f"docker.io/{path}:{tag}"
    daemon = daemon_error(image, words)
    url = f"https://{'registry-1.docker.io' if host == 'docker.io' else host}/v2/{path}/manifests/{tag}"
    if _containerd_code(daemon) == "NotFound":
        tail = f"{ref}: not found"
    elif daemon.startswith("pull access denied"):
        tail = (
            "pull access denied, repository does not exist or may require authorization: server message: "
            "insufficient_scope: authorization failed"
        )
    elif "unauthorized" in daemon:
        tail = f"unexpected status from HEAD request to {url}: 401 Unauthorized"
    elif "denied" in daemon:
        tail = f"unexpected status from HEAD request to {url}: 403 Forbidden"
    else:
        tail = daemon
    return f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": {tail}'


def _containerd_code(daemon: str) -> str:
    return "NotFound" if "manifest unknown" in daemon or "not found" in daemon else "Unknown"


def external_pull_error(image: str, words: str | None, runtime: str) -> str:
    """What `docker pull` / `minikube image pull` print for a failed pull on the node."""
    if runtime != "containerd":
        return f"Error response from daemon: {daemon_error(image, words)}"
    return containerd_error(image, words)
