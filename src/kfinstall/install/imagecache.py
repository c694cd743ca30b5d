"""Images that survive the cluster: `kfinstall down` keeps the release's images on the host, the next `up` loads them.

Most of a first install is image downloads (5-10 GB for `standard`). A researcher who deletes the cluster and makes
a new one should not download them again, so `down` saves each image of the release installed in the profile
(`minikube -p P image save IMAGE FILE`, one docker archive per image) into `images/` under the kfinstall cache
before `minikube delete`, and `up`, as soon as a new node is up, loads those the release needs (`minikube -p P
image load FILE`) in the background, critical chain first, and applies each component once its own images are on
the node (`Loading`), so before the kubelet would pull them. The second cluster then pulls nothing from the
registries for them, and its first components do not wait for the last image.

Why files and not a registry mirror (`minikube start --registry-mirror`, "Registry mirrors to pass to the Docker
daemon", cmd/minikube/cmd/start_flags.go): dockerd's mirrors serve Docker Hub only ("Only the central Hub can be
mirrored", docs.docker.com/docker-hub/mirror), while Kubeflow's images come from ghcr.io, gcr.io, quay.io and
others too; and a pull-through registry is one more daemon on a laptop. `minikube image save|load` needs nothing
but minikube. minikube's own `minikube cache add` warns that it "will be deprecated in upcoming versions, please
switch to \"minikube image load\"" (kubernetes/minikube cmd/minikube/cmd/cache.go).

What minikube does not tell: `image save` and `image load` exit 0 even when the transfer failed
(pkg/minikube/machine/cache_images.go `DoSaveImages`/`DoLoadImages`: "Live pushes are not considered a failure",
the error only in its own log). So a saved file is checked (a tar holding `manifest.json` or `index.json`) before it
becomes a cache entry, and after loading, `minikube image ls` says what is really on the node; whatever is missing
is simply pulled as without a cache, and its bad entry is dropped.

Disk: the cache holds only the images of the releases kfinstall installed, one list per minikube profile
(`profiles/P.json`, which each `up` replaces with the images of the release it installs); files no list names
are deleted when `down` has saved.
`down --purge-images` drops the profile's list (and the files only it named) instead of saving. Images pinned by
digest (`@sha256:`) are left to the kubelet: a docker archive carries tags, not the registry's digests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from kfinstall import runner
from kfinstall.cachedir import cache_root
from kfinstall.ui.words import size as size_text

#: `image save|load` processes at a time: each copies a whole image through the node's disk.
CONCURRENCY = 2
#: Seconds one image may take to save or load (multi-GB images, slow disks).
IMAGE_TIMEOUT = 1800.0
#: A `.partial` file older than this is left over from a run that was killed.
STALE_PARTIAL = 3600.0


def cache_dir() -> Path:
    return cache_root() / "images"


def entry_path(image: str) -> Path:
    """The file of one image: readable name, plus a hash so that two references never share a file."""
    readable = re.sub(r"[^A-Za-z0-9._-]", "_", image)[:100]
    return cache_dir() / f"{readable}-{hashlib.sha256(image.encode()).hexdigest()[:12]}.tar"


def cacheable(image: str) -> bool:
    """Digest references are not cached: a docker archive restores tags, not the registry's digests (its
    manifest.json names `RepoTags` only, moby image/tarexport/save.go; `docker load` gives a digest-pinned image no
    name the kubelet can find)."""
    return "@" not in image


def normalized(image: str) -> str:
    """An image reference as `minikube image ls` prints it for the docker runtime: docker.io/ and library/ added
    (kubernetes/minikube pkg/minikube/cruntime/docker.go `AddDockerIO`: a first part holding `.`, `:` or
    `localhost` is a registry)."""
    first, _, rest = image.partition("/")
    if rest and (any(c in first for c in ".:") or "localhost" in first):
        return image
    return f"docker.io/{image}" if rest else f"docker.io/library/{image}"


def node_images(profile: str) -> set[str] | None:
    """`minikube -p P image ls` once: the node's images, normalized; None when minikube cannot say."""
    result = runner.run("minikube", "-p", profile, "image", "ls", timeout=120)
    if not result.ok:
        return None
    return {normalized(line.strip()) for line in result.stdout.splitlines() if line.strip()}


def valid_archive(path: Path) -> bool:
    """Whether `path` looks like what `image save` writes: a tar with a docker (`manifest.json`) or OCI
    (`index.json`) index. Reads headers only."""
    try:
        with tarfile.open(path) as archive:
            return any(member.name.lstrip("./") in ("manifest.json", "index.json") for member in archive)
    except (tarfile.TarError, OSError, EOFError):
        return False


