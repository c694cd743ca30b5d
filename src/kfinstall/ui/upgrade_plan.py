"""The upgrade section of `kfinstall plan`: from what to what, Kubernetes, components, the release's notes, data."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.install.upgrade import Upgrade


def render_upgrade(upgrade: Upgrade, console: Console) -> None:
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
    console.print("  pruned:     what kfinstall applied and the new build no longer has (found by its labels once the "
                  "builds are done); objects whose immutable fields change are deleted and applied anew")  # fmt: skip
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
