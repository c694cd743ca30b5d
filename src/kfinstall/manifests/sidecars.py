"""The Istio proxy that the sidecar injector adds to a pod, as the release's own Istio build configures it.

Pure: built objects in, containers out. Kubeflow runs most of its pods in namespaces labelled
`istio-injection: enabled`, so each of them gets an `istio-proxy` container the manifests do not hold (100m CPU
and 128 MiB in v1.10.2, 10m and 40 MiB in 26.03): without it the measured requests undercount what the scheduler
must place (manifests/requests.py adds it).

Where each rule comes from:
- Which pods the apiserver sends to the injector: the release's MutatingWebhookConfiguration whose webhooks are
  named `*sidecar-injector.istio.io` (their `namespaceSelector` on the namespace's labels, with the label
  `kubernetes.io/metadata.name` the apiserver sets since 1.21, and their `objectSelector` on the pod's labels;
  kubernetes/kubernetes staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/predicates), each a metav1
  LabelSelector (apimachinery pkg/apis/meta/v1/helpers.go LabelSelectorAsSelector: NotIn and DoesNotExist hold
  when the key is absent).
- Whether the injector then injects: istio/istio pkg/kube/inject/inject.go `injectRequired`: never with
  `hostNetwork`, never in kube-system or kube-public; the `sidecar.istio.io/inject` label, else the annotation
  of that name (y/yes/true/on inject, any other value does not); without either, `neverInjectSelector`, then
  `alwaysInjectSelector`, then the config's `policy` (`enabled` injects; any other, or none, does not).
- What it adds: the injection template in the release's ConfigMap `istio-sidecar-injector` (istio-system,
  key `config`; e.g. kubeflow/manifests common/istio/istio-install/base/install.yaml): the container's requests
  are the pod's `sidecar.istio.io/proxyCPU` / `proxyMemory` annotations when any of the four proxy resource
  annotations is set, else the key `values`' `global.proxy.resources`; its image
  `{global.hub}/{global.proxy.image}:{global.tag}` (inject.go `ProxyImage`). The init container it also adds
  (istio-init, or istio-validation with Istio CNI) requests the same, so it never raises the pod's requests
  above the containers' sum with the proxy, and is not modelled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Obj = dict[str, Any]

INJECTOR_CONFIGMAP = ("istio-system", "istio-sidecar-injector")
#: The webhooks Istio's injector registers (`rev.namespace.`, `namespace.`, `object.`, ...) all end so.
WEBHOOK_SUFFIX = "sidecar-injector.istio.io"
PROXY_NAME = "istio-proxy"
_IGNORED_NAMESPACES = frozenset({"kube-system", "kube-public"})
_TRUE = frozenset({"y", "yes", "true", "on"})
_INJECT = "sidecar.istio.io/inject"
_RESOURCE_ANNOTATIONS = ("proxyCPU", "proxyMemory", "proxyCPULimit", "proxyMemoryLimit")


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: matchLabels and matchExpressions all hold; an empty selector matches everything."""
    if not selector:
        return True
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        holds = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(operator, False)
        if not holds:
            return False
    return True


