"""What the installer is handed per component: its labelled objects (built, or still building) and dependencies.

A component in the installer's schedule is either built (`ComponentWork`) or still building (`LazyWork`):
scheduling needs only ids and dependencies, so independent components go in while others still build.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from kfinstall.kube.kubectl import Kubectl

Obj = dict[str, Any]


@dataclass(frozen=True)
class ComponentWork:
    """A component ready to install: its labelled objects and their hash."""

    id: str
    depends_on: tuple[str, ...]
    objects: tuple[Obj, ...]
    content_hash: str
    extra_ready_checks: tuple[Callable[[Kubectl], str | None], ...] = field(default=())

    def resolve(self) -> ComponentWork:
        return self

    def build_failure(self) -> BaseException | None:
        return None

    @property
    def first_objects(self) -> list[Obj]:
        """Everything but the custom resources of the component's own CRDs, Namespaces and CRDs leading.

        Applied at once, so the workloads start rolling out while the CRDs are being established (kubectl
        applies a stream in order, so nothing races its namespace); the custom resources follow once the
        CRDs are established (`later_objects`).
        """
        leading = ("Namespace", "CustomResourceDefinition")
        own = self._own_custom_kinds()
        first = [obj for obj in self.objects if group_kind(obj) not in own]
        return sorted(first, key=lambda obj: leading.index(obj["kind"]) if obj.get("kind") in leading else 2)

    @property
    def later_objects(self) -> list[Obj]:
        """The custom resources of the component's own CRDs: they can only be applied once those are established."""
        own = self._own_custom_kinds()
        return [obj for obj in self.objects if group_kind(obj) in own]

    def _own_custom_kinds(self) -> set[tuple[str, str]]:
        return {
            ((obj.get("spec") or {}).get("group", ""), ((obj.get("spec") or {}).get("names") or {}).get("kind", ""))
            for obj in self.objects
            if obj.get("kind") == "CustomResourceDefinition"
        }


@dataclass(frozen=True)
class LazyWork:
    """A component whose build is still running: scheduling needs only its id and dependencies, so independent
    components are applied while it builds; its objects are awaited when it is its turn."""

    id: str
    depends_on: tuple[str, ...]
    future: Future[ComponentWork] = field(compare=False, hash=False)

    def resolve(self) -> ComponentWork:
        """The built component (waiting for it); its build's KfError if the build failed."""
        return self.future.result()

    def build_failure(self) -> BaseException | None:
        """The build's error once it has failed (None while it runs or after it succeeded)."""
        return self.future.exception() if self.future.done() and not self.future.cancelled() else None


Work = ComponentWork | LazyWork


def group_kind(obj: Obj) -> tuple[str, str]:
    """(API group, kind) of an object: what a CRD's `spec.group` and `spec.names.kind` name."""
    api_version = str(obj.get("apiVersion", ""))
    return (api_version.rpartition("/")[0], str(obj.get("kind", "")))
