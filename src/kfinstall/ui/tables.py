"""Rich tables and JSON documents for `kfinstall versions` and `kfinstall check`.

Kept apart from the logic so that `checks` and `pins` return plain data (tested as data), and so that the one
place deciding how a verdict looks is here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kfinstall.release.pins import PROFILES

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.checks.prerequisites import CheckResult
    from kfinstall.release.pins import Pins, Release

SYMBOLS = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red")}


def release_dict(release: Release) -> dict[str, Any]:
    """One release as `kfinstall versions --json` shows it."""
    return {
        "tag": release.tag,
        "repo": release.repo,
        "commit": release.commit,
        "kubernetes": {
            "min": release.kubernetes.min,
            "max": release.kubernetes.max,
            "default": release.kubernetes.default,
        },
        "kustomize": {"exact": release.kustomize.exact, "min": release.kustomize.min},
        "minikube": {"min": release.minikube.min, "max": release.minikube.max},
        "apiserver_flags": list(release.apiserver_flags),
        "profiles": {profile: [c.id for c in release.profile_components(profile)] for profile in PROFILES},
        "resources": {profile: release.resources_for(profile).model_dump() for profile in PROFILES},
        "components": [
            {
                "id": c.id,
                "name": c.name,
                "paths": list(c.paths),
                "namespaces": list(c.namespaces),
                "depends_on": list(c.depends_on),
                "profiles": [p for p in PROFILES if p in c.profiles],
                "alternatives": {name: list(paths) for name, paths in c.alternatives.items()},
                "needs_network": list(c.needs_network),
            }
            for c in release.components
        ],
    }


def versions_dict(pins: Pins) -> dict[str, Any]:
    return {"source": pins.source, "releases": [release_dict(r) for r in pins.by_age()]}


def kubernetes_text(release: Release) -> str:
    pin = release.kubernetes
    if pin.min and pin.max:
        span = f"{pin.min} – {pin.max}"
    elif pin.min:
        span = f"≥ {pin.min}"
    elif pin.max:
        span = f"≤ {pin.max}"
    else:
        span = "any"
    return f"{span} (default {pin.default})"


def profile_text(release: Release) -> dict[str, str]:
    """What each profile installs: minimal in full, then what standard and full add."""
    seen: set[str] = set()
    texts = {}
    for profile in PROFILES:
        ids = [c.id for c in release.profile_components(profile)]
        added = [i for i in ids if i not in seen]
        seen.update(ids)
        texts[profile] = ", ".join(added) if profile == PROFILES[0] else "+ " + (", ".join(added) or "nothing")
    return texts


def print_versions(pins: Pins, console: Console) -> None:
    from rich.table import Table

    table = Table(title="Pinned Kubeflow releases", show_lines=True)
    table.add_column("release", no_wrap=True)
    table.add_column("kubernetes", overflow="fold")
    table.add_column("kustomize", no_wrap=True)
    table.add_column("minikube", no_wrap=True)
    table.add_column("components per profile", overflow="fold", ratio=1)
    for release in pins.by_age(newest_first=True):
        profiles = profile_text(release)
        counts = {p: len(release.profile_components(p)) for p in PROFILES}
        table.add_row(
            f"{release.tag}\n[dim]{release.commit[:12]}[/]",
            kubernetes_text(release),
            str(release.kustomize),
            str(release.minikube),
            "\n".join(f"[bold]{p}[/] ({counts[p]}): {profiles[p]}" for p in PROFILES),
        )
    console.print(table)
    console.print(f"pins: {pins.source}", style="dim")


def check_dict(results: list[CheckResult], release: Release | None = None, reason: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"ok": not any(r.status == "fail" for r in results)}
    if release is not None:
        document["release"] = {"tag": release.tag, "reason": reason}
    return {**document, "checks": [r.as_dict() for r in results]}


def print_checks(
    release: Release, profile: str, results: list[CheckResult], console: Console, reason: str | None = None
) -> None:
    """Why this release (when -k did not name it), the verdicts as a table, then the fixes (long commands read
    better on their own lines)."""
    from rich.table import Table

    if reason:
        console.print(f"release: {reason}", soft_wrap=True)

    table = Table(title=f"Prerequisites for Kubeflow {release.tag} ({profile})")
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("found", overflow="fold")
    table.add_column("required", overflow="fold")
    table.add_column("verdict", overflow="fold")
    for result in results:
        symbol, colour = SYMBOLS[result.status]
        table.add_row(f"[{colour}]{symbol}[/]", result.name, result.found, result.required, result.message)
    console.print(table)
    fixes = [r for r in results if r.status != "ok" and r.hint]
    for result in fixes:
        symbol, colour = SYMBOLS[result.status]
        console.print(f"[{colour}]{symbol} {result.name}[/]: {result.hint}", soft_wrap=True)
    failures = sum(r.status == "fail" for r in results)
    warnings = sum(r.status == "warn" for r in results)
    from kfinstall.ui.words import count

    if failures:
        console.print(
            f"[red]{count(failures, 'check')} failed[/], {count(warnings, 'warning')}: fix the ✗ rows before "
            "`kfinstall up`."
        )
    else:
        console.print(f"[green]ready[/] for `kfinstall up` ({count(warnings, 'warning')}).")


def readme_table(pins: Pins) -> str:
    """The supported-releases table of README.md (a test keeps the README equal to this)."""
    lines = [
        "| Kubeflow | commit | Kubernetes | kustomize | minikube | minimal | standard | full |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for release in pins.by_age(newest_first=True):
        counts = [str(len(release.profile_components(p))) for p in PROFILES]
        lines.append(
            f"| {release.tag} | `{release.commit[:12]}` | {kubernetes_text(release)} | {release.kustomize} "
            f"| {release.minikube} | " + " | ".join(counts) + " |"
        )
    return "\n".join(lines) + "\n"
