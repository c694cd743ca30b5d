"""GPUs: minikube's `nvidia-device-plugin` addon (enabled by `minikube start --gpus`) runs a DaemonSet in kube-system,
and the node offers `nvidia.com/gpu` only while its pod is ready, as the kubelet does once a device plugin has
registered (kubernetes/minikube deploy/addons/gpu/nvidia-gpu-device-plugin.yaml.tmpl; kubernetes/kubernetes
pkg/kubelet/cm/devicemanager/manager.go).
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from tests.double.controllers.common import (
    DS,
    POD,
    pod_ready,
)
from tests.double.merge import clone
from tests.double.scenario import draw

#: minikube's NVIDIA device plugin addon (enabled by `minikube start --gpus`).
DEVICE_PLUGIN = "nvidia-device-plugin-daemonset"
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.0"

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def device_plugin_daemonset(ctrl: Controllers) -> None:
    """minikube's `nvidia-device-plugin` addon, which `--gpus` enables: it registers the GPUs with the node."""
    s = ctrl.c.scenario
    labels = {"name": "nvidia-device-plugin-ds"}
    plugin = ctrl.create(
        DS,
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {
                "name": DEVICE_PLUGIN,
                "namespace": "kube-system",
                "labels": {"k8s-app": "nvidia-device-plugin"},
            },
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "priorityClassName": "system-node-critical",
                        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                        "containers": [{"name": "nvidia-device-plugin-ctr", "image": DEVICE_PLUGIN_IMAGE}],
                    },
                },
            },
        },
    )
    patterns = [
        v
        for k, v in s.ready_delays.items()
        if fnmatch.fnmatchcase(f"kube-system/{DEVICE_PLUGIN}", k) or fnmatch.fnmatchcase(DEVICE_PLUGIN, k)
    ]
    ctrl.sim(plugin)["delay"] = draw(patterns[0], ctrl.c.rng) if patterns else 0.0


def reconcile(ctrl: Controllers, now: float) -> None:
    """The node offers `nvidia.com/gpu` only while the device plugin's pod is ready (as the kubelet does)."""
    s = ctrl.c.scenario
    if not s.gpus or not s.gpu_device_plugin:
        return
    plugin = ctrl.c.get(DS, "kube-system", DEVICE_PLUGIN)
    registered = plugin is not None and any(pod_ready(p) for p in ctrl.owned(POD, plugin))
    node = ctrl.c.get(("", "Node"), "", s.node_name)
    if node is None:
        return
    status = clone(node.get("status") or {})
    for key in ("capacity", "allocatable"):
        if registered:
            status.setdefault(key, {})["nvidia.com/gpu"] = str(s.gpus)
        else:
            status.setdefault(key, {}).pop("nvidia.com/gpu", None)
    ctrl.set_status(("", "Node"), node, status)
