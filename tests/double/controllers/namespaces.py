"""Namespaces: a deleted one stays `Terminating` for `namespace_terminate_delay`, then goes with its contents
(kubernetes/kubernetes pkg/controller/namespace/deletion/namespaced_resources_deleter.go); every active one gets its
`default` ServiceAccount (pkg/controller/serviceaccount/serviceaccounts_controller.go) and, from 1.20, the
`kube-root-ca.crt` ConfigMap (pkg/controller/certificates/rootcacertpublisher/publisher.go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.double.controllers.common import (
    NS,
)

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def reconcile(ctrl: Controllers, now: float) -> None:
    s = ctrl.c.scenario
    for ns in ctrl.c.list(NS):
        name = ns["metadata"]["name"]
        if "deletionTimestamp" in ns["metadata"]:
            deleted_at = ctrl.sim(ns).get("deleted_at", now)
            if now - deleted_at < s.namespace_terminate_delay:
                ctrl.due(deleted_at + s.namespace_terminate_delay)
                continue
            for gk, obj in list(ctrl.c.iter_all()):
                if obj["metadata"].get("namespace") == name and gk != NS:
                    ctrl.c.remove(gk, obj)
            ctrl.c.remove(NS, ns)
            continue
        if ctrl.c.get(("", "ServiceAccount"), name, "default") is None:
            ctrl.create(
                ("", "ServiceAccount"),
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}},
            )
        if s.minor >= 20 and ctrl.c.get(("", "ConfigMap"), name, "kube-root-ca.crt") is None:
            ctrl.create(
                ("", "ConfigMap"),
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "kube-root-ca.crt", "namespace": name},
                    "data": {
                        "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIDBjCCAe6gAwIBAgIBATANBg==\n"
                        "-----END CERTIFICATE-----\n"
                    },
                },
            )
