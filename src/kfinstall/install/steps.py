"""The steps of `kfinstall up`, as an explicit list: `steps(plan, options)` decides which run, `run_up` runs them.

Modelled on kind's `create cluster` (kubernetes-sigs/kind pkg/cluster/internal/create/create.go builds the list
of actions from the options and runs them in order; pkg/cluster/internal/create/actions/* are one small action
each behind one interface). Each step here has a name, a one-line description and `run(ctx)`; it reports its own
line when it is done. `steps` is pure, so `kfinstall plan` prints exactly the list `up` runs; the loop writes each
step's name to the log as it starts.

The builds run in the background from the moment the manifests are fetched, and each component is applied as
soon as its own build is done and its dependencies are ready. Starting minikube waits for every build: a broken
or offline build then costs seconds, not a minikube start. On a running cluster a build failure stops the
install where it is (what was applied stays; a re-run resumes).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kfinstall import __version__, locks
from kfinstall.errors import KfError, UsageError
from kfinstall.install.builds import ComponentBuilds, fetch_manifests, local_checkout
from kfinstall.install.context import UpContext
from kfinstall.install.events import Event
from kfinstall.install.installer import Installer
from kfinstall.install.up import UpResult
from kfinstall.install.upgrade_steps import BackupUserData, DumpDatabase, PrepareUpgrade, Prune
from kfinstall.install.work import ComponentWork, Work
from kfinstall.kube import record as install_record
from kfinstall.kube.presence import Presence
from kfinstall.manifests import login
from kfinstall.minikube import cluster
from kfinstall.ui.words import count

if TYPE_CHECKING:
    from kfinstall.install.up import InstallPlan, UpOptions
    from kfinstall.manifests.checkout import Checkout

log = logging.getLogger("kfinstall.install.steps")


class Step(Protocol):
    """One step of `up`: `name` (what the log and `plan --json` call it), `description` (one line for people)."""

    name: str
    description: str

    def run(self, ctx: UpContext) -> None: ...


def steps(plan: InstallPlan, options: UpOptions) -> list[Step]:
    """The steps `up` runs for `plan` and `options`, in order (pure: `kfinstall plan` prints this list)."""
    todo: list[Step] = []
    if not options.skip_checks:
        todo.append(CheckPrerequisites())
    todo.append(ShowPlan())
    if plan.cluster is None:
        todo.append(UseContext(description=f"install into the existing cluster of kubeconfig context {plan.context!r}"))
    if options.manifests_dir is not None:
        todo.append(FetchManifests(description=f"use the local manifests checkout {options.manifests_dir}"))
    else:
        fetched = f"fetch the manifests of {plan.release.tag} (commit {plan.release.commit[:12]}) into the cache"
        todo.append(FetchManifests(description=f"{fetched}, or find them there"))
    count = len(plan.selection.components)
    todo.append(StartBuilds(description=f"build the {count} components in the background, longest chains first"))
    todo.append(LockCluster(description=f"hold the lock of {plan.context!r}: one kfinstall at a time changes it"))
    upgrade = plan.upgrade
    if upgrade is not None:
        todo.append(BackupUserData(description="save your resources (Profiles, Notebooks, PodDefaults, claims, every "
                                               "custom resource kfinstall did not apply) as YAML under the state "
                                               "directory, before anything changes"))  # fmt: skip
        if upgrade.databases:
            names = ", ".join(f"{c} ({', '.join(d.databases)} in {d.namespace}/{d.deployment})"
                              for c, d in upgrade.databases)  # fmt: skip
            todo.append(DumpDatabase(description=f"dump the MySQL database of {names} with mysqldump into the same "
                                                 "directory; a failed dump stops the upgrade here"))  # fmt: skip
    if plan.cluster is not None:
        spec = plan.cluster
        if upgrade is not None and upgrade.kubernetes is not None:
            todo.append(StartMinikube(description=f"upgrade minikube profile {spec.profile!r} in place from "
                                                  f"Kubernetes {upgrade.kubernetes[0]} to {upgrade.kubernetes[1]} "
                                                  "once every build succeeded (minikube cannot go back)",
                                      upgrade_kubernetes=True))  # fmt: skip
        else:
            todo.append(StartMinikube(description=f"start minikube profile {spec.profile!r} (Kubernetes "
                                                  f"{spec.kubernetes_version}) once every build succeeded, or reuse "
                                                  "it when it runs and is compatible"))  # fmt: skip
        if spec.gpus:  # minikube hands over the GPUs; pods get them once the device plugin runs
            todo.append(WaitForGpus())
        todo.append(LoadCachedImages())  # started before anything is applied: before the kubelet pulls
    todo.append(ReadRecord())
    if upgrade is not None:
        notes = upgrade.notes
        deletions = len(notes.deletes) if notes else 0  # (`count` is the number of components here)
        named = f"the {deletions} deletion(s) of the release's upgrade notes, " if deletions else ""
        replaced = "then delete the objects whose immutable fields the new build changes (applied anew next)"
        todo.append(PrepareUpgrade(description=f"from {upgrade.installed}: {named}{replaced}"))
    if options.prefetch_images:
        todo.append(PrefetchImages() if plan.cluster is not None else PrefetchNeedsMinikube())
    todo.append(InstallComponents(description=f"apply the {count} components in dependency order, each once its "
                                              "dependencies are ready (or served, where the pins say that is "
                                              "enough), and wait until each is ready"))  # fmt: skip
    if plan.cluster is not None:
        todo.append(FinishCachedImages())
    if options.prefetch_images and plan.cluster is not None:
        todo.append(FinishPrefetch())
    if upgrade is not None:
        removed = f" (components removed: {', '.join(upgrade.removed)})" if upgrade.removed else ""
        pruned = "delete what kfinstall applied before and the new build no longer has, by its labels, CRDs last"
        todo.append(Prune(description=f"{pruned}; never a volume or the Profiles CRD{removed}"))
    todo.append(WriteRecord())
    if plan.cluster is not None:
        todo.append(RememberImages())
    return todo


def check_inputs(plan: InstallPlan, options: UpOptions) -> Checkout | None:
    """What `up` refuses before it opens a log or touches a cache: a `--context` that does not exist, a
    `--manifests-dir` that is not a manifests checkout (returned, checked, for the fetch step)."""
    if plan.cluster is None and not cluster.context_exists(plan.context):
        raise UsageError(
            f"kubeconfig context {plan.context!r} does not exist", "list them with `kubectl config get-contexts`"
        )
    return local_checkout(plan, options)


def run_up(ctx: UpContext, todo: Sequence[Step]) -> UpResult:
    """Run `todo` in order (the log names each step as it starts); raise KfError on the first failure.

    What the steps pushed on `ctx.exits` (the cluster lock, the background builds) is undone however they end.
    """
    with ctx.exits:
        for number, step in enumerate(todo, 1):
            log.info("step %d/%d %s: %s", number, len(todo), step.name, step.description)
            began = time.monotonic()
            try:
                step.run(ctx)
            except BaseException as error:
                log.info("step %s stopped after %.1fs: %s", step.name, time.monotonic() - began, type(error).__name__)
                raise
            log.info("step %s done in %.1fs", step.name, time.monotonic() - began)
        return _result(ctx)


def _result(ctx: UpContext) -> UpResult:
    assert ctx.builds is not None and ctx.writer is not None
    record = ctx.writer.record
    return UpResult(
        ctx.plan.release.tag,
        ctx.plan.context,
        ctx.installed,
        ctx.skipped,
        time.monotonic() - ctx.started,
        record.default_password,
        record.email,
        _user_namespace(ctx.builds.wait_all(), ctx.options.login.email),
    )


def _user_namespace(works: list[ComponentWork], email: str) -> str | None:
    """The namespace the profile controller makes for the login: its Profile's name (the objects as applied)."""
    for work in works:
        for obj in work.objects:
            owner = ((obj.get("spec") or {}).get("owner") or {}).get("name")
            if obj.get("kind") == "Profile" and owner == email:
                return str(obj["metadata"]["name"])
    return None


