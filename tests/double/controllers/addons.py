"""Operators that the real Kubeflow manifests install, simulated where their effects gate an install.

- cert-manager: once a Deployment named `cert-manager` is available, every Certificate (cert-manager.io or the old
  certmanager.k8s.io) gets its TLS Secret and a Ready condition. Webhook pods mount those Secrets, so they stay in
  ContainerCreating (FailedMount events) until cert-manager has issued them — the real ordering.
- cert-manager's CA injection: the `cert-manager-webhook` makes its `cert-manager-webhook-ca` Secret once
  available; once `cert-manager-cainjector` is available, webhook configurations annotated
  `cert-manager.io/inject-ca-from[-secret]` get their caBundle when the source Secret exists. Until then calls to
  them fail with `x509: certificate signed by unknown authority` (tests/double/cluster.py).
- istiod: once available, it writes the `istio-ca-root-cert` ConfigMap into every namespace (sidecars and gateways
  mount it).
- Kubeflow profiles: once the `profiles-deployment` is available, each Profile gets, `profile_reconcile_delay`
  after the double first saw it, its namespace of the Profile's name (owner annotation, the profile controller's
  labels), the `default-editor`/`default-viewer` ServiceAccounts with their RoleBindings (to kubeflow-edit and
  kubeflow-view) and a Ready condition (kubeflow/kubeflow components/profile-controller/controllers/
  profile_controller.go). The namespace is created by the controller
  itself, not through the API; a Profile whose name is no valid namespace name never gets here, because the API
  refuses the Profile first (tests/double/names.py: custom resources are DNS-1123 subdomains) — a Profile that is
  a subdomain but no label (`a.b`) is skipped, as the real controller's namespace create would fail.
- Kubeflow Pipelines' cache deployer (KFP 1.x, e.g. Kubeflow v1.4.0; later releases use a cert-manager Certificate):
  once `cache-deployer-deployment` is available, its script has made the `webhook-server-tls` Secret (`key.pem`,
  `cert.pem`) that the `cache-server` pod mounts, and the `cache-webhook-<namespace>` MutatingWebhookConfiguration
  (kubeflow/pipelines backend/src/cache/deployer/deploy-cache-service.sh and webhook-create-signed-cert.sh: a CSR
  approved by the script itself, then `kubectl create secret generic webhook-server-tls`; then it sleeps forever).
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

from tests.double import names
from tests.double.cluster import Obj
from tests.double.controllers.common import condition
from tests.double.merge import clone

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers

CERT_GROUPS = ("cert-manager.io", "certmanager.k8s.io")
WEBHOOK_CA = "cert-manager-webhook-ca"
_PEM = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBdouble\n-----END CERTIFICATE-----\n").decode()
_KEY = base64.b64encode(b"-----BEGIN RSA PRIVATE KEY-----\nMIIEdouble\n-----END RSA PRIVATE KEY-----\n").decode()


def _available(ctrl: Controllers, name: str) -> bool:
    for dep in ctrl.c.list(("apps", "Deployment")):
        if dep["metadata"]["name"] == name:
            conditions = (dep.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions):
                return True
    return False


def reconcile(ctrl: Controllers, now: float) -> None:
    _certificates(ctrl)
    _ca_injection(ctrl)
    _istio_root_cert(ctrl)
    _profiles(ctrl)
    _kfp_cache_deployer(ctrl)


def _ready(previous: list[Obj] | None, reason: str, message: str) -> list[Obj]:
    return [condition(previous, "Ready", "True", reason, message)]


def _certificates(ctrl: Controllers) -> None:
    c = ctrl.c
    certificates = [(group, cert) for group in CERT_GROUPS for cert in c.list((group, "Certificate"))]
    if not certificates or not _available(ctrl, "cert-manager"):
        return
    for group, cert in certificates:
        meta = cert["metadata"]
        ns = meta.get("namespace", "")
        secret_name = (cert.get("spec") or {}).get("secretName")
        if not secret_name or "deletionTimestamp" in meta or not ctrl.ns_active(ns):
            continue
        if c.get(("", "Secret"), ns, secret_name) is None:
            ctrl.create(
                ("", "Secret"),
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "kubernetes.io/tls",
                    "metadata": {
                        "name": secret_name,
                        "namespace": ns,
                        "annotations": {
                            f"{group}/certificate-name": meta["name"],
                            f"{group}/common-name": (cert.get("spec") or {}).get("commonName", ""),
                        },
                    },
                    "data": {"ca.crt": _PEM, "tls.crt": _PEM, "tls.key": _KEY},
                },
            )
        previous = (cert.get("status") or {}).get("conditions")
        status: dict[str, Any] = dict(cert.get("status") or {})
        status["conditions"] = _ready(previous, "Ready", "Certificate is up to date and has not expired")
        status.setdefault("notAfter", "2099-01-01T00:00:00Z")
        ctrl.set_status((group, "Certificate"), cert, status)


def _ca_injection(ctrl: Controllers) -> None:
    """cert-manager's webhook makes its own CA secret; the cainjector copies CAs into annotated webhook configs."""
    c = ctrl.c
    if _available(ctrl, "cert-manager-webhook"):
        for dep in c.list(("apps", "Deployment")):
            ns = dep["metadata"]["namespace"]
            if dep["metadata"]["name"] == "cert-manager-webhook" and c.get(("", "Secret"), ns, WEBHOOK_CA) is None:
                ctrl.create(
                    ("", "Secret"),
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "type": "Opaque",
                        "metadata": {"name": WEBHOOK_CA, "namespace": ns},
                        "data": {"ca.crt": _PEM, "tls.crt": _PEM, "tls.key": _KEY},
                    },
                )
    if not _available(ctrl, "cert-manager-cainjector"):
        return
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for config in c.list(("admissionregistration.k8s.io", kind)):
            annotations = config["metadata"].get("annotations") or {}
            source = annotations.get("cert-manager.io/inject-ca-from-secret")
            if source:
                ns, _, name = source.partition("/")
                ready = c.get(("", "Secret"), ns, name) is not None
            elif annotations.get("cert-manager.io/inject-ca-from"):
                ns, _, name = annotations["cert-manager.io/inject-ca-from"].partition("/")
                cert = next(
                    (
                        c.get((g, "Certificate"), ns, name)
                        for g in CERT_GROUPS
                        if c.get((g, "Certificate"), ns, name) is not None
                    ),
                    None,
                )
                secret = ((cert or {}).get("spec") or {}).get("secretName")
                ready = bool(secret) and c.get(("", "Secret"), ns, secret) is not None
            else:
                continue
            hooks = config.get("webhooks") or []
            if not ready or all((h.get("clientConfig") or {}).get("caBundle") for h in hooks):
                continue
            new = clone(config)
            for hook in new.get("webhooks") or []:
                hook.setdefault("clientConfig", {})["caBundle"] = _PEM
            c.put(("admissionregistration.k8s.io", kind), new, "MODIFIED")


