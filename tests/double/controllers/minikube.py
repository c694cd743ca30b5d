"""What a fresh minikube cluster has before anything is applied: the four namespaces, the node (capacity from the
scenario), the default StorageClass, the `kubernetes` Service, kube-system's workloads with their requests and
preloaded images, and with `--gpus` the device plugin (kubernetes/minikube pkg/minikube/bootstrapper/kubeadm,
deploy/addons/storageclass/storageclass.yaml, deploy/addons/storage-provisioner/storage-provisioner.yaml.tmpl).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tests.double.cluster import Obj, now_iso
from tests.double.controllers.common import (
    DEPLOY,
    DS,
    EP,
    NS,
    SVC,
    short_hash,
)
from tests.double.controllers.gpus import device_plugin_daemonset
from tests.double.controllers.pods import new_pod

STORAGE_PROVISIONER_IMAGE = "gcr.io/k8s-minikube/storage-provisioner:v5"

if TYPE_CHECKING:
    from tests.double.controllers.manager import Controllers


def bootstrap(ctrl: Controllers) -> None:
    """What a fresh minikube cluster has: namespaces, the node, default services, kube-system's pods."""
    s = ctrl.c.scenario
    with ctrl.c.lock:
        for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
            ctrl.create(NS, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        capacity = {
            "cpu": str(s.cpus),
            "ephemeral-storage": "102626232Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": f"{s.memory_mb * 1024}Ki",
            "pods": "110",
        }
        if s.gpus and not s.gpu_device_plugin:
            capacity["nvidia.com/gpu"] = str(s.gpus)  # no plugin simulated: the GPUs are simply there
        role = "node-role.kubernetes.io/control-plane" if s.minor >= 20 else "node-role.kubernetes.io/master"
        node = ctrl.create(
            ("", "Node"),
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": s.node_name,
                    "labels": {
                        "beta.kubernetes.io/arch": "amd64",
                        "beta.kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "kubernetes.io/hostname": s.node_name,
                        "kubernetes.io/os": "linux",
                        "minikube.k8s.io/name": s.node_name,
                        "minikube.k8s.io/primary": "true",
                        role: "",
                    },
                },
                "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
            },
        )
        ready_since = now_iso()
        ctrl.set_status(
            ("", "Node"),
            node,
            {
                "capacity": capacity,
                "allocatable": dict(capacity),
                "conditions": [
                    {
                        "type": t,
                        "status": "False",
                        "reason": r,
                        "message": m,
                        "lastHeartbeatTime": ready_since,
                        "lastTransitionTime": ready_since,
                    }
                    for t, r, m in (
                        ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    )
                ]
                + [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "kubelet is posting ready status",
                        "lastHeartbeatTime": ready_since,
                        "lastTransitionTime": ready_since,
                    }
                ],
                "addresses": [
                    {"type": "InternalIP", "address": "192.168.49.2"},
                    {"type": "Hostname", "address": s.node_name},
                ],
                "nodeInfo": {
                    "kubeletVersion": s.k8s_version,
                    "kubeProxyVersion": s.k8s_version,
                    "containerRuntimeVersion": "docker://27.4.1",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                    "osImage": "Ubuntu 22.04.5 LTS",
                    "kernelVersion": "6.8.0-generic",
                    "machineID": short_hash(s.node_name, 32),
                    "systemUUID": short_hash(s.node_name + "uuid", 32),
                    "bootID": short_hash("boot", 32),
                },
            },
        )
        ctrl.create(
            ("storage.k8s.io", "StorageClass"),
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                    "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"},
                },
                "provisioner": "k8s.io/minikube-hostpath",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
            },
        )
        ctrl.create(
            SVC,
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}],
                },
            },
        )
        ctrl.create(
            EP,
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": "kubernetes", "namespace": "default"},
                "subsets": [
                    {
                        "addresses": [{"ip": "192.168.49.2"}],
                        "ports": [{"name": "https", "port": 8443, "protocol": "TCP"}],
                    }
                ],
            },
        )
        if s.system_pods:
            _system_workloads(ctrl, node)
        if s.gpus and s.gpu_device_plugin:
            device_plugin_daemonset(ctrl)
        ctrl.reconcile()  # kube-system settles (and a plugin registers its GPUs) before the API listens


def _system_workloads(ctrl: Controllers, node: Obj) -> None:
    s = ctrl.c.scenario
    coredns = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "containers": [
                        {
                            "name": "coredns",
                            "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                            "ports": [{"containerPort": 53, "name": "dns", "protocol": "UDP"}],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "70Mi"},
                                "limits": {"memory": "170Mi"},
                            },
                        }
                    ],
                },
            },
        },
    }
    ctrl.sim(ctrl.create(DEPLOY, coredns))["delay"] = 0.0
    ctrl.create(
        SVC,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {
                "clusterIP": "10.96.0.10",
                "selector": {"k8s-app": "kube-dns"},
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}],
            },
        },
    )
    proxy = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {
                    "containers": [{"name": "kube-proxy", "image": f"registry.k8s.io/kube-proxy:{s.k8s_version}"}]
                },
            },
        },
    }
    ctrl.sim(ctrl.create(DS, proxy))["delay"] = 0.0
    static = [
        ("etcd", "registry.k8s.io/etcd:3.5.15-0", {"cpu": "100m", "memory": "100Mi"}),
        ("kube-apiserver", f"registry.k8s.io/kube-apiserver:{s.k8s_version}", {"cpu": "250m"}),
        ("kube-controller-manager", f"registry.k8s.io/kube-controller-manager:{s.k8s_version}", {"cpu": "200m"}),
        ("kube-scheduler", f"registry.k8s.io/kube-scheduler:{s.k8s_version}", {"cpu": "100m"}),
    ]
    for component, image, requests in static:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{component}-{s.node_name}",
                "namespace": "kube-system",
                "labels": {"component": component, "tier": "control-plane"},
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "Node",
                        "name": s.node_name,
                        "uid": node["metadata"]["uid"],
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "nodeName": s.node_name,
                "priorityClassName": "system-node-critical",
                "containers": [{"name": component, "image": image, "resources": {"requests": requests}}],
            },
        }
        new_pod(ctrl, pod, delay=0.0)
    # minikube's preload tarball: the control plane's images are on the node before anything runs
    preloaded = [image for _, image, _ in static] + [
        coredns["spec"]["template"]["spec"]["containers"][0]["image"],
        proxy["spec"]["template"]["spec"]["containers"][0]["image"],
        STORAGE_PROVISIONER_IMAGE,
    ]
    ctrl.images.preload(preloaded, time.monotonic())
    new_pod(
        ctrl,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "storage-provisioner",
                "namespace": "kube-system",
                "labels": {"integration-test": "storage-provisioner"},
            },
            "spec": {"containers": [{"name": "storage-provisioner", "image": STORAGE_PROVISIONER_IMAGE}]},
        },
        delay=0.0,
    )