# The steps, in the order `steps` puts them ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckPrerequisites:
    name: str = "check-prerequisites"
    description: str = "run the checks of `kfinstall check`; stop before anything changes if one fails"

    def run(self, ctx: UpContext) -> None:
        from kfinstall.checks import prerequisites
        from kfinstall.ui import output, tables

        plan, options = ctx.plan, ctx.options
        request = prerequisites.CheckRequest(
            release=plan.release,
            profile=plan.profile,
            cpus=options.cpus,
            memory_mb=options.memory_mb,
            k8s_version=options.k8s_version,
            driver=options.driver,
            gpus=options.gpus,
            context=options.context,
            pins=ctx.pins,
            choice_reason=ctx.reason,
        )
        results = prerequisites.run_checks(request)
        failures = prerequisites.failed(results)
        console = output.stderr()
        if failures:
            if not ctx.json_output:
                tables.print_checks(plan.release, plan.profile, results, console, ctx.reason)
            for failure in failures if ctx.json_output else ():  # the table's rows, as events (`up --json`)
                ctx.report(Event("failed", f"{failure.name}: {failure.message}"))
            raise KfError(
                f"{count(len(failures), 'prerequisite check')} failed: " + "; ".join(f.name for f in failures),
                "fix what the table above says (or see `kfinstall check`); --skip-checks goes ahead anyway",
            )
        warnings = [result for result in results if result.status == "warn"]
        if not ctx.json_output and not ctx.quiet:
            passed = len(results) - len(warnings)
            console.print(f" [green]✓[/] prerequisites: {passed} ok, {count(len(warnings), 'warning')}")
            for warning in warnings:
                console.print(f"   [yellow]![/] {warning.name}: {warning.message}")
        for warning in warnings if ctx.json_output else ():
            ctx.report(Event("warning", f"{warning.name}: {warning.message}"))