def _istio_root_cert(ctrl: Controllers) -> None:
    c = ctrl.c
    if not _available(ctrl, "istiod"):
        return
    for ns in c.list(("", "Namespace")):
        name = ns["metadata"]["name"]
        if ctrl.ns_active(name) and c.get(("", "ConfigMap"), name, "istio-ca-root-cert") is None:
            ctrl.create(
                ("", "ConfigMap"),
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": "istio-ca-root-cert",
                        "namespace": name,
                        "labels": {"istio.io/config": "true"},
                    },
                    "data": {"root-cert.pem": base64.b64decode(_PEM).decode()},
                },
            )


def _profiles(ctrl: Controllers) -> None:
    c = ctrl.c
    profiles = c.list(("kubeflow.org", "Profile"))
    if not profiles or not _available(ctrl, "profiles-deployment"):
        return
    for profile in profiles:
        meta = profile["metadata"]
        if "deletionTimestamp" in meta:
            continue
        name = meta["name"]
        owner = ((profile.get("spec") or {}).get("owner") or {}).get("name", "")
        if names.dns1123_label(name):
            continue  # the real controller's Namespace create is refused (NameIsDNSLabel)
        seen = ctrl.sim(profile)["seen"]
        if time.monotonic() - seen < c.scenario.profile_reconcile_delay:
            ctrl.due(seen + c.scenario.profile_reconcile_delay)
            continue
        if c.get(("", "Namespace"), "", name) is None:
            ctrl.create(
                ("", "Namespace"),
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {
                        "name": name,
                        "annotations": {"owner": owner},
                        "labels": {
                            "app.kubernetes.io/part-of": "kubeflow-profile",
                            "istio-injection": "enabled",
                            "katib.kubeflow.org/metrics-collector-injection": "enabled",
                            "pipelines.kubeflow.org/enabled": "true",
                            "serving.kubeflow.org/inferenceservice": "enabled",
                        },
                        "ownerReferences": [
                            ctrl.owner_ref(profile, profile.get("apiVersion", "kubeflow.org/v1"), "Profile")
                        ],
                    },
                },
            )
        if not ctrl.ns_active(name):
            continue
        # updateServiceAccount: each account and a RoleBinding of its name to kubeflow-edit / kubeflow-view
        for account, role in (("default-editor", "kubeflow-edit"), ("default-viewer", "kubeflow-view")):
            if c.get(("", "ServiceAccount"), name, account) is None:
                ctrl.create(
                    ("", "ServiceAccount"),
                    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": name}},
                )
            if c.get(("rbac.authorization.k8s.io", "RoleBinding"), name, account) is None:
                ctrl.create(
                    ("rbac.authorization.k8s.io", "RoleBinding"),
                    {
                        "apiVersion": "rbac.authorization.k8s.io/v1",
                        "kind": "RoleBinding",
                        "metadata": {"name": account, "namespace": name},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": name}],
                    },
                )
        previous = (profile.get("status") or {}).get("conditions")
        ctrl.set_status(
            ("kubeflow.org", "Profile"),
            profile,
            {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "message": "",
                        **{k: v for k, v in (previous or [{}])[0].items() if k == "lastTransitionTime"},
                    }
                ]
            },
        )


