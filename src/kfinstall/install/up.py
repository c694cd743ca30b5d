"""`kfinstall up` and `kfinstall plan`: the steps from nothing to a ready Kubeflow, composed in order.

Each step has one job and reports one line: check prerequisites, start the cluster, fetch the manifests, build
every component, install them in dependency order, say how to reach the dashboard. `plan` is the same up to
the point where something would change, so what it prints is exactly what `up` will do.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall import __version__, locks
from kfinstall.errors import KfError, UsageError
from kfinstall.install import readme_waits
from kfinstall.install.events import Event, Reporter
from kfinstall.install.installer import Installer
from kfinstall.install.work import ComponentWork, LazyWork, Work
from kfinstall.kube import record as install_record
from kfinstall.kube.kubectl import Kubectl
from kfinstall.kube.presence import Presence
from kfinstall.manifests import build, checkout, login, objects
from kfinstall.manifests.login import Login
from kfinstall.minikube import cluster
from kfinstall.release import selection as components

if TYPE_CHECKING:
    from kfinstall.install import images
    from kfinstall.release.pins import Release

DEFAULT_MINIKUBE_PROFILE = "kubeflow"
DASHBOARD_URL = "http://localhost:8080"
DEFAULT_LOGIN = ("user@example.com", "12341234")


@dataclass(frozen=True)
class UpOptions:
    """Everything `up` and `plan` can be told; None means the release's default."""

    kubeflow_version: str | None = None
    profile: str = components.DEFAULT_PROFILE
    with_ids: tuple[str, ...] = ()
    without_ids: tuple[str, ...] = ()
    variants: dict[str, str] = field(default_factory=dict)
    pins: Path | None = None
    cpus: int | None = None
    memory_mb: int | None = None
    disk_size: str | None = None
    driver: str | None = None
    k8s_version: str | None = None
    gpus: str | None = None
    context: str | None = None
    minikube_profile: str = DEFAULT_MINIKUBE_PROFILE
    manifests_repo: str | None = None
    manifests_dir: Path | None = None
    timeout: float = 900.0
    concurrency: int = 4
    skip_checks: bool = False
    prefetch_images: bool = False
    login: Login = field(default_factory=Login)


@dataclass(frozen=True)
class InstallPlan:
    """What `up` will do, decided before anything changes."""

    release: Release
    profile: str
    selection: components.Selection
    cluster: cluster.ClusterSpec | None
    context: str
    repo_url: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release.tag,
            "commit": self.release.commit,
            "repo": self.repo_url,
            "profile": self.profile,
            "context": self.context,
            "minikube": None if self.cluster is None else ["minikube", *cluster.start_args(self.cluster)],
            "components": [
                {
                    "id": component.id,
                    "name": component.name,
                    "paths": list(component.paths),
                    "depends_on": list(component.depends_on),
                    "namespaces": list(component.namespaces),
                    "reason": component.reason,
                    **({"variant": component.variant} if component.variant else {}),
                }
                for component in self.selection.components
            ],
            "notes": list(self.selection.notes),
            "image_substitutions": [
                s.model_dump(include={"image", "replacement", "components", "source", "reason"})
                for s in self.release.substitutions_for(self.selection.ids)
            ],
            "images_at_risk": [a.model_dump() for a in self.release.images_at_risk_for(self.selection.ids)],
        }