@dataclass(frozen=True)
class Injector:
    """The injector's configuration from the release's build."""

    #: (namespaceSelector, objectSelector) of each `*sidecar-injector.istio.io` webhook.
    webhooks: tuple[tuple[Mapping[str, Any], Mapping[str, Any]], ...]
    policy: str = ""
    never: tuple[Mapping[str, Any], ...] = ()
    always: tuple[Mapping[str, Any], ...] = ()
    #: `values` `global.proxy.resources` (requests and limits, Kubernetes quantities).
    resources: Mapping[str, Any] = field(default_factory=dict)
    image: str = ""

    def injects(self, namespace: str, namespace_labels: Mapping[str, str], meta: Mapping[str, Any], spec: Obj) -> bool:
        labels = meta.get("labels") or {}
        called = any(
            selector_matches(ns_selector, namespace_labels) and selector_matches(obj_selector, labels)
            for ns_selector, obj_selector in self.webhooks
        )
        if not called or spec.get("hostNetwork") or namespace in _IGNORED_NAMESPACES:
            return False
        choice = labels.get(_INJECT, (meta.get("annotations") or {}).get(_INJECT, ""))
        if choice:
            return str(choice).lower() in _TRUE
        if any(selector and selector_matches(selector, labels) for selector in self.never):
            return False
        if any(selector and selector_matches(selector, labels) for selector in self.always):
            return True
        return self.policy == "enabled"  # any other policy, or none, is "illegal" to inject.go: no injection

    def proxy(self, meta: Mapping[str, Any]) -> Obj:
        """The `istio-proxy` container as the template renders its image and resources for this pod."""
        annotations = meta.get("annotations") or {}
        own = {name: annotations.get(f"sidecar.istio.io/{name}") for name in _RESOURCE_ANNOTATIONS}
        if any(value is not None for value in own.values()):
            requests = {k: v for k, v in (("cpu", own["proxyCPU"]), ("memory", own["proxyMemory"])) if v is not None}
            limits = {k: v for k, v in (("cpu", own["proxyCPULimit"]), ("memory", own["proxyMemoryLimit"]))
                      if v is not None}  # fmt: skip
            resources: Mapping[str, Any] = {"requests": requests, "limits": limits}
        else:
            resources = self.resources
        return {"name": PROXY_NAME, "image": self.image, "resources": dict(resources)}


@dataclass(frozen=True)
class Injection:
    """The injector (None: the build has none) and the labels of the namespaces the build makes."""

    injector: Injector | None
    namespaces: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def proxy_for(self, namespace: str, meta: Mapping[str, Any], spec: Obj) -> Obj | None:
        """The container the injector adds to a pod of this template in `namespace`, None when it adds none."""
        if self.injector is None:
            return None
        labels = {**self.namespaces.get(namespace, {}), "kubernetes.io/metadata.name": namespace}
        if not self.injector.injects(namespace, labels, meta, spec):
            return None
        if any(
            c.get("name") == PROXY_NAME for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
        ):
            return None  # the pod customises the proxy itself (its container is merged with the template's)
        return self.injector.proxy(meta)


NO_INJECTION = Injection(None)


def injection_of(objects: Iterable[Obj]) -> Injection:
    """The injector and the namespaces' labels of a build (the first definition of each wins)."""
    namespaces: dict[str, Mapping[str, str]] = {}
    configmap: Obj | None = None
    webhooks: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata") or {}
        if kind == "Namespace":
            namespaces.setdefault(str(meta.get("name")), dict(meta.get("labels") or {}))
        elif kind == "ConfigMap" and (meta.get("namespace"), meta.get("name")) == INJECTOR_CONFIGMAP:
            configmap = configmap or obj
        elif kind == "MutatingWebhookConfiguration":
            webhooks += [
                (hook.get("namespaceSelector") or {}, hook.get("objectSelector") or {})
                for hook in obj.get("webhooks") or []
                if str(hook.get("name", "")).endswith(WEBHOOK_SUFFIX)
            ]
    if configmap is None or not webhooks:
        return Injection(None, namespaces)
    return Injection(_injector(configmap, tuple(webhooks)), namespaces)


def _injector(configmap: Obj, webhooks: tuple[tuple[Mapping[str, Any], Mapping[str, Any]], ...]) -> Injector:
    data = configmap.get("data") or {}
    try:
        config = yaml.safe_load(data.get("config") or "") or {}
        values = json.loads(data.get("values") or "{}")
    except (yaml.YAMLError, ValueError):
        config, values = {}, {}
    global_values = values.get("global") or {}
    proxy = global_values.get("proxy") or {}
    name = proxy.get("image") or "proxyv2"
    image = name if "/" in name else f"{global_values.get('hub', '')}/{name}:{global_values.get('tag', '')}"
    return Injector(
        webhooks=webhooks,
        policy=str(config.get("policy", "")),
        never=tuple(config.get("neverInjectSelector") or ()),
        always=tuple(config.get("alwaysInjectSelector") or ()),
        resources=proxy.get("resources") or {},
        image=image,
    )