# the profiles' lists -------------------------------------------------------------------------------------------


def _profile_file(profile: str) -> Path:
    return cache_dir() / "profiles" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', profile)}.json"


def remembered(profile: str) -> list[str]:
    """The images `up` noted for `profile` (none: nothing noted, or an unreadable note)."""
    try:
        images = json.loads(_profile_file(profile).read_text()).get("images")
    except (OSError, ValueError, AttributeError):
        return []
    return [image for image in images if isinstance(image, str)] if isinstance(images, list) else []


def remember(profile: str, release: str, images: Sequence[str]) -> None:
    """Note the images of the release installed in `profile` (written only when it changed)."""
    target = _profile_file(profile)
    text = json.dumps({"release": release, "images": list(images)}, indent=1) + "\n"
    try:
        if target.is_file() and target.read_text() == text:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.write_text(text)
        partial.replace(target)
    except OSError:  # a read-only cache: down then keeps nothing, the next up pulls as before
        return


def forget(profile: str) -> int:
    """Drop `profile`'s list and the files no other list names; the bytes freed."""
    _profile_file(profile).unlink(missing_ok=True)
    return prune()


def prune() -> int:
    """Delete the cached files no profile's list names (and partial files of killed runs); the bytes freed."""
    folder = cache_dir()
    if not folder.is_dir():
        return 0
    lists = (folder / "profiles").glob("*.json")
    named = {entry_path(image).name for listed in lists for image in remembered(listed.stem)}
    freed = 0
    for path in folder.iterdir():
        partial = path.name.endswith(".partial")
        if not path.is_file() or (not partial and path.name in named):
            continue
        if partial and time.time() - path.stat().st_mtime < STALE_PARTIAL:
            continue  # maybe another kfinstall's save in progress
        if path.suffix == ".tar" or partial:
            freed += path.stat().st_size
            path.unlink(missing_ok=True)
    return freed


# down: keep ----------------------------------------------------------------------------------------------------


@dataclass
class Moved:
    """What a save or load did: the images done (with their bytes), those that fell through with why."""

    done: list[str] = field(default_factory=list)
    bytes: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    #: Images already in the cache (`keep`) or already on the node (`load`): nothing to do.
    already: int = 0
    #: `keep`: the release's images pinned by digest, which no archive can keep (`cacheable`): the next `up` pulls
    #: them, and `down` says so rather than letting a user believe the next cluster downloads nothing.
    digest_pinned: list[str] = field(default_factory=list)


def _each(images: Sequence[str], one: Callable[[str], None], cancel: threading.Event | None = None) -> None:
    def guarded(image: str) -> None:
        if cancel is None or not cancel.is_set():
            one(image)

    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="imagecache") as pool:
        list(pool.map(guarded, images))


def keep(profile: str, say: Callable[[str], None]) -> Moved:
    """Save the images `up` noted for `profile` that its node has and the cache lacks (`minikube image save`),
    `CONCURRENCY` at a time; a failure is only said (the next `up` pulls that image). The profile must run."""
    noted = remembered(profile)
    wanted = [image for image in noted if cacheable(image)]
    moved = Moved(digest_pinned=sorted(image for image in noted if not cacheable(image)))
    if not wanted:
        return moved
    present = node_images(profile)
    if present is None:
        say("minikube cannot list the node's images: none kept for the next `up`")
        return moved
    on_node = [image for image in wanted if normalized(image) in present]
    todo = [image for image in on_node if not entry_path(image).is_file()]
    moved.already = len(on_node) - len(todo)
    if todo:
        say(f"keeping {len(todo)} images in {cache_dir()} for the next `up` ({moved.already} kept already)")
    lock = threading.Lock()
    full = threading.Event()  # a full disk: stop trying

    def save(image: str) -> None:
        target = entry_path(image)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            result = runner.run("minikube", "-p", profile, "image", "save", image, str(partial), timeout=IMAGE_TIMEOUT)
            if result.ok and partial.is_file() and valid_archive(partial):
                size = partial.stat().st_size
                partial.replace(target)
                with lock:
                    moved.done.append(image)
                    moved.bytes += size
                    done, total, size_so_far = len(moved.done), len(todo), moved.bytes
                say(f"kept {image} ({done}/{total}, {size_text(size_so_far)})")
                return
            why = _last_line(result.output) if not result.ok else "minikube wrote no image archive"
        except OSError as error:
            why = error.strerror or str(error)
            full.set()
        finally:
            partial.unlink(missing_ok=True)  # interrupted or failed: nothing half-written stays
        with lock:
            moved.failed[image] = why
        say(f"could not keep {image} ({why}); the next `up` pulls it")

    _each(todo, save, full)
    prune()
    return moved