def make_plan(options: UpOptions, release: Release) -> InstallPlan:
    """Decide everything: components, cluster flags, kubeconfig context. Pure apart from reading nothing."""
    if options.context and any(
        value is not None
        for value in (options.cpus, options.memory_mb, options.disk_size, options.driver, options.gpus)
    ):
        raise UsageError(
            "--context installs into an existing cluster, so minikube options (--cpus, --memory, --disk-size, "
            "--driver, --gpus) do not apply",
            "drop the minikube options, or drop --context to let kfinstall start minikube",
        )
    from kfinstall.checks.prerequisites import GPU_CHOICES
    from kfinstall.release.pins import Version

    if options.gpus is not None and options.gpus not in GPU_CHOICES:
        raise UsageError(f"--gpus {options.gpus!r} is not one of {', '.join(GPU_CHOICES)}", "use --gpus all")
    kubernetes = release.kubernetes.default
    if options.k8s_version is not None:
        try:
            wanted = Version.parse(options.k8s_version)
        except ValueError:
            raise UsageError(
                f"--k8s-version {options.k8s_version!r} is not a version", "give a version like v1.19.3"
            ) from None
        if not release.kubernetes.contains(wanted) and not options.skip_checks:
            raise UsageError(
                f"Kubeflow {release.tag} does not support Kubernetes {wanted} (it supports {release.kubernetes})",
                f"use --k8s-version {release.kubernetes.default}, or leave it out (--skip-checks goes ahead anyway)",
            )
        kubernetes = str(wanted)  # `1.34.0` and `v1.34.0` are one version: minikube records it as `v1.34.0`
    selection = components.select(release, options.profile, options.with_ids, options.without_ids, options.variants)
    spec = None
    if options.context is None:
        resources = release.resources_for(options.profile)
        runtime, runtime_for = cluster.needed_runtime(release, selection, options.gpus)
        spec = cluster.ClusterSpec(
            profile=options.minikube_profile,
            kubernetes_version=kubernetes,
            cpus=options.cpus or resources.cpus,
            memory_mb=options.memory_mb or resources.memory_mb,
            disk_size=options.disk_size or resources.disk_size,
            driver=options.driver or "docker",
            gpus=options.gpus,
            extra_config=tuple(release.apiserver_flags),
            container_runtime=runtime,
            container_runtime_for=runtime_for,
        )
    return InstallPlan(
        release=release,
        profile=options.profile,
        selection=selection,
        cluster=spec,
        context=options.context or options.minikube_profile,
        repo_url=options.manifests_repo or release.repo,
    )


@dataclass(frozen=True)
class UpResult:
    release: str
    context: str
    installed: tuple[str, ...]
    skipped: tuple[str, ...]
    seconds: float
    default_password: bool = True
    email: str = DEFAULT_LOGIN[0]
    #: The login's own namespace: the name of the Profile owned by it, when the install holds one.
    namespace: str | None = None


def run_up(install: InstallPlan, options: UpOptions, report: Reporter, *, on_components=None) -> UpResult:
    """Execute `install`: the steps of `up` after option parsing. Raises KfError on the first failure.

    The builds run in the background from the moment the manifests are fetched, and each component is applied as
    soon as its own build is done and its dependencies are ready. Starting minikube waits for every build: a
    broken or offline build then costs seconds, not a minikube start. On a running cluster a build failure stops
    the install where it is (what was applied stays; a re-run resumes).
    """
    started = time.monotonic()
    release = install.release
    if install.cluster is None:
        if not cluster.context_exists(install.context):
            raise UsageError(
                f"kubeconfig context {install.context!r} does not exist",
                "list them with `kubectl config get-contexts`",
            )
        report(Event("step", f"using the existing cluster of context {install.context!r}"))
    checkout = _fetch(install, options, lambda text: report(Event("note", text)))
    report(Event("step", f"manifests {release.tag} at {checkout.path} ({checkout.source})"))

    builds = ComponentBuilds(install, checkout, options.login, report)
    try:
        # one kfinstall at a time changes a cluster; the builds go on meanwhile (a second `up` then finds it done)
        with locks.hold(locks.cluster(install.context, minikube=install.cluster is not None),
                        say=lambda text: report(Event("note", text))):  # fmt: skip
            return _install(install, options, report, builds, checkout.commit, started, on_components)
    finally:
        builds.cancel()