@dataclass(frozen=True)
class ShowPlan:
    name: str = "show-plan"
    description: str = "say what is installed: release, profile, components, notes and image substitutions"

    def run(self, ctx: UpContext) -> None:
        plan, report = ctx.plan, ctx.report
        report(Event("step", f"Kubeflow {plan.release.tag}, profile {plan.profile}: "
                             f"{len(plan.selection.components)} components"))  # fmt: skip
        if ctx.reason:
            report(Event("step", f"release: {ctx.reason}"))
        for note in plan.selection.notes:
            report(Event("note", note))
        for sub in plan.release.substitutions_for(plan.selection.ids):
            served = f"image {sub.image} → {sub.replacement}: the registry no longer serves it"
            report(Event("note", f"{served} ({sub.source})"))
        for risk in plan.release.images_at_risk_for(plan.selection.ids):
            report(Event("note", f"image at risk: {risk.image} ({', '.join(risk.components)}): {risk.note}"))


@dataclass(frozen=True)
class UseContext:
    description: str
    name: str = "use-context"

    def run(self, ctx: UpContext) -> None:
        ctx.report(Event("step", f"using the existing cluster of context {ctx.plan.context!r}"))


@dataclass(frozen=True)
class FetchManifests:
    description: str
    name: str = "fetch-manifests"

    def run(self, ctx: UpContext) -> None:
        if ctx.checkout is None:
            ctx.checkout = fetch_manifests(
                ctx.plan,
                ctx.options,
                on_wait=lambda text: ctx.report(Event("note", text)),
                on_clone=lambda text: ctx.report(Event("begin", text, task="manifests")),
            )
        release, checkout = ctx.plan.release, ctx.checkout
        ctx.report(Event("step", f"manifests {release.tag} at {checkout.path} ({checkout.source})", task="manifests"))


@dataclass(frozen=True)
class StartBuilds:
    description: str
    name: str = "start-builds"

    def run(self, ctx: UpContext) -> None:
        assert ctx.checkout is not None
        ctx.builds = ComponentBuilds(ctx.plan, ctx.checkout, ctx.options.login, ctx.report)
        ctx.exits.callback(ctx.builds.cancel)  # however `up` ends, no build outlives it


