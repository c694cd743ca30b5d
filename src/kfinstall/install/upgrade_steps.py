"""The steps an upgrade adds to `up` (install/steps.py puts them in the list, `plan` prints them).

In order: `backup-user-data` (before anything changes: the user's resources as YAML under the state directory),
`dump-database` (where an installed component keeps a MySQL database, Pipelines': its dump beside them),
the in-place Kubernetes upgrade (`start-minikube`, when the release needs a newer one), `prepare-upgrade` (once
every build is done: the release's notes, and the objects whose immutable fields change deleted so that the
install re-creates them), the install itself, then `prune` (what kfinstall applied before and the new build no
longer has, by label, CRDs last; install/upgrade.py decides). Each is safe to run again: an interrupted upgrade
resumes with the same `kfinstall up` (the record keeps `upgrading_from` until `prune` finished), deleting only
what is still there and still of the old release.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kfinstall.install.events import Event
from kfinstall.install.upgrade import dump_name, identity, plan_upgrade
from kfinstall.kube import labelled
from kfinstall.kube.labelled import Ref
from kfinstall.manifests.objects import RELEASE_LABEL
from kfinstall.ui.words import count

if TYPE_CHECKING:
    from collections.abc import Callable

    from kfinstall.install.context import UpContext
    from kfinstall.install.up import InstallPlan, UpOptions
    from kfinstall.install.upgrade import UpgradePlan


def _plan_now(ctx: UpContext) -> UpgradePlan:
    """The upgrade plan against the cluster as it is now and the finished builds."""
    upgrade, builds = ctx.plan.upgrade, ctx.builds
    assert upgrade is not None and builds is not None
    built = [obj for work in builds.wait_all() for obj in work.objects]
    live = labelled.labelled_objects(ctx.kubectl)
    return plan_upgrade(upgrade.installed, upgrade.components, ctx.plan.release, ctx.plan.selection.ids, live,
                        built, upgrade.kubernetes)  # fmt: skip


@dataclass(frozen=True)
class BackupUserData:
    description: str
    name: str = "backup-user-data"

    def run(self, ctx: UpContext) -> None:
        from kfinstall.cachedir import backup_dir
        from kfinstall.kube import backup

        upgrade = ctx.plan.upgrade
        assert upgrade is not None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        directory = backup_dir(ctx.plan.context, f"{stamp}-{upgrade.installed}-to-{upgrade.target}")
        saved = backup.save(ctx.kubectl, directory)
        ctx.backup_dir = directory
        ctx.report(Event("step", saved.summary()))


@dataclass(frozen=True)
class DumpDatabase:
    """`mysqldump` of each installed component's database (Pipelines') into the backup directory, before anything
    changes: a dump that fails stops the upgrade here, with nothing deleted or upgraded (kube/backup.py)."""

    description: str
    name: str = "dump-database"

    def run(self, ctx: UpContext) -> None:
        from kfinstall.kube import backup

        upgrade = ctx.plan.upgrade
        assert upgrade is not None and ctx.backup_dir is not None
        for component, database in upgrade.databases:
            what = f"the {component} database ({', '.join(database.databases)})"
            dumped = backup.dump_database(ctx.kubectl, database, ctx.backup_dir / dump_name(component), what)
            ctx.report(Event("step", dumped.summary(what)))


@dataclass(frozen=True)
class PrepareUpgrade:
    description: str
    name: str = "prepare-upgrade"

    def run(self, ctx: UpContext) -> None:
        upgrade = ctx.plan.upgrade
        assert upgrade is not None
        plan = ctx.upgrade_plan = _plan_now(ctx)
        for note in plan.notes:
            ctx.report(Event("note", f"upgrade note: {note}"))
        # the release's own deletions, of objects kfinstall applied for an older release (a resumed upgrade finds
        # the ones the new release re-created under its own label, and leaves them)
        wanted = {(d.group, d.kind, d.namespace or "", d.name) for d in plan.deletes}
        live = labelled.labelled_objects(ctx.kubectl) if wanted else []
        old = [
            Ref.of(obj)
            for obj in live
            if identity(obj) in wanted
            and ((obj.get("metadata") or {}).get("labels") or {}).get(RELEASE_LABEL) != upgrade.target
        ]
        for ref in old:
            ctx.report(Event("step", f"deleting {ref}: {next(d.why for d in plan.deletes if d.name == ref.name)}"))
        labelled.delete(ctx.kubectl, [ref.manifest() for ref in old], "the objects the upgrade notes name")
        for replacement in plan.replace:
            ctx.report(Event("step", f"replacing {replacement}: the API server keeps that field"))
        labelled.delete(ctx.kubectl, [r.ref.manifest() for r in plan.replace], "the objects to replace")
        if not old and not plan.replace:
            ctx.report(Event("step", "nothing to delete or replace before applying"))


@dataclass(frozen=True)
class Prune:
    description: str
    name: str = "prune"

    def run(self, ctx: UpContext) -> None:
        assert ctx.writer is not None
        plan = _plan_now(ctx)
        batches: list[tuple[str, list[Ref]]] = []
        for ref in plan.prune:
            title = {"CustomResourceDefinition": "custom resource definitions"}.get(
                ref.kind, "webhook configurations" if ref.kind.endswith("WebhookConfiguration") else ref.component
            )
            if not batches or batches[-1][0] != title:
                batches.append((title, []))
            batches[-1][1].append(ref)
        for title, refs in batches:
            names = ", ".join(str(r) for r in refs[:5]) + (" ..." if len(refs) > 5 else "")
            ctx.report(Event("step", f"pruning {title} ({count(len(refs), 'object')}): {names}"))
            labelled.delete(ctx.kubectl, [ref.manifest() for ref in refs], f"the old objects of {title}")
        for ref in plan.kept:
            ctx.report(Event("note", f"kept {ref}: it may hold your data (the new build no longer has it; delete it "
                                     "yourself once you no longer need it)"))  # fmt: skip
        if not plan.prune:
            ctx.report(Event("step", "nothing to prune: every object kfinstall applied is in the new build"))
        record = ctx.writer.record
        selected = set(ctx.plan.selection.ids)
        record.order = [c for c in record.order if c in selected]
        record.components = {c: entry for c, entry in record.components.items() if c in selected}
        record.upgrading_from, record.upgrading_components = None, []
        ctx.writer.save()


def preview(install: InstallPlan, options: UpOptions, say: Callable[[str], None]) -> UpgradePlan:
    """What the upgrade of `install` would prune and replace, for `kfinstall plan`: the new release fetched and built
    (into the cache, as `up` would) and compared with the cluster's labelled objects; nothing on the cluster
    changes."""
    from kfinstall.install.builds import ComponentBuilds, fetch_manifests
    from kfinstall.kube.kubectl import Kubectl

    upgrade = install.upgrade
    assert upgrade is not None
    say(f"building {install.release.tag} to compare it with what is installed (nothing changes)")
    checkout = fetch_manifests(install, options, on_wait=say)
    builds = ComponentBuilds(install, checkout, options.login, lambda event: None)
    try:
        built = [obj for work in builds.wait_all() for obj in work.objects]
    finally:
        builds.cancel()
    live = labelled.labelled_objects(Kubectl(install.context))
    return plan_upgrade(upgrade.installed, upgrade.components, install.release, install.selection.ids, live, built,
                        upgrade.kubernetes)  # fmt: skip
