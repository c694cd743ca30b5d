"""Container images of a release: list them, pull them into minikube ahead of time, carry them in a tarball.

On a real machine most of an install is image pulls (5-10 GB for `standard`, pulled one pod at a time as the
scheduler gets to it). Pulling every image up front, several at once, while the control plane is being applied
overlaps the two; saving them to a tarball lets a researcher who recreates clusters, or works offline, load them
into a fresh minikube instead of downloading them again.

Everything goes through `minikube -p PROFILE image pull|save|load` (the container runtime inside minikube,
whichever it is), never the host's docker. A failed pull is a warning: the kubelet pulls it again anyway.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kfinstall import runner
from kfinstall.errors import KfError
from kfinstall.install.events import Event, Reporter

if TYPE_CHECKING:
    from kfinstall.install.up import InstallPlan, UpOptions

#: Pulls at a time: image pulls are network-bound, but each is a process and minikube's runtime serialises some.
DEFAULT_CONCURRENCY = 4
#: Seconds one image may take to pull or save (multi-GB images on a slow line).
IMAGE_TIMEOUT = 1800.0
#: The index inside a tarball written by `save`: {"images": {IMAGE: MEMBER}}.
INDEX = "kfinstall-images.json"


@dataclass
class Outcome:
    """What happened to each image: done, or failed with minikube's message."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def images_of(objects: Iterable[dict]) -> list[str]:
    """Every image the workloads in `objects` run, once each, in order of first appearance."""
    from kfinstall.manifests.objects import images

    return images(objects)


def _for_each(
    images: Sequence[str],
    command: Callable[[str], runner.Result],
    concurrency: int,
    on_result: Callable[[str, str | None], None] | None,
    cancel: threading.Event | None = None,
) -> Outcome:
    outcome = Outcome()
    lock = threading.Lock()

    def one(image: str) -> None:
        if cancel is not None and cancel.is_set():
            return
        result = command(image)
        message = None if result.ok else (_last_line(result.output) or f"exit code {result.exit_code}")
        with lock:
            if message is None:
                outcome.done.append(image)
            else:
                outcome.failed[image] = message
        if on_result:
            on_result(image, message)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="image") as pool:
        list(pool.map(one, images))
    return outcome


