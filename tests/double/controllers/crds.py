"""CRD establishment: an applied CRD is `NamesAccepted` and `Established`, and its kinds are served, only after
`crd_establish_delay` (kubernetes/kubernetes staging/src/k8s.io/apiextensions-apiserver/pkg/controller/status/
naming_controller.go and pkg/controller/establish/establishing_controller.go); a deleted CRD's kinds stop being served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.catalog import ResourceType
from tests.double.cluster import Obj
from tests.double.controllers.common import (
    CRD,
    condition,
)
from tests.double.discovery import version_priority

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    delay = ctrl.c.scenario.crd_establish_delay
    for crd in ctrl.c.list(CRD):
        sim = ctrl.sim(crd)
        if "deletionTimestamp" in crd["metadata"]:
            continue
        settled = ctrl.crds_settled.get(crd["metadata"]["uid"])
        if (
            settled is not None
            and settled[0] == crd["metadata"]["resourceVersion"]
            and ctrl.c.crd_types.get(crd["metadata"]["name"]) is settled[1]
        ):
            continue  # this version was established and served as it is: the pass below would change nothing
        established = any(
            c.get("type") == "Established" and c.get("status") == "True"
            for c in (crd.get("status") or {}).get("conditions") or []
        )
        if not established and now - sim["seen"] < delay:
            ctrl.due(sim["seen"] + delay)
            continue
        types = crd_types(crd)
        if ctrl.c.crd_types.get(crd["metadata"]["name"]) != types:
            ctrl.c.set_crd_types(crd["metadata"]["name"], types)
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        previous = (crd.get("status") or {}).get("conditions")
        storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")] or [spec.get("version")]
        accepted = {
            "plural": names.get("plural"),
            "singular": names.get("singular") or names.get("kind", "").lower(),
            "kind": names.get("kind"),
            "listKind": names.get("listKind") or f"{names.get('kind')}List",
        }
        for key in ("shortNames", "categories"):
            if names.get(key):
                accepted[key] = names[key]
        status = {
            "conditions": [
                condition(previous, "NamesAccepted", "True", "NoConflicts", "no conflicts found"),
                condition(
                    previous, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted"
                ),
            ],
            "acceptedNames": accepted,
            "storedVersions": sorted(set(((crd.get("status") or {}).get("storedVersions") or []) + storage)),
        }
        if ctrl.set_status(CRD, crd, status) is crd:
            meta = crd["metadata"]
            ctrl.crds_settled[meta["uid"]] = (meta["resourceVersion"], ctrl.c.crd_types.get(meta["name"]))
    for name in list(ctrl.c.crd_types):
        if ctrl.c.get(CRD, "", name) is None:
            ctrl.c.set_crd_types(name, None)


def crd_types(crd: Obj) -> list[ResourceType]:
    """The resource types an established CRD serves (v1 and v1beta1 CRD shapes)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    versions = spec.get("versions") or ([{"name": spec["version"], "served": True}] if spec.get("version") else [])
    top_sub = spec.get("subresources") or {}
    out = []
    for v in sorted(versions, key=lambda v: version_priority(v["name"])):
        if not v.get("served", True):
            continue
        sub = v.get("subresources") or top_sub
        out.append(
            ResourceType(
                group=group,
                version=v["name"],
                kind=names.get("kind", ""),
                plural=names.get("plural", ""),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(k for k in ("status", "scale") if k in sub),
            )
        )
    return out
