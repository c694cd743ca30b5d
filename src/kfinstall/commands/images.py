"""`kfinstall images list|pull|save FILE|load FILE`: the container images of a release, and what to do with them.

The work is `install.images`' (the images of the selected components, `minikube image pull|save|load` several
at a time); this is the command around it. The action and its file are checked first: a typo is bad input
(exit 2) before the manifests are fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall.commands.frame import Command
from kfinstall.errors import KfError, UsageError

if TYPE_CHECKING:
    from kfinstall.install.images import Outcome
    from kfinstall.install.up import UpOptions
    from kfinstall.ui.messages import Voice

ACTIONS = ("list", "pull", "save", "load")
#: What each action did to an image, as its lines and JSON say it.
DONE = {"pull": "pulled", "save": "saved", "load": "loaded"}


@dataclass(frozen=True)
class ImagesRequest:
    action: str
    options: UpOptions
    file: Path | None = None
    concurrency: int = 4
    #: The line saying that the release and profile are what the minikube profile holds (None: not continued).
    continuing: str | None = None


@dataclass(frozen=True)
class Listed:
    release: str
    profile: str
    images: list[str]


@dataclass(frozen=True)
class Moved:
    """What `pull`, `save` or `load` did; `error` (every failed image counted) when one failed."""

    verb: str
    outcome: Outcome
    where: str = ""
    error: KfError | None = field(default=None)


def prepare(*, action: str, file: Path | None, concurrency: int, **options: Any) -> ImagesRequest:
    from kfinstall.commands.options import up_options

    if action not in ACTIONS:
        raise UsageError(f"unknown images action {action!r}", "use one of: list, pull, save, load")
    if action == "load" and file is None:
        raise UsageError("images load needs the tarball: kfinstall images load FILE", "e.g. images load kf.tar")
    if action == "save" and file is None:
        raise UsageError("images save needs a target file: kfinstall images save FILE", "e.g. images save kf.tar")
    if action == "save" and file is not None:
        check_save_target(file)
    if action in ("pull", "save", "load"):  # they work on the minikube profile: look for it before any clone,
        # and before a tarball is read (exit 3, as `status` says it)
        from kfinstall.commands.options import require_cluster

        require_cluster(f"images {action}", str(options["minikube_profile"]), None)
    continuing = None
    if action != "load":  # with no -k or --profile, the images of what the profile holds, as `up` and `plan` take it
        from kfinstall.commands.options import continue_install

        continuing, _ = continue_install(options)
    return ImagesRequest(action, up_options(**options), file, concurrency, continuing)


def check_save_target(file: Path) -> None:
    """A tarball kfinstall could not write is bad input now, not after minutes of `minikube image save`."""
    if file.is_dir():
        raise UsageError(f"images save: {file} is a directory", f"name a file, e.g. {file / 'kubeflow-images.tar'}")
    folder = next((parent for parent in file.parents if parent.exists()), None)
    if folder is not None and not folder.is_dir():
        raise UsageError(f"images save: cannot write {file}: {folder} is a file, not a directory", "name another path")


def images(request: ImagesRequest, say: Voice) -> Listed | Moved:
    from kfinstall import locks
    from kfinstall.install import images as release_images

    profile = request.options.minikube_profile
    verb = DONE.get(request.action, "")

    def show(image: str, message: str | None) -> None:
        if message is None:
            say.ok(f"{verb} {image}")
        else:
            say.failed(f"{image}: {message}")

    if request.action == "load":
        assert request.file is not None  # prepare: load needs its file
        with locks.hold(locks.cluster(profile, minikube=True)):
            return _moved(verb, release_images.load(profile, request.file, concurrency=request.concurrency,
                                                    on_result=show))  # fmt: skip
    from kfinstall.commands.options import plan_for

    if request.continuing:
        say.note(request.continuing)
    install, _, _ = plan_for(request.options)
    wanted = release_images.release_images(install, request.options)
    if request.action == "list":
        return Listed(install.release.tag, install.profile, wanted)
    if request.action == "pull":
        with locks.hold(locks.cluster(profile, minikube=True)):  # not while `up` or `down` changes the profile
            return _moved(verb, release_images.pull(profile, wanted, concurrency=request.concurrency, on_result=show))
    assert request.file is not None  # prepare: save needs its file
    outcome = release_images.save(profile, wanted, request.file, concurrency=request.concurrency, on_result=show)
    return _moved(verb, outcome, f" to {request.file}")


def _moved(verb: str, outcome: Outcome, where: str = "") -> Moved:
    error = None
    if outcome.failed:
        first = next(iter(outcome.failed.items()))
        error = KfError(
            f"{len(outcome.failed)} image(s) not {verb}{where} ({len(outcome.done)} were), e.g. {first[0]}: {first[1]}",
            "can this machine reach the registry? `kfinstall check --images` asks each one",
        )
    return Moved(verb, outcome, where, error)


def show(result: Listed | Moved) -> None:
    from kfinstall.ui import results

    if isinstance(result, Listed):
        results.show_image_list(result.images)
    elif result.error is None:
        results.show_images_moved(len(result.outcome.done), result.verb, result.where)


def as_json(result: Listed | Moved) -> dict[str, Any]:
    if isinstance(result, Listed):
        return {"release": result.release, "profile": result.profile, "images": result.images}
    return {result.verb: result.outcome.done, "failed": result.outcome.failed}


COMMAND = Command(log="images", prepare=prepare, run=images, show=show, json=as_json)