#: The cache deployer's names (kubeflow/pipelines backend/src/cache/deployer/deploy-cache-service.sh).
CACHE_DEPLOYER = "cache-deployer-deployment"
CACHE_SECRET = "webhook-server-tls"


def _kfp_cache_deployer(ctrl: Controllers) -> None:
    """What KFP 1.x's cache deployer script leaves behind once its pod runs: the TLS Secret and the webhook config."""
    c = ctrl.c
    for dep in c.list(("apps", "Deployment")):
        meta = dep["metadata"]
        ns = meta.get("namespace", "")
        if meta["name"] != CACHE_DEPLOYER or not _available(ctrl, CACHE_DEPLOYER) or not ctrl.ns_active(ns):
            continue
        if c.get(("", "Secret"), ns, CACHE_SECRET) is None:
            ctrl.create(
                ("", "Secret"),
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "Opaque",
                    "metadata": {"name": CACHE_SECRET, "namespace": ns},
                    "data": {"key.pem": _KEY, "cert.pem": _PEM},
                },
            )
        webhook = f"cache-webhook-{ns}"
        if c.get(("admissionregistration.k8s.io", "MutatingWebhookConfiguration"), "", webhook) is None:
            # backend/src/cache/deployer/cache-webhook-config.v1.yaml.template: pods with the KFP cache label only.
            ctrl.create(
                ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
                {
                    "apiVersion": "admissionregistration.k8s.io/v1",
                    "kind": "MutatingWebhookConfiguration",
                    "metadata": {"name": webhook},
                    "webhooks": [
                        {
                            "name": f"cache-server.{ns}.svc",
                            "clientConfig": {
                                "service": {"name": "cache-server", "namespace": ns, "path": "/mutate"},
                                "caBundle": _PEM,
                            },
                            "rules": [
                                {
                                    "operations": ["CREATE"],
                                    "apiGroups": [""],
                                    "apiVersions": ["v1"],
                                    "resources": ["pods"],
                                }
                            ],
                            "objectSelector": {"matchLabels": {"pipelines.kubeflow.org/cache_enabled": "true"}},
                            "timeoutSeconds": 5,
                        }
                    ],
                },
            )