@dataclass(frozen=True)
class LockCluster:
    description: str
    name: str = "lock-cluster"

    def run(self, ctx: UpContext) -> None:
        # one kfinstall at a time changes a cluster; the builds go on meanwhile (a second `up` then finds it done)
        resource = locks.cluster(ctx.plan.context, minikube=ctx.plan.cluster is not None)
        waited: list[str] = []

        def waiting(text: str) -> None:  # another kfinstall holds it: a ticking timer while this one waits
            waited.append(text)
            ctx.report(Event("begin", text, task="lock"))

        ctx.exits.enter_context(locks.hold(resource, say=waiting))
        if waited:
            ctx.profile_state = None  # the kfinstall that held the lock may have stopped, deleted or made it
            ctx.record_reading = None  # or installed there
            ctx.report(Event("step", f"{ctx.plan.context!r} is free: this kfinstall holds its lock now", task="lock"))


@dataclass(frozen=True)
class StartMinikube:
    description: str
    name: str = "start-minikube"
    #: An upgrade to a release that needs a newer Kubernetes: `minikube start` upgrades the profile in place.
    upgrade_kubernetes: bool = False

    def run(self, ctx: UpContext) -> None:
        assert ctx.plan.cluster is not None and ctx.builds is not None
        context_before = cluster.current_context()
        done = cluster.ensure_running(
            ctx.plan.cluster,
            before_start=ctx.builds.wait_all,
            on_start=lambda text: ctx.report(Event("begin", text, task="minikube")),
            upgrade_kubernetes=self.upgrade_kubernetes,
            state=ctx.profile_state,
        )
        ctx.report(Event("step", done, task="minikube"))
        ctx.new_node = done.startswith("started ")
        reused = done.startswith("reusing ")  # nothing started: kubectl's context is as it was
        if not reused:
            ctx.record_reading = None  # read from a cluster this step changed (upgraded, made anew)
        for switched in cluster.make_active(ctx.plan.cluster.profile, context_before, started=not reused):
            ctx.report(Event("note", switched))


@dataclass(frozen=True)
class LoadCachedImages:
    name: str = "load-cached-images"
    description: str = ("into a new node, start loading the release's images `kfinstall down` kept in the cache, "
                        "critical chain first; each component is applied once its own are loaded")  # fmt: skip

    def run(self, ctx: UpContext) -> None:
        from kfinstall.install import imagecache

        assert ctx.plan.cluster is not None and ctx.builds is not None
        if not ctx.new_node:
            return  # a node that ran before keeps its images
        profile = ctx.plan.cluster.profile
        wanted = release_images(ctx)  # the builds are done: minikube started after them
        imagecache.remember(profile, ctx.plan.release.tag, wanted)
        if not imagecache.cached_of(wanted):
            return
        started = [False]

        def loaded(_: str, done: int, total: int, size: int) -> None:
            text = f"loading {total} cached images into minikube ({imagecache.size_text(size)} so far)"
            ctx.report(Event("progress" if started[0] else "begin", text, task="images-cache", ready=done,
                             total=total))  # fmt: skip
            started[0] = True

        ctx.loading = imagecache.Loading(profile, wanted, loaded).start()
        loading = ctx.loading
        ctx.exits.callback(lambda: loading.finish(cancel=True))  # however `up` ends, no load outlives it


@dataclass(frozen=True)
class FinishCachedImages:
    name: str = "finish-cached-images"
    description: str = "wait for the cached images still loading and say how many arrived"

    def run(self, ctx: UpContext) -> None:
        from kfinstall.install import imagecache

        if ctx.loading is None:
            return
        moved = ctx.loading.finish()
        for image, why in moved.failed.items():
            ctx.report(Event("note", f"cached image {image} not loaded ({why}): the kubelet pulls it"))
        if moved.done:
            ctx.report(Event("step", f"loaded {len(moved.done)} images from the cache "
                                     f"({imagecache.size_text(moved.bytes)}, {imagecache.cache_dir()})",
                             task="images-cache"))  # fmt: skip