def _install(
    install: InstallPlan,
    options: UpOptions,
    report: Reporter,
    builds: ComponentBuilds,
    commit: str,
    started: float,
    on_components: Callable[[list[str]], None] | None = None,
) -> UpResult:
    """The cluster and the install, while the builds run."""
    release = install.release
    if install.cluster is not None:
        report(Event("step", cluster.ensure_running(install.cluster, before_start=builds.wait_all)))
        if install.cluster.gpus:  # minikube hands over the GPUs; pods get them once the device plugin runs
            from kfinstall.kube import gpu

            report(Event("step", gpu.wait_for_gpus(Kubectl(install.context), install.cluster.profile, options.timeout)))
    kubectl = Kubectl(install.context)
    reading = install_record.read_lenient(kubectl)
    previous = reading.record
    if reading.problem is not None:  # the way forward must not be blocked: re-apply everything, then write a good one
        report(Event("note", f"the install record is unreadable ({reading.problem}): re-applying every component "
                             "and writing a new record"))  # fmt: skip
    record = install_record.InstallRecord(
        release=release.tag,
        commit=commit,
        profile=install.profile,
        kfinstall_version=__version__,
        started_at=install_record.now(),
        minikube_profile=install.cluster.profile if install.cluster else None,
        order=install.selection.ids,
    )
    if previous is not None:  # components installed before and not planned now are the newest: removed first
        record.order += [c for c in previous.order or previous.components if c not in record.order]
    if previous is not None and previous.release == release.tag:
        record.components = dict(previous.components)
        record.default_password = previous.default_password
        record.email = previous.email
    writer = install_record.RecordWriter(kubectl, record, coalesce=1.0)
    writer.save()
    previous_hashes = {key: value.hash for key, value in (previous.components if previous else {}).items()}
    same_release = previous is not None and previous.release == release.tag

    def unchanged(source: Work) -> bool:
        if not same_release or source.id not in previous_hashes:
            return False  # decided without waiting for the component's build
        work = source.resolve()
        if options.login.changes_anything and login.has_dex(work.objects):
            return False  # a new login is applied even when the manifests are the same
        return previous_hashes[work.id] == work.content_hash

    works = builds.works
    if on_components:
        on_components([w.id for w in works])
    installer = Installer(
        kubectl,
        report,
        timeout=options.timeout,
        concurrency=options.concurrency,
        on_applied=lambda work: _applied(work, writer, options.login),
        on_ready=lambda work: writer.ready(work.id) if work.id in record.components else None,
        is_unchanged=unchanged,
        presence=Presence(install.context, install.cluster.profile if install.cluster else None),
    )
    prefetch = _start_prefetch(install, options, builds, report)
    try:
        installer.run(works)
    except BaseException as error:
        if prefetch is not None:
            prefetch.finish(cancel=True)
        with contextlib.suppress(KfError):  # keep what was done; the install's own error is the one to show
            # interrupted: write it all again, since a coalesced write in flight was stopped with the other processes
            if isinstance(error, KeyboardInterrupt):
                writer.save()
            else:
                writer.flush()
        raise
    if prefetch is not None:
        prefetch.finish()
    record.finished_at = install_record.now()
    writer.save()
    return UpResult(
        release.tag,
        install.context,
        tuple(w.id for w in works if w.id not in installer.skipped),
        tuple(installer.skipped),
        time.monotonic() - started,
        record.default_password,
        record.email,
        _user_namespace(builds.wait_all(), options.login.email),
    )


def _user_namespace(works: list[ComponentWork], email: str) -> str | None:
    """The namespace the profile controller makes for the login: its Profile's name (the objects as applied)."""
    for work in works:
        for obj in work.objects:
            owner = ((obj.get("spec") or {}).get("owner") or {}).get("name")
            if obj.get("kind") == "Profile" and owner == email:
                return str(obj["metadata"]["name"])
    return None