def pull(
    profile: str,
    images: Sequence[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: Callable[[str, str | None], None] | None = None,
    cancel: threading.Event | None = None,
) -> Outcome:
    """`minikube -p PROFILE image pull IMAGE` for each image, `concurrency` at a time."""
    return _for_each(
        images,
        lambda image: runner.run("minikube", "-p", profile, "image", "pull", image, timeout=IMAGE_TIMEOUT),
        concurrency,
        on_result,
        cancel,
    )


def save(
    profile: str,
    images: Sequence[str],
    target: Path,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: Callable[[str, str | None], None] | None = None,
) -> Outcome:
    """Write `images` (as minikube has them) into one tarball: a tar per image plus an index of them.

    `minikube image save` writes one image per archive, so the tarball holds those archives as they are and
    `load` hands them back to `minikube image load` unchanged. Images minikube does not have are reported.
    """
    members = {image: f"{number:04d}.tar" for number, image in enumerate(images)}
    with tempfile.TemporaryDirectory(prefix="kfinstall-images-") as staging:
        outcome = _for_each(
            images,
            lambda image: runner.run(
                "minikube",
                "-p",
                profile,
                "image",
                "save",
                image,
                str(Path(staging) / members[image]),
                timeout=IMAGE_TIMEOUT,
            ),
            concurrency,
            on_result,
        )
        saved = [image for image in images if image in outcome.done]
        if not saved:
            raise KfError(
                f"no image could be saved from minikube profile {profile!r}",
                "pull them first with `kfinstall images pull` (or install with `kfinstall up`)",
            )
        partial = target.with_name(f".{target.name}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(partial, "w") as archive:
                index = json.dumps({"images": {image: members[image] for image in saved}}, indent=1).encode()
                info = tarfile.TarInfo(INDEX)
                info.size = len(index)
                archive.addfile(info, io.BytesIO(index))
                for image in saved:
                    archive.add(Path(staging) / members[image], arcname=members[image])
            partial.replace(target)
        except OSError as error:  # a read-only disk, a full one, a directory that went away: nothing half-written
            partial.unlink(missing_ok=True)
            raise KfError(
                f"cannot write {target}: {error.strerror or error}",
                "free some space or choose another path; the images stay in minikube (run the same command again)",
            ) from None
    return outcome


def load(
    profile: str,
    source: Path,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_result: Callable[[str, str | None], None] | None = None,
) -> Outcome:
    """Load every image of a tarball written by `save` into minikube (`minikube image load ARCHIVE`)."""
    if not source.is_file():
        raise KfError(f"{source} does not exist", "write one with `kfinstall images save FILE`")
    with tempfile.TemporaryDirectory(prefix="kfinstall-images-") as staging, _open(source) as archive:
        index = _index(archive, source)
        for member in index.values():
            _extract(archive, member, Path(staging) / member)
        return _for_each(
            list(index),
            lambda image: runner.run(
                "minikube", "-p", profile, "image", "load", str(Path(staging) / index[image]), timeout=IMAGE_TIMEOUT
            ),
            concurrency,
            on_result,
        )


def _extract(archive: tarfile.TarFile, member: str, target: Path) -> None:
    """Copy one regular-file member out (never trusting its path or type: the names were checked in the index)."""
    try:
        stream = archive.extractfile(member)
    except KeyError:
        stream = None
    if stream is None:
        raise KfError(f"the image tarball lacks {member}, which its index names", "write it again with `images save`")
    with stream, open(target, "wb") as out:
        shutil.copyfileobj(stream, out)


def _open(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source)
    except (tarfile.TarError, OSError) as error:
        raise KfError(
            f"{source} is not an image tarball: {error}", "write one with `kfinstall images save FILE`"
        ) from None


def _index(archive: tarfile.TarFile, source: Path) -> dict[str, str]:
    try:
        member = archive.extractfile(INDEX)
        images = json.loads(member.read()).get("images") if member else None
    except (KeyError, ValueError):
        images = None
    if not isinstance(images, dict) or not all(
        isinstance(name, str) and "/" not in name and not name.startswith(".") for name in images.values()
    ):
        raise KfError(
            f"{source} was not written by `kfinstall images save` (no valid {INDEX})",
            "load a plain image archive with `minikube image load FILE`",
        )
    return images


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


class Prefetch:
    """Pulls run in the background while `up` applies the control plane; failures are notes, never fatal.

    `wanted` gives the images; it is called in the background thread, so it may wait for the builds that name
    them (a build failure then pulls nothing: the install reports it).
    """

    def __init__(self, profile: str, wanted: Callable[[], Sequence[str]], report: Reporter, concurrency: int) -> None:
        self.profile = profile
        self.wanted = wanted
        self.images: list[str] = []
        self.report = report
        self.concurrency = concurrency
        self.cancel = threading.Event()
        self.outcome = Outcome()
        self._thread = threading.Thread(target=self._run, name="prefetch", daemon=True)

    def start(self) -> Prefetch:
        self._thread.start()
        return self

    def _run(self) -> None:
        pulled = [0]
        counting = threading.Lock()  # the pulls report from their own threads

        def noted(image: str, message: str | None) -> None:
            with counting:
                pulled[0] += 1
                self.report(Event("progress", "pulling images into minikube", task="images",
                                  ready=pulled[0], total=len(self.images)))  # fmt: skip
            if message is not None:
                self.report(Event("note", f"could not pre-pull {image} ({message}); the kubelet will pull it"))

        try:
            wanted = list(self.wanted())
        except Exception:  # a failed build is reported by the install itself
            return
        if self.cancel.is_set():
            return
        self.images = missing(self.profile, wanted)
        if len(self.images) < len(wanted):
            self.report(Event("note", f"{len(wanted) - len(self.images)} of the {len(wanted)} images are on the node "
                                      "already: not pulled again"))  # fmt: skip
        if not self.images:
            return
        pulling = f"pulling {len(self.images)} images into minikube in the background"
        self.report(Event("begin", pulling, task="images", ready=0, total=len(self.images)))
        self.outcome = pull(
            self.profile, self.images, concurrency=self.concurrency, on_result=noted, cancel=self.cancel
        )

    def finish(self, *, cancel: bool = False) -> None:
        """Wait for the pulls (after `cancel`, only for those already running) and say how many succeeded."""
        if cancel:
            self.cancel.set()
        self._thread.join()
        if not cancel and self.images:
            self.report(Event("step", f"pre-pulled {len(self.outcome.done)}/{len(self.images)} images", task="images"))


def missing(profile: str, wanted: Sequence[str]) -> list[str]:
    """The images of `wanted` the node lacks, in `wanted`'s order, from one `minikube image ls` (all of them when
    minikube cannot say: a pull of a present image only costs its manifest request)."""
    from kfinstall.install.imagecache import node_images, normalized

    present = node_images(profile)
    return [image for image in wanted if present is None or normalized(image) not in present]


def release_images(install: InstallPlan, options: UpOptions) -> list[str]:
    """The images of the selected components, from their builds (fetched and built like `up` does), with the
    release's image substitutions applied: the images `up` will make the cluster pull."""
    return list(planned_images(install, options))


def planned_images(install: InstallPlan, options: UpOptions) -> dict[str, list[str]]:
    """Each image the install would pull -> the ids of the components that run it (`check --images` names them).

    The one place that says which images an install pulls: `images list|pull|save` and `check --images` read it,
    with the release's image substitutions applied as `up` applies them, so what is listed and checked is what
    the cluster will pull.
    """
    from kfinstall.install.builds import fetch_manifests
    from kfinstall.manifests import build
    from kfinstall.manifests import objects as manifest

    checkout = fetch_manifests(install, options)
    targets = [build.BuildTarget(c.id, path) for c in install.selection.components for path in c.paths]
    built = build.objects_all(checkout.path, targets, commit=checkout.commit)
    users: dict[str, list[str]] = {}
    for target in targets:
        for image in images_of(manifest.substitute_images(built[target], install.release.substitute_image)):
            if target.component not in users.setdefault(image, []):
                users[image].append(target.component)
    return users
