"""What an upgrade (or a change of the component set) does to an installed cluster, worked out as data (pure).

Upstream's answer to upgrading is "build the new manifests and apply them again; you might need to prune old
resources", plus version-specific notes (kubeflow/community-distribution README, "Upgrading and Extending";
../shared/reference/kubeflow-releases.md "Upgrades"). kfinstall labelled everything it applied from the start
(`kfinstall.dev/component`, manifests/objects.py), so the prune set is exact: the live objects carrying that label
that the new build no longer has. Never pruned, whatever the build says:

- objects another object owns (`ownerReferences`): a controller made them and the garbage collector removes them
  with their owner; and a Service's Endpoints, which carry the Service's labels and no owner (kubernetes
  pkg/controller/endpoint/endpoints_controller.go copies `service.Labels` onto them): they go with the Service;
- PersistentVolumeClaims: they hold data (KFP's MySQL and artifacts, Katib's database): kept and listed;
- Profiles and the Profiles CRD: upstream warns "Never delete the Profiles CRD; it would delete every profile
  namespace" (26.03 upgrade notes), and a Profile is the user's namespace;
- Namespaces: deleting one deletes everything in it, also what the user made there (upstream: "Do NOT delete any
  CustomResourceDefinition or Namespace", the same notes): kept and listed, for the user to delete once empty.

Objects whose immutable fields change between the live object and the new build cannot be applied over (the API
server answers `field is immutable`, upstream's note on e.g. a Deployment's `spec.selector`): they are deleted and
re-created ("replaced"), as upstream says to do by hand. The release's `upgrade_from` notes in the pins add the
deletions the builds cannot tell (release/pins.py `UpgradeFrom`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kfinstall.kube.labelled import Ref
from kfinstall.manifests.objects import COMPONENT_LABEL

if TYPE_CHECKING:
    from kfinstall.release.pins import Database, Release, UpgradeFrom, UpgradeObject

Obj = dict[str, Any]
Identity = tuple[str, str, str, str]  # group, kind, namespace ("" cluster-scoped), name

#: Fields the API server refuses to change on update, per group and kind. `exact`: compared as a whole (a selector
#: that loses labels is still a change); the others: a change when the build sets a value the live object lacks,
#: so defaults the server filled in are no change. Sources (kubernetes/kubernetes): pkg/registry/apps/deployment,
#: replicaset and daemonset strategy.go `ValidateUpdate` (`spec.selector` immutable in apps/v1:
#: `ValidateImmutableField`, "field is immutable"); pkg/apis/apps/validation/validation.go
#: `ValidateStatefulSetUpdate` (only replicas, ordinals, template, updateStrategy,
#: persistentVolumeClaimRetentionPolicy and minReadySeconds may change); pkg/apis/rbac/validation/validation.go
#: `ValidateRoleBindingUpdate` / `ValidateClusterRoleBindingUpdate` ("cannot change roleRef");
#: pkg/apis/batch/validation/validation.go `ValidateJobSpecUpdate` (selector and template immutable).
IMMUTABLE: dict[tuple[str, str], tuple[tuple[tuple[str, ...], bool], ...]] = {
    ("apps", "Deployment"): ((("spec", "selector"), True),),
    ("apps", "ReplicaSet"): ((("spec", "selector"), True),),
    ("apps", "DaemonSet"): ((("spec", "selector"), True),),
    ("apps", "StatefulSet"): (
        (("spec", "selector"), True),
        (("spec", "serviceName"), True),
        (("spec", "podManagementPolicy"), False),
        (("spec", "volumeClaimTemplates"), False),
    ),
    ("rbac.authorization.k8s.io", "RoleBinding"): ((("roleRef",), True),),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): ((("roleRef",), True),),
    ("batch", "Job"): ((("spec", "selector"), False), (("spec", "template"), False)),
}

#: Kept whatever the new build says (module docstring): data, and what upstream says never to delete.
KEPT_KINDS = frozenset({("", "PersistentVolumeClaim"), ("kubeflow.org", "Profile"), ("", "Namespace")})
KEPT_CRDS = frozenset({"profiles.kubeflow.org"})
_WEBHOOKS = frozenset({"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"})
#: Made by a controller from another object, with its labels (module docstring).
CONTROLLER_MADE = frozenset({("", "Endpoints"), ("discovery.k8s.io", "EndpointSlice")})


def identity(obj: Obj) -> Identity:
    metadata = obj.get("metadata") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return group, str(obj.get("kind", "")), str(metadata.get("namespace") or ""), str(metadata.get("name", ""))


@dataclass(frozen=True)
class Upgrade:
    """What is installed, when `up` changes it: decided before anything runs (commands/upgrade.py)."""

    #: The release installed (or, after an interrupted upgrade, the one it upgrades from).
    installed: str
    target: str
    #: The components installed, in install order.
    components: tuple[str, ...]
    #: Those `up` will no longer have (pruned by label), and those it adds.
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    #: (running, new): minikube upgrades the cluster's Kubernetes in place first.
    kubernetes: tuple[str, str] | None = None
    #: The release's notes for this upgrade (pins `upgrade_from`), None: none.
    notes: UpgradeFrom | None = None
    #: (component, database) of the installed components that keep one (pins `database` of the installed
    #: release): dumped before anything changes.
    databases: tuple[tuple[str, Database], ...] = ()

    @property
    def is_release_change(self) -> bool:
        return self.installed != self.target

    def as_dict(self) -> dict[str, Any]:
        notes = self.notes
        return {
            "from": self.installed,
            "to": self.target,
            "components_added": list(self.added),
            "components_removed": list(self.removed),
            "kubernetes": None if self.kubernetes is None else {"from": self.kubernetes[0], "to": self.kubernetes[1]},
            "deletes": [] if notes is None else [{"object": str(d), "why": d.why} for d in notes.deletes],
            "notes": [] if notes is None else list(notes.notes),
            "source": None if notes is None else notes.source,
            "database_dumps": [
                {"component": c, "namespace": d.namespace, "deployment": d.deployment, "databases": list(d.databases)}
                for c, d in self.databases
            ],
            "user_data": list(USER_DATA),
        }


@dataclass(frozen=True)
class Replacement:
    """A live object the new build changes in a field the API server keeps: deleted, then applied anew."""

    ref: Ref
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.ref} ({', '.join(self.fields)} changes)"


@dataclass(frozen=True)
class UpgradePlan:
    """What `up` does to the installed cluster beyond applying the new build."""

    installed: str
    target: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: In the order they are deleted: webhook configurations, namespaced, cluster-scoped, CRDs last.
    prune: tuple[Ref, ...] = ()
    #: Labelled, absent from the new build, and kept (data; what upstream says never to delete).
    kept: tuple[Ref, ...] = ()
    replace: tuple[Replacement, ...] = ()
    #: The release's upgrade notes (pins `upgrade_from`): deleted before applying.
    deletes: tuple[UpgradeObject, ...] = ()
    notes: tuple[str, ...] = ()
    source: str | None = None
    #: (running, new) when the cluster's Kubernetes is upgraded in place first.
    kubernetes: tuple[str, str] | None = None
    user_data: tuple[str, ...] = field(default=())

    @property
    def is_release_change(self) -> bool:
        return self.installed != self.target

    @property
    def destructive(self) -> bool:
        """Whether anything is deleted (or the cluster's Kubernetes replaced): `up` asks first."""
        return bool(self.prune or self.replace or self.deletes or self.kubernetes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.installed,
            "to": self.target,
            "components_added": list(self.added),
            "components_removed": list(self.removed),
            "prune": [str(r) for r in self.prune],
            "kept": [str(r) for r in self.kept],
            "replace": [{"object": str(r.ref), "fields": list(r.fields)} for r in self.replace],
            "deletes": [{"object": str(d), "why": d.why} for d in self.deletes],
            "notes": list(self.notes),
            "source": self.source,
            "kubernetes": None if self.kubernetes is None else {"from": self.kubernetes[0], "to": self.kubernetes[1]},
            "user_data": list(self.user_data),
        }


#: What happens to the user's data, said by every upgrade plan (module docstring: what is never pruned).
USER_DATA = (
    "kept: Profiles and their namespaces, Notebooks, PersistentVolumeClaims, PodDefaults and KFP's database "
    "(kfinstall deletes only objects carrying its labels, never a volume or the Profiles CRD)",
)


def dump_name(component: str) -> str:
    """The file a component's database dump is written to, in the backup directory."""
    return f"{component}-mysql.sql"


def plan_upgrade(
    installed: str,
    installed_components: Sequence[str],
    release: Release,
    components: Sequence[str],
    live: Iterable[Obj],
    built: Iterable[Obj],
    kubernetes: tuple[str, str] | None = None,
) -> UpgradePlan:
    """The upgrade from release `installed` (with `installed_components`) to `release` with `components`, given the
    live labelled objects and the new build's objects (both as the API returns / kustomize builds them)."""
    new = {identity(obj): obj for obj in built}
    prune: list[Ref] = []
    kept: list[Ref] = []
    replace: list[Replacement] = []
    seen: set[Identity] = set()
    for obj in live:
        key = identity(obj)
        metadata = obj.get("metadata") or {}
        if key in seen or not (metadata.get("labels") or {}).get(COMPONENT_LABEL) or metadata.get("ownerReferences"):
            continue
        if (key[0], key[1]) in CONTROLLER_MADE:
            continue
        seen.add(key)
        ref = Ref.of(obj)
        if key in new:
            changed = immutable_changes(obj, new[key])
            if changed:
                replace.append(Replacement(ref, changed))
        elif (key[0], key[1]) in KEPT_KINDS or (key[1] == "CustomResourceDefinition" and key[3] in KEPT_CRDS):
            kept.append(ref)
        else:
            prune.append(ref)
    notes = release.upgrade_notes(installed) if installed != release.tag else None
    return UpgradePlan(
        installed=installed,
        target=release.tag,
        added=tuple(c for c in components if c not in installed_components),
        removed=tuple(c for c in installed_components if c not in components),
        prune=tuple(prune_order(prune, [*installed_components, *components])),
        kept=tuple(kept),
        replace=tuple(replace),
        deletes=tuple(notes.deletes) if notes else (),
        notes=tuple(notes.notes) if notes else (),
        source=notes.source if notes else None,
        kubernetes=kubernetes,
        user_data=USER_DATA,
    )


def prune_order(refs: Iterable[Ref], order: Sequence[str]) -> list[Ref]:
    """Webhook configurations first (a webhook whose service is gone would block the deletions it guards), then
    components newest first (namespaced objects, then cluster-scoped), and CRDs last (their custom resources go
    while the controllers could still act): the order of `kfinstall down --keep-cluster` (namespaces are kept)."""
    position = {component: index for index, component in enumerate(dict.fromkeys(order))}

    def rank(ref: Ref) -> tuple[int, int, int]:
        if ref.kind in _WEBHOOKS:
            return (0, 0, 0)
        if ref.kind == "Namespace":
            return (2, 0, 0)
        if ref.kind == "CustomResourceDefinition":
            return (3, 0, 0)
        return (1, -position.get(ref.component, len(position)), 0 if ref.namespace else 1)

    return sorted(refs, key=rank)


def immutable_changes(live: Obj, built: Obj) -> tuple[str, ...]:
    """The immutable fields (IMMUTABLE) whose built value the live object does not have: `spec.selector`."""
    group, kind, _, _ = identity(built)
    changed = []
    for path, exact in IMMUTABLE.get((group, kind), ()):
        wanted, _ = _at(built, path)
        if wanted is None:
            continue  # the build leaves it to the server: whatever it defaulted stays
        have, _ = _at(live, path)
        if (have != wanted) if exact else not _contains(have, wanted):
            changed.append(".".join(path))
    return tuple(changed)


def _at(obj: Any, path: tuple[str, ...]) -> tuple[Any, bool]:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return None, False
        obj = obj[part]
    return obj, True


def _contains(have: Any, wanted: Any) -> bool:
    """Whether `have` holds everything `wanted` sets (the server may have added defaults to `have`)."""
    if isinstance(wanted, dict):
        return isinstance(have, dict) and all(_contains(have.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(have, list) and len(have) == len(wanted) and all(map(_contains, have, wanted))
    return have == wanted or (isinstance(have, (int, float)) and str(have) == str(wanted))
