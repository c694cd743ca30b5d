"""`kfinstall down`: delete the minikube cluster, or (`--keep-cluster`, `--context`) only what `up` installed.

Removing components from a cluster that stays must never touch anything kfinstall did not create, so every
object to delete is found by the `kfinstall.dev/component` label that `up` put on it and deleted *by name*
(`kubectl delete -f -` with the exact list), never by kind or namespace. The order undoes `up`'s:

1. webhook configurations first: once a webhook's Deployment is gone, a webhook that matches DELETE (or one
   with failurePolicy Fail) would block the deletion of everything it guards;
2. components in reverse install order, each one's namespaced objects, then its cluster-scoped ones;
3. namespaces (only those carrying our label), waiting until they are gone;
4. CRDs last, so the custom resources above are deleted while their controllers and webhooks could still act.

Then the install record goes.

Both ways delete things, so `down` asks first (or takes `--yes`); without a terminal to ask on, it refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kfinstall import locks, runner
from kfinstall.commands.frame import Command
from kfinstall.errors import Declined, KfError, UsageError
from kfinstall.kube import labelled
from kfinstall.kube import record as install_record
from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.labelled import Ref
from kfinstall.manifests.objects import COMPONENT_LABEL
from kfinstall.minikube import cluster
from kfinstall.ui.words import count

if TYPE_CHECKING:
    from kfinstall.install.imagecache import Moved
    from kfinstall.ui.messages import Voice

Obj = dict[str, Any]

_WEBHOOK_KINDS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})


@dataclass(frozen=True)
class Step:
    """One batch of deletions, reported as one line."""

    title: str
    refs: tuple[Ref, ...]


def ref_of(obj: Obj) -> Ref | None:
    metadata = obj.get("metadata") or {}
    component = (metadata.get("labels") or {}).get(COMPONENT_LABEL)
    if not component or not metadata.get("name"):
        return None
    return Ref(obj.get("apiVersion", ""), obj.get("kind", ""), metadata["name"], metadata.get("namespace"), component)


def component_order(record: install_record.InstallRecord | None, labelled: set[str]) -> list[str]:
    """Components in the order `up` installed them (dependencies first), as the record keeps it.

    Records without that order (older kfinstall) fall back to when each component was applied and became ready,
    which is a dependency order only to the second. Components found by label but missing from the record (an
    interrupted `up`) count as the newest.
    """
    known = record.components if record else {}
    if record is not None and record.order:
        ordered = [c for c in record.order if c in known or c in labelled]
    else:
        ordered = sorted(known, key=lambda c: (known[c].applied_at, known[c].ready_at or "~", c))
    return ordered + sorted(labelled - set(ordered))


def removal_steps(objects: list[Obj], record: install_record.InstallRecord | None) -> list[Step]:
    """The deletions in order (pure): webhooks, components newest first, our namespaces, CRDs."""
    refs: dict[tuple[str, str, str, str | None], Ref] = {}
    for obj in objects:
        ref = ref_of(obj)
        if ref is not None:  # the same object listed under two API groups is deleted once
            refs.setdefault((ref.kind, ref.api_version.split("/")[0], ref.name, ref.namespace), ref)
    everything = list(refs.values())
    webhooks = [r for r in everything if r.kind in _WEBHOOK_KINDS]
    namespaces = [r for r in everything if r.kind == "Namespace"]
    crds = [r for r in everything if r.kind == "CustomResourceDefinition"]
    last = {id(r) for r in [*webhooks, *namespaces, *crds]}
    rest = [r for r in everything if id(r) not in last]
    steps = []
    if webhooks:
        steps.append(Step("webhook configurations", tuple(webhooks)))
    for component in reversed(component_order(record, {r.component for r in everything})):
        namespaced = tuple(r for r in rest if r.component == component and r.namespace)
        cluster_scoped = tuple(r for r in rest if r.component == component and not r.namespace)
        if namespaced or cluster_scoped:
            steps.append(Step(component, namespaced + cluster_scoped))
    if namespaces:
        steps.append(Step("namespaces", tuple(namespaces)))
    if crds:
        steps.append(Step("custom resource definitions", tuple(crds)))
    return steps


@dataclass(frozen=True)
class Removed:
    components: tuple[str, ...]
    objects: int
    record: bool


def remove_components(kubectl: Kubectl, say: Callable[[str], None], timeout: float = 300) -> Removed:
    """Delete every object kfinstall labelled on the cluster, in reverse install order, then the record."""
    with locks.hold(locks.cluster(kubectl.context or "", minikube=False), say=say):  # not while an `up` applies
        reading = install_record.read_lenient(
            kubectl
        )  # an unreadable record must not block the way out: delete by label
        record = reading.record
        if reading.problem is not None:
            say(f"the install record is unreadable ({reading.problem}): removing what kfinstall labelled")
        objects = labelled.labelled_objects(kubectl)
        steps = removal_steps(objects, record)
        for step in steps:
            say(f"removing {step.title} ({count(len(step.refs), 'object')})")
            _delete(kubectl, step, timeout)
        had_record = record is not None or reading.problem is not None
        if had_record:
            install_record.delete(kubectl)
    components = tuple(dict.fromkeys(ref.component for step in steps for ref in step.refs))
    return Removed(components, sum(len(step.refs) for step in steps), had_record)


def _delete(kubectl: Kubectl, step: Step, timeout: float) -> None:
    payload = json.dumps({"apiVersion": "v1", "kind": "List", "items": [ref.manifest() for ref in step.refs]})
    result = kubectl.run(
        "delete", "-f", "-", "--ignore-not-found", "--wait=true", f"--timeout={int(timeout)}s",
        input=payload, timeout=timeout + 30,
    )  # fmt: skip
    if not result.ok:
        raise KfError(
            f"removing {step.title} failed: {result.output}",
            "run the same `kfinstall down` again: it continues with what is left",
        )


#: What `delete_cluster` says when the profile is not there.
NOTHING_TO_DELETE = "there is no minikube profile {profile!r}: nothing to delete"


def delete_cluster(profile: str, before: Callable[[str], None] | None = None) -> str:
    """`minikube delete -p PROFILE`; returns what happened. `before(status)` runs first, under the same lock, when
    the profile exists (`down` keeps its images then)."""
    with locks.hold(locks.cluster(profile, minikube=True)):  # not under an `up` that is installing into it
        status = cluster.profile_state(profile).status
        if status == "missing":
            return NOTHING_TO_DELETE.format(profile=profile)
        if before is not None:
            before(status)
        result = runner.run("minikube", "delete", "-p", profile, timeout=600)
    if not result.ok:
        raise KfError(f"minikube delete -p {profile} failed: {result.output}", "the full output is in the log file")
    return f"deleted minikube profile {profile!r}"


# the command ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DownRequest:
    minikube_profile: str
    context: str | None
    #: Remove only what kfinstall installed (`--keep-cluster`, implied by `--context`); else delete the profile.
    keep_cluster: bool
    timeout: float
    #: Drop the images kept for this profile instead of keeping them for the next `up` (`--purge-images`).
    purge_images: bool = False

    @property
    def target(self) -> str:
        return f"context {self.context or self.minikube_profile!r}"

    @property
    def question(self) -> str:
        if self.keep_cluster:
            return (f"Remove every Kubeflow component kfinstall installed on {self.target} (their custom resources, "
                    "e.g. notebooks and pipeline runs, go with their CRDs)?")  # fmt: skip
        return (f"Delete the minikube profile {self.minikube_profile!r} and everything in it (notebooks, their "
                "volumes, pipeline history)?")  # fmt: skip


@dataclass(frozen=True)
class Down:
    request: DownRequest
    #: What `minikube delete` did (the profile deleted, or there was none); None with `keep_cluster`.
    cluster: str | None = None
    removed: Removed | None = None
    #: Whether there was anything to delete: a missing profile, or no labelled object and no record.
    nothing: bool = False
    #: The release's images kept in the cache for the next `up` (None: not tried), or the bytes `--purge-images`
    #: freed.
    kept: Moved | None = None
    purged: int | None = None
    image_cache: str = ""

    @property
    def exit_code(self) -> int:
        """3 when there was nothing to delete (errors.py `EXIT_NOT_INSTALLED`): the end state is the same, but a
        script learns it deleted nothing; still not a failure."""
        from kfinstall.errors import EXIT_NOT_INSTALLED

        return EXIT_NOT_INSTALLED if self.nothing else 0

    def as_dict(self) -> dict[str, Any]:
        removed = self.removed
        return {
            "minikube_profile": None if self.request.keep_cluster else self.request.minikube_profile,
            "context": self.request.context or self.request.minikube_profile,
            "keep_cluster": self.request.keep_cluster,
            "deleted_cluster": not self.request.keep_cluster and not self.nothing,
            "removed": None
            if removed is None
            else {"components": list(removed.components), "objects": removed.objects, "record": removed.record},
            "message": self.cluster,
            "images": None
            if self.kept is None and self.purged is None
            else {
                "kept": [] if self.kept is None else sorted(self.kept.done),
                "already_kept": 0 if self.kept is None else self.kept.already,
                "bytes": 0 if self.kept is None else self.kept.bytes,
                "failed": {} if self.kept is None else self.kept.failed,
                "digest_pinned": [] if self.kept is None else self.kept.digest_pinned,
                "purged_bytes": self.purged,
            },
            "nothing_installed": self.nothing,
            "exit_code": self.exit_code,
        }


def prepare(
    *,
    minikube_profile: str,
    context: str | None,
    keep_cluster: bool,
    yes: bool,
    timeout: float,
    purge_images: bool = False,
) -> DownRequest:
    """The options checked and the deletion confirmed, before anything is deleted (or logged)."""
    from kfinstall.minikube.units import check_seconds
    from kfinstall.ui import prompts

    check_seconds(timeout)  # `-1` used to delete everything, then report failure
    keep_cluster = keep_cluster or context is not None
    if purge_images and keep_cluster:
        raise UsageError("--purge-images goes with deleting the cluster", "drop --keep-cluster/--context, or it")
    request = DownRequest(minikube_profile, context, keep_cluster, timeout, purge_images)
    if not yes:
        if not prompts.can_ask():
            raise UsageError(
                "`kfinstall down` deletes things and there is no terminal to ask for confirmation",
                "add --yes to confirm",
            )
        if not prompts.confirm(request.question):
            from kfinstall.ui import results

            kept = request.target if request.keep_cluster else f"minikube profile {request.minikube_profile!r}"
            results.declined_down(kept)  # said here: the frame prints nothing for a Declined (exit 1)
            raise Declined()
    return request


def down(request: DownRequest, say: Voice) -> Down:
    if not request.keep_cluster:
        from kfinstall.install import imagecache

        profile, kept = request.minikube_profile, []

        def keep_images(status: str) -> None:
            if request.purge_images:
                return
            if status != "running":  # minikube saves images only from a running node
                if imagecache.remembered(profile):
                    say.warn(f"minikube profile {profile!r} is {status}: its images cannot be kept for the next `up`")
                return
            kept.append(imagecache.keep(profile, say.step))

        said = delete_cluster(profile, before=keep_images)
        forget_sessions(profile)
        purged = imagecache.forget(profile) if request.purge_images else None
        nothing = said == NOTHING_TO_DELETE.format(profile=profile)
        return Down(request, cluster=said, nothing=nothing, kept=kept[0] if kept else None, purged=purged,
                    image_cache=str(imagecache.cache_dir()))  # fmt: skip
    from kfinstall.commands.options import require_cluster

    require_cluster("down --keep-cluster", request.minikube_profile, request.context)
    kubectl = Kubectl(request.context or request.minikube_profile)
    removed = remove_components(kubectl, say.step, request.timeout)
    forget_sessions(request.context or request.minikube_profile)
    return Down(request, removed=removed, nothing=not removed.objects and not removed.record)


def forget_sessions(context: str) -> None:
    """`kfinstall client`'s cookie and token for this cluster go with what they opened: a session of a deleted
    install is useless, and a secret kept for nothing."""
    import shutil

    from kfinstall.cachedir import session_dir

    shutil.rmtree(session_dir(context), ignore_errors=True)


def show(result: Down) -> None:
    from kfinstall.ui import results

    results.show_down(result)


COMMAND = Command(log="down", prepare=prepare, run=down, show=show, json=Down.as_dict)
