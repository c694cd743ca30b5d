"""The Endpoints controller: each Service with a selector gets an Endpoints object of the same name listing its pods
(ready ones under `addresses`, others under `notReadyAddresses`, named target ports resolved from the pods);
Endpoints without their Service go (kubernetes/kubernetes pkg/controller/endpoint/endpoints_controller.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.cluster import Obj
from tests.double.controllers.common import (
    EP,
    POD,
    SVC,
    pod_ready,
)
from tests.double.merge import clone
from tests.double.selectors import match_label_selector_object

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    services = {}
    for svc in ctrl.c.list(SVC):
        meta = svc["metadata"]
        key = (meta["namespace"], meta["name"])
        services[key] = svc
        selector = (svc.get("spec") or {}).get("selector")
        if not selector:
            continue
        ready, not_ready = [], []
        pods = [
            p
            for p in ctrl.c.list(POD, meta["namespace"])
            if "deletionTimestamp" not in p["metadata"]
            and match_label_selector_object({"matchLabels": selector}, p["metadata"].get("labels") or {})
            and (p.get("status") or {}).get("podIP")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        for pod in sorted(pods, key=lambda p: p["status"]["podIP"]):
            address = {
                "ip": pod["status"]["podIP"],
                "nodeName": pod["spec"].get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "namespace": meta["namespace"],
                    "name": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                },
            }
            (ready if pod_ready(pod) else not_ready).append(address)
        ports = []
        for port in (svc.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if isinstance(target, str):
                target = _named_port(pods, target) or port.get("port")
            entry = {"port": target, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
        subset: Obj = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                **({"labels": dict(meta["labels"])} if meta.get("labels") else {}),
            },
        }
        if subset:
            subset["ports"] = ports
            body["subsets"] = [subset]
        current = ctrl.c.get(EP, meta["namespace"], meta["name"])
        if current is None:
            if ctrl.ns_active(meta["namespace"]):
                ctrl.create(EP, body)
        elif current.get("subsets") != body.get("subsets") or current["metadata"].get("labels") != meta.get("labels"):
            new = clone(current)
            if meta.get("labels"):
                new["metadata"]["labels"] = dict(meta["labels"])
            else:
                new["metadata"].pop("labels", None)
            if "subsets" in body:
                new["subsets"] = body["subsets"]
            else:
                new.pop("subsets", None)
            ctrl.c.put(EP, new, "MODIFIED")
    for ep in ctrl.c.list(EP):
        key = (ep["metadata"]["namespace"], ep["metadata"]["name"])
        if key not in services and key != ("default", "kubernetes"):
            ctrl.c.remove(EP, ep)


def _named_port(pods: list[Obj], name: str) -> int | None:
    for pod in pods:
        for c in pod["spec"].get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == name:
                    return p.get("containerPort")
    return None
