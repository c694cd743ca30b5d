"""Which components to install, in which order, and why: pure logic over a pinned release.

A plan is what `kfinstall plan` prints and what `kfinstall up` executes. Building it touches nothing, so it is
the place where every choice (profile, `--with`, `--without`, variants, automatically added dependencies) is
made visible and explained before anything happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from kfinstall.errors import UsageError
from kfinstall.release.pins import PROFILES

if TYPE_CHECKING:
    from kfinstall.release.pins import Component, Release, RuntimeDependency, Wait

DEFAULT_PROFILE = "standard"


@dataclass(frozen=True)
class PlannedComponent:
    """One component as it will be installed: its paths (variant applied) and only in-plan dependencies."""

    id: str
    name: str
    paths: tuple[str, ...]
    depends_on: tuple[str, ...]
    namespaces: tuple[str, ...]
    reason: str
    variant: str | None = None
    waits: tuple[Wait, ...] = ()
    #: Its workloads that crash-loop until another of its workloads is ready (pins `runtime_needs`).
    runtime_needs: tuple[RuntimeDependency, ...] = ()
    #: Of `depends_on`: applied after as soon as they are served, not ready (pins `after_served`).
    after_served: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selection:
    """The ordered components of a plan, and what the user should be told about how they were chosen."""

    components: tuple[PlannedComponent, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def ids(self) -> list[str]:
        return [component.id for component in self.components]

    def critical_first(self) -> list[PlannedComponent]:
        """The components by how long a chain of dependents waits on them (longest first), plan order otherwise.

        Building and applying those first shortens the install: the chain through them is what bounds its length
        (istio → dex → oauth2-proxy → pipelines), while a leaf like training-operator can go any time.
        """
        depth = chain_lengths(self.components)
        ranked = sorted(enumerate(self.components), key=lambda item: (-depth[item[1].id], item[0]))
        return [component for _, component in ranked]


class _Node(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def depends_on(self) -> tuple[str, ...]: ...


def chain_lengths(components: Sequence[_Node]) -> dict[str, int]:
    """For each component, the number of components on the longest chain of dependents that starts at it, itself
    included: 1 for a component nothing depends on. (The graph is acyclic: `select` orders it.)"""
    dependents: dict[str, list[str]] = {c.id: [] for c in components}
    for component in components:
        for dep in component.depends_on:
            if dep in dependents:
                dependents[dep].append(component.id)
    length: dict[str, int] = {}

    def visit(node: str) -> int:
        if node not in length:
            length[node] = 1 + max((visit(d) for d in dependents[node]), default=0)
        return length[node]

    for component in components:
        visit(component.id)
    return length


def _unknown(kind: str, names: Iterable[str], valid: Sequence[str]) -> UsageError:
    listed = ", ".join(sorted(names))
    return UsageError(f"unknown {kind} {listed}", f"valid {kind}s: {', '.join(valid)}")


def select(
    release: Release,
    profile: str = DEFAULT_PROFILE,
    with_ids: Sequence[str] = (),
    without_ids: Sequence[str] = (),
    variants: dict[str, str] | None = None,
) -> Selection:
    """The components to install for `profile`, plus `with_ids` and their dependencies, minus `without_ids`.

    Dependencies of chosen components are added automatically (and reported in `notes`). Removing a
    component that another chosen one depends on is refused, naming both, rather than installing something
    that cannot work.
    """
    if profile not in PROFILES:
        raise _unknown("profile", [profile], PROFILES)
    by_id: dict[str, Component] = {component.id: component for component in release.components}
    valid = list(by_id)
    for names in (with_ids, without_ids):
        unknown = [name for name in names if name not in by_id]
        if unknown:
            raise _unknown("component", unknown, valid)
    variants = dict(variants or {})
    for component_id, variant in variants.items():
        if component_id not in by_id:
            raise _unknown("component", [component_id], valid)
        options = ["default", *by_id[component_id].alternatives]
        if variant not in options:
            raise _unknown(f"variant of {component_id}:", [variant], options)
    excluded = set(without_ids)
    reasons: dict[str, str] = {}
    for component in release.components:
        if profile in component.profiles and component.id not in excluded:
            reasons[component.id] = f"in profile {profile}"
    for component_id in with_ids:
        reasons.setdefault(component_id, "asked for with --with")
    notes: list[str] = []
    pending = list(reasons)
    while pending:
        current = pending.pop()
        for dependency in by_id[current].depends_on:
            if dependency in excluded:
                raise UsageError(
                    f"{current} depends on {dependency}, which --without {dependency} removes",
                    f"also remove {current} (--without {current}), or keep {dependency}",
                )
            if dependency not in reasons:
                reasons[dependency] = f"needed by {current}"
                notes.append(f"added {dependency}: needed by {current}")
                pending.append(dependency)
    ordered = order([by_id[component_id] for component_id in reasons], [c.id for c in release.components])
    planned = []
    for component in ordered:
        variant = variants.get(component.id)
        paths = component.alternatives[variant] if variant and variant != "default" else component.paths
        planned.append(
            PlannedComponent(
                id=component.id,
                name=component.name,
                paths=tuple(paths),
                depends_on=tuple(d for d in component.depends_on if d in reasons),
                namespaces=tuple(component.namespaces),
                reason=reasons[component.id],
                variant=variant if variant and variant != "default" else None,
                waits=tuple(component.waits),
                runtime_needs=tuple(component.runtime_needs),
                after_served=tuple(d for d in component.after_served if d in reasons),
            )
        )
    return Selection(tuple(planned), tuple(notes))


def order(components: Sequence[Component], release_order: Sequence[str]) -> list[Component]:
    """Dependencies first; among components free to go, the README's order (a stable topological sort)."""
    position = {component_id: index for index, component_id in enumerate(release_order)}
    remaining = {component.id: component for component in components}
    done: set[str] = set()
    result: list[Component] = []
    while remaining:
        ready = [
            component
            for component in remaining.values()
            if all(dep in done or dep not in remaining for dep in component.depends_on)
        ]
        if not ready:
            cycle = ", ".join(sorted(remaining))
            raise UsageError(f"the components {cycle} depend on each other in a cycle", "fix depends_on in the pins")
        chosen = min(ready, key=lambda component: position.get(component.id, len(position)))
        result.append(chosen)
        done.add(chosen.id)
        del remaining[chosen.id]
    return result
