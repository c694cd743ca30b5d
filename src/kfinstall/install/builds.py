"""From a plan to its components' objects: the manifests fetched (or the user's own checkout) and every selected
component built, labelled and hashed in the background while the cluster starts and the install goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING

from kfinstall.install import readme_waits
from kfinstall.install.events import Event, Reporter
from kfinstall.install.work import ComponentWork, LazyWork, Work
from kfinstall.manifests import build, checkout, login, objects
from kfinstall.manifests.login import Login
from kfinstall.ui.words import count

if TYPE_CHECKING:
    from kfinstall.install.up import InstallPlan, UpOptions
    from kfinstall.release.selection import PlannedComponent


def local_checkout(install: InstallPlan, options: UpOptions) -> checkout.Checkout | None:
    """`--manifests-dir`: the user's checkout, checked to hold the plan's component paths (None without it)."""
    if options.manifests_dir is None:
        return None
    markers = [path for component in install.selection.components for path in component.paths]
    return checkout.use_local_dir(options.manifests_dir, markers)


def fetch_manifests(
    install: InstallPlan,
    options: UpOptions,
    on_wait: Callable[[str], None] | None = None,
    on_clone: Callable[[str], None] | None = None,
) -> checkout.Checkout:
    """The manifests of the plan: `--manifests-dir`, else the cached clone of the release's tag at its pinned
    commit (`on_wait` is told when another kfinstall is fetching it, `on_clone` when a clone starts)."""
    local = local_checkout(install, options)
    if local is not None:
        return local
    release = install.release
    return checkout.fetch(release.tag, release.commit, install.repo_url, on_wait=on_wait, on_clone=on_clone)


def _pipeline_access(install: InstallPlan, source: checkout.Checkout, report: Reporter) -> list[objects.Obj]:
    """The pins' `pipeline_access` file of the checkout, when Pipelines is among the components (else nothing; a
    `--manifests-dir` without the file gets a note, not a failure: the PodDefault is a convenience)."""
    relative = install.release.pipeline_access
    if relative is None or "pipelines" not in {c.id for c in install.selection.components}:
        return []
    try:
        return objects.parse((source.path / relative).read_text())
    except OSError:
        report(Event("note", f"no access-ml-pipeline PodDefault for the user's namespace: {relative} is not there"))
        return []


class ComponentBuilds:
    """Every selected component built, labelled and hashed in the background, in install (dependency) order.

    `works` are the installer's LazyWork: it schedules them at once and applies each as soon as its own build is
    done, so the first components go in while the rest still build. The login is put into the component holding
    Dex's config as it is built, after hashing: the content hash stays the manifests' own, so an unchanged release
    stays a no-op (bcrypt's random salt would otherwise change it every run). The user's Profile is named after the
    login before hashing (`login.own_profiles`; deterministic), so a new `--email` re-applies user-namespace.
    """

    def __init__(self, install: InstallPlan, source: checkout.Checkout, given: Login, report: Reporter) -> None:
        self._release = install.release.tag
        self._substitute = install.release.substitute_image  # images the registries deleted (pins)
        self._components = list(install.selection.components)
        self._login = given
        self._report = report
        # upstream's access-ml-pipeline PodDefault, for the user's namespace when Pipelines is installed
        self._pipeline_access = _pipeline_access(install, source, report)
        # the longest chains first: their builds are the first ones the install waits for
        targets = [build.BuildTarget(c.id, path) for c in install.selection.critical_first() for path in c.paths]
        self._builds = build.Builds(source.path, targets, commit=source.commit)
        self._lock = threading.Lock()
        self._left = len(self._components)
        self._futures: dict[str, Future[ComponentWork]] = {c.id: Future() for c in self._components}
        self._building = f"building {count(len(self._components), 'component')}"
        report(Event("begin", self._building, task="builds", ready=0, total=len(self._components)))
        self.works: list[Work] = [LazyWork(c.id, c.depends_on, self._futures[c.id]) for c in self._components]
        for component in self._components:
            paths = [self._builds.future(build.BuildTarget(component.id, path)) for path in component.paths]
            remaining = [len(paths)]
            for future in paths:
                future.add_done_callback(lambda _, c=component, r=remaining: self._path_built(c, r))
            if not paths:
                self._finish(component)

    def _path_built(self, component: PlannedComponent, remaining: list[int]) -> None:
        with self._lock:
            remaining[0] -= 1
            if remaining[0]:
                return
        self._finish(component)

    def _finish(self, component: PlannedComponent) -> None:
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
            access = login.pipeline_access(labelled, self._pipeline_access)
            labelled += objects.labelled(access, component.id, self._release)
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
            built = len(self._components) - self._left
        if not last:
            self._report(Event("progress", self._building, task="builds", ready=built, total=len(self._components)))
        if last:
            self._all_built()

    def _all_built(self) -> None:
        works = [future.result() for future in self._futures.values() if not future.exception()]
        if len(works) != len(self._futures):
            return  # a failure: the installer reports it
        made = f"built {count(len(works), 'component')} ({count(sum(len(w.objects) for w in works), 'object')})"
        self._report(Event("step", made, task="builds"))
        if self._login.changes_anything and not any(login.has_dex(w.objects) for w in works):
            self._report(Event("note", "no Dex among the components: the password and email options change nothing"))

    def wait_all(self) -> list[ComponentWork]:
        """Every component's work, waiting for the builds; the first failure (in install order) is raised."""
        return [work.resolve() for work in self.works]

    def cancel(self) -> None:
        self._builds.cancel()