def _wait_for_cached_images(ctx: UpContext) -> Callable[[ComponentWork, Callable[[], None]], None]:
    """Before a component is applied: its images still loading from the cache are waited for (its row says so)."""
    from kfinstall.install import images

    def wait(work: ComponentWork, check: Callable[[], None]) -> None:
        loading = ctx.loading
        if loading is None:
            return
        own = images.images_of(work.objects)
        if loading.waits_for(own):
            ctx.report(Event("pending", "waiting for its images to load from the cache", work.id))
            loading.wait_for(own, check)

    return wait


def release_images(ctx: UpContext) -> list[str]:
    """Every image the release's workloads run, the longest chains' components first (their pods come first)."""
    from kfinstall.install import images

    assert ctx.builds is not None
    works = {work.id: work for work in ctx.builds.wait_all()}
    ordered = [works[c.id] for c in ctx.plan.selection.critical_first() if c.id in works]
    return images.images_of(obj for work in ordered for obj in work.objects)


@dataclass(frozen=True)
class WaitForGpus:
    name: str = "wait-for-gpus"
    description: str = "wait until the node reports allocatable nvidia.com/gpu (the device plugin registered them)"

    def run(self, ctx: UpContext) -> None:
        from kfinstall.kube import gpu

        assert ctx.plan.cluster is not None
        ctx.report(Event("step", gpu.wait_for_gpus(ctx.kubectl, ctx.plan.cluster.profile, ctx.options.timeout)))


@dataclass(frozen=True)
class ReadRecord:
    name: str = "read-record"
    description: str = "read the install record: components of the same release unchanged and ready are skipped"

    def run(self, ctx: UpContext) -> None:
        plan = ctx.plan
        assert ctx.checkout is not None
        reading = ctx.record_reading or install_record.read_lenient(ctx.kubectl)
        previous = ctx.previous = reading.record
        if reading.problem is not None:  # the way forward must not be blocked: re-apply all, then write a good one
            ctx.report(Event("note", f"the install record is unreadable ({reading.problem}): re-applying every "
                                     "component and writing a new record"))  # fmt: skip
        record = install_record.InstallRecord(
            release=plan.release.tag,
            commit=ctx.checkout.commit,
            profile=plan.profile,
            kfinstall_version=__version__,
            started_at=install_record.now(),
            minikube_profile=plan.cluster.profile if plan.cluster else None,
            order=plan.selection.ids,
        )
        if previous is not None:  # components installed before and not planned now are the newest: removed first
            record.order += [c for c in previous.order or previous.components if c not in record.order]
        if previous is not None and previous.release == plan.release.tag:
            record.components = dict(previous.components)
            record.default_password = previous.default_password
            record.email = previous.email
        if plan.upgrade is not None:  # until `prune` is done: a resumed `up` knows it upgrades (upgrade_steps.py)
            record.upgrading_from = plan.upgrade.installed
            record.upgrading_components = list(plan.upgrade.components)
        ctx.writer = install_record.RecordWriter(ctx.kubectl, record, coalesce=1.0)
        if previous is None or previous.release != plan.release.tag or reading.problem is not None:
            ctx.writer.save()  # a new install (or release) is on record before anything is applied
        # else the record stays as it is until a component is applied (each apply writes it), so a re-run that
        # changes nothing writes it once, at the end


@dataclass(frozen=True)
class PrefetchImages:
    name: str = "prefetch-images"
    description: str = ("pull the images the node lacks into minikube in the background, longest chains first, "
                        "while installing")  # fmt: skip

    def run(self, ctx: UpContext) -> None:
        from kfinstall.install import imagecache, images

        assert ctx.plan.cluster is not None
        builds = ctx.builds
        assert builds is not None

        def wanted() -> list[str]:  # in the background thread: it may wait for the builds
            every = release_images(ctx)  # the longest chains' images first: their pods come first
            if ctx.loading is None:
                return every
            loaded = set(imagecache.cached_of(every))  # coming from the cache: pulling them too would only compete
            return [image for image in every if image not in loaded]

        ctx.prefetch = images.Prefetch(ctx.plan.cluster.profile, wanted, ctx.report, images.DEFAULT_CONCURRENCY)
        ctx.prefetch.start()