class ComponentBuilds:
    """Every selected component built, labelled and hashed in the background, in install (dependency) order.

    `works` are the installer's LazyWork: it schedules them at once and applies each as soon as its own build is
    done, so the first components go in while the rest still build. The login is put into the component holding
    Dex's config as it is built, after hashing: the content hash stays the manifests' own, so an unchanged release
    stays a no-op (bcrypt's random salt would otherwise change it every run). The user's Profile is named after the
    login before hashing (`login.own_profiles`; deterministic), so a new `--email` re-applies user-namespace.
    """

    def __init__(self, install: InstallPlan, checkout: checkout.Checkout, login: Login, report: Reporter) -> None:
        self._release = install.release.tag
        self._substitute = install.release.substitute_image  # images the registries deleted (pins)
        self._components = list(install.selection.components)
        self._login = login
        self._report = report
        # the longest chains first: their builds are the first ones the install waits for
        targets = [build.BuildTarget(c.id, path) for c in install.selection.critical_first() for path in c.paths]
        self._builds = build.Builds(checkout.path, targets, commit=checkout.commit)
        self._lock = threading.Lock()
        self._left = len(self._components)
        self._futures: dict[str, Future[ComponentWork]] = {c.id: Future() for c in self._components}
        self.works: list[Work] = [LazyWork(c.id, c.depends_on, self._futures[c.id]) for c in self._components]
        for component in self._components:
            paths = [self._builds.future(build.BuildTarget(component.id, path)) for path in component.paths]
            remaining = [len(paths)]
            for future in paths:
                future.add_done_callback(lambda _, c=component, r=remaining: self._path_built(c, r))
            if not paths:
                self._finish(component)

    def _path_built(self, component: components.PlannedComponent, remaining: list[int]) -> None:
        with self._lock:
            remaining[0] -= 1
            if remaining[0]:
                return
        self._finish(component)

    def _finish(self, component: components.PlannedComponent) -> None:
        """All paths of `component` are built (or failed): resolve its work; the last one says what was built."""
        future = self._futures[component.id]
        try:
            built = [
                obj for path in component.paths for obj in self._builds.objects(build.BuildTarget(component.id, path))
            ]
            built = objects.substitute_images(built, self._substitute)  # before hashing: a new one re-applies
            # ports name their protocol: server-side apply before Kubernetes 1.21 refuses them otherwise
            labelled = objects.labelled(objects.with_port_protocols(built), component.id, self._release)
            # the user's Profile named after the login before hashing: a new --email is a change to apply
            labelled = login.own_profiles(labelled, self._login.email) or labelled
            work = ComponentWork(
                component.id,
                component.depends_on,
                tuple(labelled),
                objects.content_hash(labelled),
                tuple(readme_waits.check_for(wait) for wait in component.waits) + readme_waits.profile_checks(labelled),
            )
            if self._login.changes_anything and (with_login := login.set_login(work.objects, self._login)):
                work = replace(work, objects=tuple(with_login))
        except BaseException as error:  # handed to whoever waits for the component
            if not future.cancelled():
                future.set_exception(error)
        else:
            future.set_result(work)
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self._all_built()

    def _all_built(self) -> None:
        works = [future.result() for future in self._futures.values() if not future.exception()]
        if len(works) != len(self._futures):
            return  # a failure: the installer reports it
        self._report(Event("step", f"built {len(works)} components ({sum(len(w.objects) for w in works)} objects)"))
        if self._login.changes_anything and not any(login.has_dex(w.objects) for w in works):
            self._report(Event("note", "no Dex among the components: the password and email options change nothing"))

    def wait_all(self) -> list[ComponentWork]:
        """Every component's work, waiting for the builds; the first failure (in install order) is raised."""
        return [work.resolve() for work in self.works]

    def cancel(self) -> None:
        self._builds.cancel()


def _applied(work: ComponentWork, writer: install_record.RecordWriter, given: Login) -> None:
    """Record the applied component; applying Dex's config sets the login the record tells `status` about."""
    if login.has_dex(work.objects):
        writer.record.default_password = given.hash is None
        writer.record.email = given.email
    writer.applied(work.id, work.content_hash)


def _start_prefetch(
    install: InstallPlan, options: UpOptions, builds: ComponentBuilds, report: Reporter
) -> images.Prefetch | None:
    """`--prefetch-images`: pull every image into minikube, in install order, while the installer applies."""
    if not options.prefetch_images:
        return None
    if install.cluster is None:
        report(Event("note", "--prefetch-images needs minikube; with --context the cluster pulls images itself"))
        return None
    from kfinstall.install import images

    def wanted() -> list[str]:
        return images.images_of(obj for work in builds.wait_all() for obj in work.objects)

    return images.Prefetch(install.cluster.profile, wanted, report, images.DEFAULT_CONCURRENCY).start()


def _fetch(install: InstallPlan, options: UpOptions, on_wait: Callable[[str], None] | None = None) -> checkout.Checkout:
    if options.manifests_dir is not None:
        markers = [path for component in install.selection.components for path in component.paths]
        return checkout.use_local_dir(options.manifests_dir, markers)
    return checkout.fetch(install.release.tag, install.release.commit, install.repo_url, on_wait=on_wait)
