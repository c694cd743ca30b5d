"""Istio's sidecar injector, as the cluster double's mutating admission runs it on a pod create.

A pod whose create the apiserver sends to a reachable `*sidecar-injector.istio.io` webhook (cluster.py matches
its rules, namespaceSelector and objectSelector, and refuses the create while istiod has no ready endpoints) gets
an `istio-proxy` container, so the kubelet schedules the pod with the proxy's requests and pulls its image, as on
a real cluster. Without this the double placed Kubeflow's pods as if they had no proxy (v1.10.2: 29 pods, 100m
CPU and 128 MiB each) and a node too small for them passed.

What istiod does, from istio/istio pkg/kube/inject/inject.go (`injectRequired`, `ProxyImage`) and
pkg/kube/inject/webhook.go (the configuration is the ConfigMap `istio-sidecar-injector` in istio-system, keys
`config` and `values`, re-read when it changes): no injection for `hostNetwork` pods or in kube-system and
kube-public; the `sidecar.istio.io/inject` label, else that annotation, decides (y/yes/true/on inject; any other
value does not); without either, `neverInjectSelector`, `alwaysInjectSelector`, then `policy` (`enabled`
injects; any other value, or none, is refused as illegal and injects nothing). The proxy's
resources are the injection template's (the release's ConfigMap, e.g. kubeflow/manifests
common/istio/istio-install/base/install.yaml): the pod's `sidecar.istio.io/proxyCPU`, `proxyMemory`,
`proxyCPULimit`, `proxyMemoryLimit` annotations when any is set, else `values` `global.proxy.resources`; its
image `{hub}/{proxy.image}:{tag}`. A pod that already has an `istio-proxy` container keeps it (the template is
merged into it). The init container the template adds (istio-init, or istio-validation with Istio CNI) requests
what the proxy does, so it never decides scheduling, and the double leaves it out.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.double.selectors import match_label_selector_object

Obj = dict[str, Any]
WEBHOOK_SUFFIX = "sidecar-injector.istio.io"
CONFIGMAP = ("istio-system", "istio-sidecar-injector")
_IGNORED = {"kube-system", "kube-public"}
_YES = {"y", "yes", "true", "on"}
_RESOURCE_ANNOTATIONS = {
    ("requests", "cpu"): "sidecar.istio.io/proxyCPU",
    ("requests", "memory"): "sidecar.istio.io/proxyMemory",
    ("limits", "cpu"): "sidecar.istio.io/proxyCPULimit",
    ("limits", "memory"): "sidecar.istio.io/proxyMemoryLimit",
}


def is_injector(hook: Obj) -> bool:
    return str(hook.get("name", "")).endswith(WEBHOOK_SUFFIX)


def inject(pod: Obj, namespace: str, configmap: Obj | None) -> None:
    """Add the proxy to `pod` (in place) when istiod would; without its ConfigMap istiod injects nothing."""
    if configmap is None:
        return
    meta, spec = pod.setdefault("metadata", {}), pod.setdefault("spec", {})
    data = configmap.get("data") or {}
    config = yaml.safe_load(data.get("config") or "") or {}
    values = json.loads(data.get("values") or "{}")
    if not _required(config, namespace, meta, spec):
        return
    if any(
        c.get("name") == "istio-proxy" for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    ):
        return
    glob = values.get("global") or {}
    proxy = glob.get("proxy") or {}
    image = proxy.get("image") or "proxyv2"
    if "/" not in image:
        image = f"{glob.get('hub', '')}/{image}:{glob.get('tag', '')}"
    annotations = meta.get("annotations") or {}
    if any(name in annotations for name in _RESOURCE_ANNOTATIONS.values()):
        resources: Obj = {"requests": {}, "limits": {}}
        for (part, key), name in _RESOURCE_ANNOTATIONS.items():
            if name in annotations:
                resources[part][key] = annotations[name]
    else:
        resources = json.loads(json.dumps(proxy.get("resources") or {}))
    spec.setdefault("containers", []).append({"name": "istio-proxy", "image": image, "resources": resources})


def _required(config: Obj, namespace: str, meta: Obj, spec: Obj) -> bool:
    if spec.get("hostNetwork") or namespace in _IGNORED:
        return False
    labels = meta.get("labels") or {}
    choice = (meta.get("annotations") or {}).get("sidecar.istio.io/inject", "")
    choice = labels.get("sidecar.istio.io/inject", choice)
    if choice:
        return str(choice).lower() in _YES
    for selector in config.get("neverInjectSelector") or []:
        if selector and match_label_selector_object(selector, labels):
            return False
    for selector in config.get("alwaysInjectSelector") or []:
        if selector and match_label_selector_object(selector, labels):
            return True
    return config.get("policy") == "enabled"  # inject.go: any other policy, or none, injects nothing