@dataclass(frozen=True)
class PrefetchNeedsMinikube:
    name: str = "prefetch-images"
    description: str = "pull nothing: --prefetch-images needs minikube; with --context the cluster pulls images itself"

    def run(self, ctx: UpContext) -> None:
        ctx.report(Event("note", "--prefetch-images needs minikube; with --context the cluster pulls images itself"))


@dataclass(frozen=True)
class InstallComponents:
    description: str
    name: str = "install-components"

    def run(self, ctx: UpContext) -> None:
        builds, writer = ctx.builds, ctx.writer
        assert builds is not None and writer is not None
        works = builds.works
        if ctx.on_components:
            ctx.on_components([w.id for w in works])
        record, given = writer.record, ctx.options.login

        def applied(work: ComponentWork) -> None:
            """Record the applied component; applying Dex's config sets the login the record tells `status`."""
            if login.has_dex(work.objects):
                record.default_password = given.hash is None
                record.email = given.email
            writer.applied(work.id, work.content_hash)

        installer = Installer(
            ctx.kubectl,
            ctx.report,
            timeout=ctx.options.timeout,
            concurrency=ctx.options.concurrency,
            on_applied=applied,
            on_ready=lambda work: writer.ready(work.id) if work.id in record.components else None,
            is_unchanged=_unchanged(ctx),
            presence=Presence(ctx.plan.context, ctx.plan.cluster.profile if ctx.plan.cluster else None),
            runtime_needs={c.id: c.runtime_needs for c in ctx.plan.selection.components if c.runtime_needs},
            after_served={c.id: frozenset(c.after_served) for c in ctx.plan.selection.components if c.after_served},
            before_apply=_wait_for_cached_images(ctx),
        )
        try:
            installer.run(works)
        except BaseException as error:
            if ctx.prefetch is not None:
                ctx.prefetch.finish(cancel=True)
            if ctx.loading is not None:
                ctx.loading.finish(cancel=True)
            with contextlib.suppress(KfError):  # keep what was done; the install's own error is the one to show
                # interrupted: write it all again, since a coalesced write in flight was stopped with the processes
                if isinstance(error, KeyboardInterrupt):
                    writer.save()
                else:
                    writer.flush()
            raise
        ctx.installed = tuple(w.id for w in works if w.id not in installer.skipped)
        ctx.skipped = tuple(installer.skipped)


def _unchanged(ctx: UpContext) -> Callable[[Work], bool]:
    """Whether a component (maybe still building) was applied by an install of the same release with the same
    content: only then is it checked for readiness instead of applied."""
    previous, options = ctx.previous, ctx.options
    same_release = previous is not None and previous.release == ctx.plan.release.tag
    previous_hashes = {key: value.hash for key, value in (previous.components if previous else {}).items()}

    def unchanged(source: Work) -> bool:
        if not same_release or source.id not in previous_hashes:
            return False  # decided without waiting for the component's build
        work = source.resolve()
        if options.login.changes_anything and login.has_dex(work.objects):
            return False  # a new login is applied even when the manifests are the same
        return previous_hashes[work.id] == work.content_hash

    return unchanged


@dataclass(frozen=True)
class FinishPrefetch:
    name: str = "finish-prefetch"
    description: str = "wait for the image pulls and say how many succeeded"

    def run(self, ctx: UpContext) -> None:
        if ctx.prefetch is not None:
            ctx.prefetch.finish()


@dataclass(frozen=True)
class WriteRecord:
    name: str = "write-record"
    description: str = "mark the install record finished"

    def run(self, ctx: UpContext) -> None:
        assert ctx.writer is not None
        ctx.writer.record.finished_at = install_record.now()
        ctx.writer.save()


@dataclass(frozen=True)
class RememberImages:
    name: str = "remember-images"
    description: str = "note the release's images in the cache: `kfinstall down` keeps them for the next cluster"

    def run(self, ctx: UpContext) -> None:
        from kfinstall.install import imagecache

        assert ctx.plan.cluster is not None
        imagecache.remember(ctx.plan.cluster.profile, ctx.plan.release.tag, release_images(ctx))
