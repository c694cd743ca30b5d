"""The upgrade section of `kfinstall plan`: from what to what, Kubernetes, components, the release's notes, data."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.install.upgrade import Upgrade, UpgradePlan

#: Objects listed per kind of change before `... and N more`.
SHOWN = 12


def render_upgrade(upgrade: Upgrade, details: UpgradePlan | None, console: Console) -> None:
    title = (
        f"Upgrade from {upgrade.installed} to {upgrade.target}"
        if upgrade.is_release_change
        else f"Change of the components of {upgrade.target}"
    )
    console.print(f"\n[bold]{title}[/] (`up` asks first; --yes for scripts):")
    if upgrade.kubernetes is not None:
        have, want = upgrade.kubernetes
        console.print(f"  Kubernetes: {have} → {want}, upgraded in place by `minikube start --kubernetes-version="
                      f"{want}` (minikube refuses a downgrade: there is no way back)")  # fmt: skip
    if upgrade.added:
        console.print(f"  added:      {', '.join(upgrade.added)}")
    if upgrade.removed:
        console.print(f"  removed:    {', '.join(upgrade.removed)} (their objects pruned by label, CRDs last)")
    if details is None:
        console.print("  pruned:     what kfinstall applied and the new build no longer has (by its labels); "
                      "objects whose immutable fields change are deleted and applied anew")  # fmt: skip
    else:
        _objects(console, "to prune (kfinstall's labels, absent from the new build)", [str(r) for r in details.prune])
        _objects(console, "to replace (an immutable field changes)", [str(r) for r in details.replace])
        _objects(console, "kept (they may hold your data)", [str(r) for r in details.kept])
    notes = upgrade.notes
    if notes is not None:
        for delete in notes.deletes:
            console.print(f"  delete:     {delete} ({delete.why})")
        for note in notes.notes:
            console.print(f"[yellow]![/] {note}")
        console.print(f"  [dim]source: {notes.source}[/]")
    from kfinstall.install.upgrade import USER_DATA

    for line in USER_DATA:
        console.print(f"  your data:  {line}; saved first as YAML under kfinstall's state directory")
    for component, database in upgrade.databases:
        where = f"MySQL in {database.namespace}/{database.deployment}"
        console.print(f"  database:   {component}'s {', '.join(database.databases)} ({where}) dumped there first "
                      "with mysqldump; a failed dump stops the upgrade")  # fmt: skip


def _objects(console: Console, title: str, names: list[str]) -> None:
    console.print(f"  {title}: {len(names) or 'none'}")
    for name in names[:SHOWN]:
        console.print(f"    {name}")
    if len(names) > SHOWN:
        console.print(f"    ... and {len(names) - SHOWN} more (`kfinstall plan --json` lists them all)")