# up: load ------------------------------------------------------------------------------------------------------


def cached_of(wanted: Iterable[str]) -> list[str]:
    """The images of `wanted` (once each, in its order) the cache holds an entry for."""
    return [image for image in dict.fromkeys(wanted) if cacheable(image) and entry_path(image).is_file()]


def load(
    profile: str,
    wanted: Iterable[str],
    report: Callable[[str, int, int, int], None],
    settled: Callable[[str], None] = lambda image: None,
    cancel: threading.Event | None = None,
) -> Moved:
    """Load into the node the cached images of `wanted` it lacks (in `wanted`'s order: critical chain first),
    `CONCURRENCY` at a time, and check with `minikube image ls` after each that it arrived (before it is said
    settled: a pod started later must find it, or know it comes from the registry); an entry that is not a valid
    archive, or did not load, is dropped (the kubelet pulls that image as without a cache).

    `report(image, done, total, bytes)` is told after each load; `settled(image)` once an image needs nothing
    more from here (on the node already, loaded, or failed: the kubelet may then look for it). Nothing cached: no
    minikube call at all. `cancel` set: the loads not begun yet are not begun.
    """
    cached = cached_of(wanted)
    moved = Moved()
    if not cached:
        return moved
    present = node_images(profile) or set()
    todo = [image for image in cached if normalized(image) not in present]
    moved.already = len(cached) - len(todo)
    for image in cached:
        if image not in todo:
            settled(image)
    lock = threading.Lock()

    def one(image: str) -> None:
        try:
            path = entry_path(image)
            if not valid_archive(path):
                path.unlink(missing_ok=True)
                with lock:
                    moved.failed[image] = "the cached file is not an image archive"
                return
            size = path.stat().st_size
            result = runner.run("minikube", "-p", profile, "image", "load", str(path), timeout=IMAGE_TIMEOUT)
            # `image load` exits 0 when it failed: the node says whether it arrived, before anything may use it
            listing = node_images(profile) if result.ok else None
            arrived = listing is None or normalized(image) in listing  # (minikube cannot say: taken as loaded)
            with lock:
                if not result.ok:
                    moved.failed[image] = _last_line(result.output) or f"exit code {result.exit_code}"
                    return
                if not arrived:
                    moved.failed[image] = "minikube did not load it"
                    path.unlink(missing_ok=True)
                    return
                moved.done.append(image)
                moved.bytes += size
                done, total, size_so_far = len(moved.done), len(todo), moved.bytes
            report(image, done, total, size_so_far)
        finally:
            settled(image)

    _each(todo, one, cancel)
    return moved


class Loading:
    """`load` in the background, so that each component is applied once its own cached images are on the node
    (`wait_for`) rather than every component after every image: the critical chain's images come first, and the
    rest load while the first components start. A component applied before its image is loaded would have the
    kubelet pull that image from the registry (the node lacks it while `docker load` runs: dockerd's pull knows
    nothing of a load in progress), which is what the cache is for avoiding."""

    def __init__(self, profile: str, wanted: Sequence[str], report: Callable[[str, int, int, int], None]) -> None:
        self._pending = set(cached_of(wanted))
        self._changed = threading.Condition()
        self._cancel = threading.Event()
        self.moved = Moved()
        self._thread = threading.Thread(target=self._run, args=(profile, list(wanted), report), daemon=True,
                                        name="imagecache-load")  # fmt: skip

    def start(self) -> Loading:
        self._thread.start()
        return self

    def _run(self, profile: str, wanted: list[str], report: Callable[[str, int, int, int], None]) -> None:
        try:
            self.moved = load(profile, wanted, report, self._settle, self._cancel)
        finally:
            with self._changed:
                self._pending.clear()  # however it ended: nobody waits for an image that will not come
                self._changed.notify_all()

    def _settle(self, image: str) -> None:
        with self._changed:
            self._pending.discard(image)
            self._changed.notify_all()

    def waits_for(self, images: Iterable[str]) -> bool:
        with self._changed:
            return any(image in self._pending for image in images)

    def wait_for(self, images: Iterable[str], check: Callable[[], None]) -> None:
        """Return once none of `images` is still to be loaded; `check()` (which may raise, e.g. on a cancelled
        install) is called between waits."""
        wanted = set(images)
        with self._changed:
            while wanted & self._pending:
                self._changed.wait(0.25)
                check()

    def finish(self, cancel: bool = False) -> Moved:
        """Wait for the loads (with `cancel`: those not begun are not begun) and say what they did."""
        if cancel:
            self._cancel.set()
        if self._thread.is_alive() or self._thread.ident is not None:
            self._thread.join()
        return self.moved


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
