"""Simulated controllers: CRD establishment, namespaces, workloads and their pods, scheduling, endpoints, jobs.

They run in one background thread, woken by every change and every 50 ms, each pass under the cluster lock. Each
controller compares what it would write with what is stored and writes only differences, so a quiet cluster stays
quiet (no resourceVersion churn) and watches see the transitions kubectl waits for.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import threading
import time
from typing import Any

from tests.double import addons, errors
from tests.double.catalog import ResourceType
from tests.double.cluster import GK, Cluster, Obj, now_iso
from tests.double.discovery import version_priority
from tests.double.images import ImageStore, pull_error
from tests.double.merge import clone
from tests.double.scenario import draw
from tests.double.selectors import match_label_selector_object

POD: GK = ("", "Pod")
NS: GK = ("", "Namespace")
DEPLOY: GK = ("apps", "Deployment")
RS: GK = ("apps", "ReplicaSet")
STS: GK = ("apps", "StatefulSet")
DS: GK = ("apps", "DaemonSet")
JOB: GK = ("batch", "Job")
SVC: GK = ("", "Service")
EP: GK = ("", "Endpoints")
PVC: GK = ("", "PersistentVolumeClaim")
CRD: GK = ("apiextensions.k8s.io", "CustomResourceDefinition")
EVENT: GK = ("", "Event")

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
#: minikube's NVIDIA device plugin addon (enabled by `minikube start --gpus`).
DEVICE_PLUGIN = "nvidia-device-plugin-daemonset"
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.0"
CRASH_PERIOD = 1.0
STORAGE_PROVISIONER_IMAGE = "gcr.io/k8s-minikube/storage-provisioner:v5"


def short_hash(data: Any, n: int = 10) -> str:
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:n])


def parse_quantity(value: Any) -> float:
    """A Kubernetes quantity as a float (cpu in cores, memory in bytes)."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    suffixes = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "Pi": 2**50,
        "Ei": 2**60,
        "n": 1e-9,
        "u": 1e-6,
        "m": 1e-3,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "P": 1e15,
        "E": 1e18,
    }
    for suffix in sorted(suffixes, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * suffixes[suffix]
    return float(text)


def _container_requests(container: Obj) -> dict[str, float]:
    resources = container.get("resources") or {}
    requests = dict(resources.get("limits") or {})  # a limit alone also sets the request
    requests.update(resources.get("requests") or {})
    return {k: parse_quantity(v) for k, v in requests.items() if k in ("cpu", "memory", "nvidia.com/gpu")}


def pod_requests(spec: Obj) -> dict[str, float]:
    """What the scheduler counts: the containers' sum, or the largest init container if that is more."""
    total: dict[str, float] = {}
    for container in spec.get("containers") or []:
        for name, qty in _container_requests(container).items():
            total[name] = total.get(name, 0.0) + qty
    for container in spec.get("initContainers") or []:
        for name, qty in _container_requests(container).items():
            total[name] = max(total.get(name, 0.0), qty)
    return total


def condition(
    previous: list[Obj] | None,
    ctype: str,
    status: str,
    reason: str | None = None,
    message: str | None = None,
    probe: bool = False,
    update_time: bool = False,
) -> Obj:
    """A status condition keeping lastTransitionTime when the status did not change."""
    old = next((c for c in previous or [] if c.get("type") == ctype), None)
    stamp = old["lastTransitionTime"] if old and old.get("status") == status and "lastTransitionTime" in old else None
    out: Obj = {"type": ctype, "status": status}
    if probe:
        out["lastProbeTime"] = None
    if update_time:
        out["lastUpdateTime"] = (old or {}).get("lastUpdateTime") if stamp else None
        out["lastUpdateTime"] = out["lastUpdateTime"] or now_iso()
    out["lastTransitionTime"] = stamp or now_iso()
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


class Controllers:
    """The reconcile loop over a Cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ip = 2
        self._events_sent: set[tuple[str, str, str]] = set()
        #: The earliest time a simulated delay ends (the loop sleeps until then or until something changes).
        self._due = 0.0
        #: The node's images and the kubelet's puller (used only with the scenario's image_pull_delays).
        self.images = ImageStore()

    # ------------------------------------------------------------------------------------------------ loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="double-controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.c.changed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def due(self, when: float) -> None:
        """Something changes by itself at `when` (a delay ends): wake up then, not before."""
        self._due = min(self._due, when)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.c.changed.wait(max(0.005, min(1.0, self._due - time.monotonic())))
            self.c.changed.clear()
            try:
                with self.c.lock:
                    self._due = float("inf")
                    self.reconcile()
            except Exception:
                import traceback

                traceback.print_exc()
                time.sleep(0.2)

    def reconcile(self) -> None:
        now = time.monotonic()
        self._crds(now)
        self._namespaces(now)
        self._finalizers(now)
        self._deployments()
        self._replicasets()
        self._statefulsets()
        self._daemonsets()
        self._jobs(now)
        self._pods(now)
        self.due(self.images.next_change(self.c.scenario.serialize_image_pulls))
        self._pvcs(now)
        self._endpoints()
        addons.reconcile(self)
        self._gpus()

    # ------------------------------------------------------------------------------------------------ helpers

    def sim(self, obj: Obj) -> dict[str, Any]:
        return self.c.sim.setdefault(obj["metadata"]["uid"], {"seen": time.monotonic()})

    def set_status(self, gk: GK, obj: Obj, status: Obj) -> Obj:
        if obj.get("status") == status:
            return obj
        new = dict(obj)
        new["metadata"] = dict(obj["metadata"])
        new["status"] = status
        return self.c.put(gk, new, "MODIFIED")

    def create(self, gk: GK, obj: Obj) -> Obj:
        return self.c.new_object(gk, obj, manager="kube-controller-manager")

    def event(
        self,
        involved: Obj,
        kind: str,
        reason: str,
        message: str,
        etype: str = "Warning",
        component: str = "default-scheduler",
    ) -> None:
        key = (involved["metadata"]["uid"], reason, message)
        if key in self._events_sent:
            return
        self._events_sent.add(key)
        meta = involved["metadata"]
        ns = meta.get("namespace") or "default"
        if self.c.get(NS, "", ns) is None:
            return
        stamp = now_iso()
        self.create(
            EVENT,
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{meta['name']}.{short_hash([key, time.time()], 16)}", "namespace": ns},
                "involvedObject": {
                    "kind": kind,
                    "namespace": ns,
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "apiVersion": involved.get("apiVersion", "v1"),
                    "resourceVersion": meta.get("resourceVersion", ""),
                },
                "reason": reason,
                "message": message,
                "source": {"component": component},
                "firstTimestamp": stamp,
                "lastTimestamp": stamp,
                "count": 1,
                "type": etype,
                "reportingComponent": component if self.c.scenario.minor >= 20 else "",
                "reportingInstance": "",
            },
        )

    @staticmethod
    def owner_ref(owner: Obj, api_version: str, kind: str) -> Obj:
        return {
            "apiVersion": api_version,
            "kind": kind,
            "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def owned(self, gk: GK, owner: Obj) -> list[Obj]:
        """Objects of a kind that name `owner` in their ownerReferences, in creation order."""
        uid = owner["metadata"]["uid"]
        out = []
        for dgk, key in self.c.dependents.get(uid, ()):
            obj = self.c.store[dgk].get(key) if dgk == gk else None
            if obj is not None and any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or []):
                out.append(obj)
        return sorted(out, key=lambda o: (o["metadata"]["creationTimestamp"], o["metadata"]["name"]))

    def ns_active(self, ns: str) -> bool:
        obj = self.c.get(NS, "", ns)
        return obj is not None and "deletionTimestamp" not in obj["metadata"]

    # ------------------------------------------------------------------------------------------------ bootstrap

    def bootstrap(self) -> None:
        """What a fresh minikube cluster has: namespaces, the node, default services, kube-system's pods."""
        s = self.c.scenario
        with self.c.lock:
            for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
                self.create(NS, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
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
            node = self.create(
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
            self.set_status(
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
            self.create(
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
            self.create(
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
            self.create(
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
                self._system_workloads(node)
            if s.gpus and s.gpu_device_plugin:
                self._device_plugin_daemonset()
            self.reconcile()  # kube-system settles (and a plugin registers its GPUs) before the API listens

    def _device_plugin_daemonset(self) -> None:
        """minikube's `nvidia-device-plugin` addon, which `--gpus` enables: it registers the GPUs with the node."""
        s = self.c.scenario
        labels = {"name": "nvidia-device-plugin-ds"}
        plugin = self.create(
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
        self.sim(plugin)["delay"] = draw(patterns[0], self.c.rng) if patterns else 0.0

    def _gpus(self) -> None:
        """The node offers `nvidia.com/gpu` only while the device plugin's pod is ready (as the kubelet does)."""
        s = self.c.scenario
        if not s.gpus or not s.gpu_device_plugin:
            return
        plugin = self.c.get(DS, "kube-system", DEVICE_PLUGIN)
        registered = plugin is not None and any(_pod_ready(p) for p in self.owned(POD, plugin))
        node = self.c.get(("", "Node"), "", s.node_name)
        if node is None:
            return
        status = clone(node.get("status") or {})
        for key in ("capacity", "allocatable"):
            if registered:
                status.setdefault(key, {})["nvidia.com/gpu"] = str(s.gpus)
            else:
                status.setdefault(key, {}).pop("nvidia.com/gpu", None)
        self.set_status(("", "Node"), node, status)

    def _system_workloads(self, node: Obj) -> None:
        s = self.c.scenario
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
        self.sim(self.create(DEPLOY, coredns))["delay"] = 0.0
        self.create(
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
        self.sim(self.create(DS, proxy))["delay"] = 0.0
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
            self._new_pod(pod, delay=0.0)
        # minikube's preload tarball: the control plane's images are on the node before anything runs
        preloaded = [image for _, image, _ in static] + [
            coredns["spec"]["template"]["spec"]["containers"][0]["image"],
            proxy["spec"]["template"]["spec"]["containers"][0]["image"],
            STORAGE_PROVISIONER_IMAGE,
        ]
        self.images.preload(preloaded, time.monotonic())
        self._new_pod(
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

    # ------------------------------------------------------------------------------------------------ CRDs

    def _crds(self, now: float) -> None:
        delay = self.c.scenario.crd_establish_delay
        for crd in self.c.list(CRD):
            sim = self.sim(crd)
            if "deletionTimestamp" in crd["metadata"]:
                continue
            established = any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in (crd.get("status") or {}).get("conditions") or []
            )
            if not established and now - sim["seen"] < delay:
                self.due(sim["seen"] + delay)
                continue
            types = crd_types(crd)
            if self.c.crd_types.get(crd["metadata"]["name"]) != types:
                self.c.set_crd_types(crd["metadata"]["name"], types)
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
            self.set_status(CRD, crd, status)
        for name in list(self.c.crd_types):
            if self.c.get(CRD, "", name) is None:
                self.c.set_crd_types(name, None)

    # ------------------------------------------------------------------------------------------------ namespaces

    def _namespaces(self, now: float) -> None:
        s = self.c.scenario
        for ns in self.c.list(NS):
            name = ns["metadata"]["name"]
            if "deletionTimestamp" in ns["metadata"]:
                deleted_at = self.sim(ns).get("deleted_at", now)
                if now - deleted_at < s.namespace_terminate_delay:
                    self.due(deleted_at + s.namespace_terminate_delay)
                    continue
                for gk, obj in list(self.c.iter_all()):
                    if obj["metadata"].get("namespace") == name and gk != NS:
                        self.c.remove(gk, obj)
                self.c.remove(NS, ns)
                continue
            if self.c.get(("", "ServiceAccount"), name, "default") is None:
                self.create(
                    ("", "ServiceAccount"),
                    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}},
                )
            if s.minor >= 20 and self.c.get(("", "ConfigMap"), name, "kube-root-ca.crt") is None:
                self.create(
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

    def _finalizers(self, now: float) -> None:
        delay = self.c.scenario.finalizer_delay
        for gk, obj in list(self.c.iter_all()):
            meta = obj["metadata"]
            if gk == NS or "deletionTimestamp" not in meta:
                continue
            deleted_at = self.sim(obj).get("deleted_at", now)
            if now - deleted_at >= delay:
                self.c.remove(gk, obj)
            else:
                self.due(deleted_at + delay)

    # ------------------------------------------------------------------------------------------------ workloads

    def _delay(self, obj: Obj) -> float:
        sim = self.sim(obj)
        if "delay" not in sim:
            meta = obj["metadata"]
            sim["delay"] = self.c.scenario.delay_for(meta.get("namespace", ""), meta["name"], self.c.rng)
        return sim["delay"]

    def _deployments(self) -> None:
        for dep in self.c.list(DEPLOY):
            meta = dep["metadata"]
            if "deletionTimestamp" in meta:
                continue
            spec = dep.get("spec") or {}
            template = spec.get("template") or {}
            tpl_hash = short_hash(template)
            rs_name = f"{meta['name']}-{tpl_hash}"
            replicas = spec.get("replicas", 1)
            rses = self.owned(RS, dep)
            current = next((r for r in rses if r["metadata"]["name"] == rs_name), None)
            for old in rses:
                if old is not current:
                    self.c.delete_object(RS, old)
            if current is None:
                labels = dict((template.get("metadata") or {}).get("labels") or {})
                labels["pod-template-hash"] = tpl_hash
                selector = clone(spec.get("selector") or {})
                selector.setdefault("matchLabels", {})["pod-template-hash"] = tpl_hash
                tpl = clone(template)
                tpl.setdefault("metadata", {})["labels"] = labels
                current = self.create(
                    RS,
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "metadata": {
                            "name": rs_name,
                            "namespace": meta["namespace"],
                            "labels": labels,
                            "annotations": {"deployment.kubernetes.io/revision": str(len(rses) + 1)},
                            "ownerReferences": [self.owner_ref(dep, "apps/v1", "Deployment")],
                        },
                        "spec": {"replicas": replicas, "selector": selector, "template": tpl},
                    },
                )
                self.sim(current)["delay"] = self._delay_fresh(dep)
            elif current["spec"].get("replicas") != replicas:
                new = clone(current)
                new["spec"]["replicas"] = replicas
                current = self.c.put(RS, new, "MODIFIED")
            pods = [p for p in self.owned(POD, current) if "deletionTimestamp" not in p["metadata"]]
            ready = sum(1 for p in pods if _pod_ready(p))
            available_needed = replicas - _max_unavailable(spec, replicas)
            complete = ready >= replicas and len(pods) == replicas
            if not complete:
                self.due(self.sim(current)["seen"] + self._deadline(spec) + 0.01)
            previous = (dep.get("status") or {}).get("conditions")
            rs_ref = f'ReplicaSet "{rs_name}"'
            conds = [
                condition(
                    previous,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    update_time=True,
                )
                if ready >= available_needed
                else condition(
                    previous,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    update_time=True,
                ),
                condition(
                    previous,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f"{rs_ref} has successfully progressed.",
                    update_time=True,
                )
                if complete
                else condition(
                    previous,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f"{rs_ref} has timed out progressing.",
                    update_time=True,
                )
                if time.monotonic() - self.sim(current)["seen"] > self._deadline(spec)
                else condition(
                    previous, "Progressing", "True", "ReplicaSetUpdated", f"{rs_ref} is progressing.", update_time=True
                ),
            ]
            status: Obj = {"observedGeneration": meta.get("generation", 1)}
            if pods:
                status["replicas"] = len(pods)
                status["updatedReplicas"] = len(pods)
            if ready:
                status["readyReplicas"] = ready
                status["availableReplicas"] = ready
            if replicas - ready > 0:
                status["unavailableReplicas"] = replicas - ready
            rs_failure = next(
                (c for c in (current.get("status") or {}).get("conditions") or [] if c["type"] == "ReplicaFailure"),
                None,
            )
            if rs_failure:
                conds.append(condition(previous, "ReplicaFailure", "True", "FailedCreate", rs_failure.get("message")))
            status["conditions"] = conds
            self.set_status(DEPLOY, dep, status)

    def _deadline(self, spec: Obj) -> float:
        override = self.c.scenario.progress_deadline
        return float(override if override is not None else spec.get("progressDeadlineSeconds", 600))

    def _delay_fresh(self, obj: Obj) -> float:
        """A new draw for each rollout of a workload (its first one uses the workload's own delay)."""
        sim = self.sim(obj)
        if "delay" not in sim:
            return self._delay(obj)
        meta = obj["metadata"]
        return self.c.scenario.delay_for(meta.get("namespace", ""), meta["name"], self.c.rng)

    def _replicasets(self) -> None:
        for rs in self.c.list(RS):
            if "deletionTimestamp" in rs["metadata"]:
                continue
            spec = rs.get("spec") or {}
            replicas = spec.get("replicas", 1)
            pods = [p for p in self.owned(POD, rs) if "deletionTimestamp" not in p["metadata"]]
            for extra in pods[replicas:]:
                self.c.delete_object(POD, extra)
            pods = pods[:replicas]
            delay = self.sim(rs).get("delay", 0.0)
            for _ in range(replicas - len(pods)):
                name = f"{rs['metadata']['name']}-{''.join(self.c.rng.choices(_ALPHABET, k=5))}"
                pod = self._pod_from_template(rs, "ReplicaSet", spec.get("template") or {}, name, {})
                created = self._admit_pod(rs, "ReplicaSet", pod, delay)
                if created is None:
                    break
                pods.append(created)
            ready = sum(1 for p in pods if _pod_ready(p))
            status: Obj = {
                "replicas": len(pods),
                "fullyLabeledReplicas": len(pods),
                "observedGeneration": rs["metadata"].get("generation", 1),
            }
            if ready:
                status["readyReplicas"] = ready
                status["availableReplicas"] = ready
            failure = self.sim(rs).get("create_error")
            if failure:
                previous = (rs.get("status") or {}).get("conditions")
                status["conditions"] = [condition(previous, "ReplicaFailure", "True", "FailedCreate", failure)]
            self.set_status(RS, rs, status)

    def _statefulsets(self) -> None:
        for sts in self.c.list(STS):
            meta = sts["metadata"]
            if "deletionTimestamp" in meta:
                continue
            spec = sts.get("spec") or {}
            template = spec.get("template") or {}
            revision = f"{meta['name']}-{short_hash(template)}"
            sim = self.sim(sts)
            if sim.get("revision") != revision:
                if "revision" in sim:
                    sim["delay"] = self._delay_fresh(sts)
                sim["revision"] = revision
            replicas = spec.get("replicas", 1)
            parallel = spec.get("podManagementPolicy") == "Parallel"
            pods = {p["metadata"]["name"]: p for p in self.owned(POD, sts) if "deletionTimestamp" not in p["metadata"]}
            for name, pod in list(pods.items()):
                ordinal = int(name.rsplit("-", 1)[1])
                if ordinal >= replicas or pod["metadata"]["labels"].get("controller-revision-hash") != revision:
                    self.c.delete_object(POD, pod)
                    del pods[name]
            for i in range(replicas):
                name = f"{meta['name']}-{i}"
                if name in pods:
                    if not parallel and not _pod_ready(pods[name]):
                        break
                    continue
                self._claims(sts, i)
                labels = {"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": name}
                if self.c.scenario.minor >= 28:
                    labels["apps.kubernetes.io/pod-index"] = str(i)
                pod = self._pod_from_template(sts, "StatefulSet", template, name, labels)
                pod["spec"].setdefault("hostname", name)
                created = self._admit_pod(sts, "StatefulSet", pod, self._delay(sts))
                if created is None or not parallel:
                    break
                pods[name] = created
            pods = {p["metadata"]["name"]: p for p in self.owned(POD, sts) if "deletionTimestamp" not in p["metadata"]}
            ready = sum(1 for p in pods.values() if _pod_ready(p))
            status: Obj = {
                "observedGeneration": meta.get("generation", 1),
                "replicas": len(pods),
                "currentReplicas": len(pods),
                "updatedReplicas": len(pods),
                "currentRevision": revision,
                "updateRevision": revision,
                "collisionCount": 0,
            }
            if ready:
                status["readyReplicas"] = ready
            if self.c.scenario.minor >= 22:
                status["availableReplicas"] = ready
            self.set_status(STS, sts, status)

    def _claims(self, sts: Obj, ordinal: int) -> None:
        ns = sts["metadata"]["namespace"]
        for tpl in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            name = f"{tpl['metadata']['name']}-{sts['metadata']['name']}-{ordinal}"
            if self.c.get(PVC, ns, name) is None:
                claim = clone(tpl)
                claim["apiVersion"], claim["kind"] = "v1", "PersistentVolumeClaim"
                claim["metadata"] = {
                    "name": name,
                    "namespace": ns,
                    "labels": dict((sts["spec"].get("selector") or {}).get("matchLabels") or {}),
                }
                claim.pop("status", None)
                claim["spec"].setdefault("storageClassName", "standard")
                self.create(PVC, claim)

    def _daemonsets(self) -> None:
        node_name = self.c.scenario.node_name
        for ds in self.c.list(DS):
            meta = ds["metadata"]
            if "deletionTimestamp" in meta:
                continue
            template = (ds.get("spec") or {}).get("template") or {}
            revision = short_hash(template)
            pods = [p for p in self.owned(POD, ds) if "deletionTimestamp" not in p["metadata"]]
            for pod in pods:
                if pod["metadata"]["labels"].get("controller-revision-hash") != revision:
                    self.c.delete_object(POD, pod)
            pods = [p for p in pods if p["metadata"]["labels"].get("controller-revision-hash") == revision]
            sim = self.sim(ds)
            if not pods:
                if sim.get("revision") not in (None, revision):
                    sim["delay"] = self._delay_fresh(ds)
                sim["revision"] = revision
                name = f"{meta['name']}-{''.join(self.c.rng.choices(_ALPHABET, k=5))}"
                pod = self._pod_from_template(
                    ds,
                    "DaemonSet",
                    template,
                    name,
                    {"controller-revision-hash": revision, "pod-template-generation": str(meta.get("generation", 1))},
                )
                pod["spec"]["nodeName"] = node_name
                created = self._admit_pod(ds, "DaemonSet", pod, self._delay(ds))
                if created is not None:
                    pods = [created]
            ready = sum(1 for p in pods if _pod_ready(p))
            status: Obj = {
                "currentNumberScheduled": len(pods),
                "desiredNumberScheduled": 1,
                "numberMisscheduled": 0,
                "numberReady": ready,
                "observedGeneration": meta.get("generation", 1),
                "updatedNumberScheduled": len(pods),
            }
            if ready:
                status["numberAvailable"] = ready
            if 1 - ready > 0:
                status["numberUnavailable"] = 1 - ready
            self.set_status(DS, ds, status)

    def _jobs(self, now: float) -> None:
        for job in self.c.list(JOB):
            meta = job["metadata"]
            if "deletionTimestamp" in meta:
                continue
            pods = self.owned(POD, job)
            status = dict(job.get("status") or {})
            if any(c.get("type") == "Complete" for c in status.get("conditions") or []):
                continue
            if not pods:
                template = clone((job.get("spec") or {}).get("template") or {})
                template.setdefault("spec", {}).setdefault("restartPolicy", "Never")
                labels = {"controller-uid": meta["uid"], "job-name": meta["name"]}
                if self.c.scenario.minor >= 27:
                    labels.update(
                        {
                            "batch.kubernetes.io/controller-uid": meta["uid"],
                            "batch.kubernetes.io/job-name": meta["name"],
                        }
                    )
                name = f"{meta['name']}-{''.join(self.c.rng.choices(_ALPHABET, k=5))}"
                pod = self._pod_from_template(job, "Job", template, name, labels)
                created = self._admit_pod(job, "Job", pod, self._delay(job))
                if created is None:
                    continue
                pods = [created]
            status.setdefault("startTime", now_iso())
            succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
            if succeeded:
                status.pop("active", None)
                status["succeeded"] = succeeded
                status["completionTime"] = now_iso()
                status["conditions"] = [condition(None, "Complete", "True", probe=True)]
                if self.c.scenario.minor >= 29:
                    status["conditions"].insert(0, condition(None, "SuccessCriteriaMet", "True", probe=True))
            else:
                status["active"] = len(pods)
            if self.c.scenario.minor >= 24:
                status["ready"] = sum(1 for p in pods if _pod_ready(p))
            self.set_status(JOB, job, status)

    # ------------------------------------------------------------------------------------------------ pods

    def _pod_from_template(self, owner: Obj, kind: str, template: Obj, name: str, labels: dict[str, str]) -> Obj:
        tmeta = template.get("metadata") or {}
        spec = clone(template.get("spec") or {})
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": owner["metadata"]["namespace"],
                "labels": {**(tmeta.get("labels") or {}), **labels},
                **({"annotations": dict(tmeta["annotations"])} if tmeta.get("annotations") else {}),
                "ownerReferences": [self.owner_ref(owner, owner.get("apiVersion", "apps/v1"), kind)],
            },
            "spec": spec,
        }

    def _admit_pod(self, owner: Obj, kind: str, pod: Obj, delay: float) -> Obj | None:
        """Create a pod through admission like the controller-manager does; a webhook refusal is retried later."""
        ns = pod["metadata"]["namespace"]
        if not self.ns_active(ns):
            return None
        rt = self.c.type_for_kind("", "Pod")
        assert rt is not None
        try:
            self.c.admit(rt, ns, pod, "CREATE")
        except errors.ApiError as exc:
            self.sim(owner)["create_error"] = exc.message
            self.event(
                owner,
                kind,
                "FailedCreate",
                f"Error creating: {exc.message}",
                component="replicaset-controller" if kind == "ReplicaSet" else f"{kind.lower()}-controller",
            )
            return None
        self.sim(owner).pop("create_error", None)
        return self._new_pod(pod, delay)

    def _new_pod(self, pod: Obj, delay: float) -> Obj:
        pod["status"] = {"phase": "Pending", "qosClass": _qos(pod["spec"])}
        created = self.create(POD, pod)
        created = self.set_status(POD, created, {"phase": "Pending", "qosClass": _qos(pod["spec"])})
        self.sim(created)["delay"] = delay
        return created

    def _pods(self, now: float) -> None:
        s = self.c.scenario
        node = self.c.get(("", "Node"), "", s.node_name)
        allocatable = {
            k: parse_quantity(v) for k, v in ((node or {}).get("status") or {}).get("allocatable", {}).items()
        }
        pods = sorted(self.c.list(POD), key=lambda p: int(p["metadata"]["resourceVersion"]))
        self.images.advance(now, s.serialize_image_pulls)
        used: dict[str, float] = {}
        for pod in pods:
            sim = self.sim(pod)
            if "scheduled_at" in sim and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                for k, v in pod_requests(pod["spec"]).items():
                    used[k] = used.get(k, 0.0) + v
        for pod in pods:
            if "deletionTimestamp" in pod["metadata"]:
                continue
            sim = self.sim(pod)
            if "scheduled_at" not in sim:
                requests = pod_requests(pod["spec"])
                short = [
                    k
                    for k in ("cpu", "memory", "nvidia.com/gpu")
                    if requests.get(k, 0) > 0 and used.get(k, 0) + requests[k] > allocatable.get(k, 0) + 1e-9
                ]
                if short:
                    self._unschedulable(pod, short)
                    continue
                for k, v in requests.items():
                    used[k] = used.get(k, 0.0) + v
                sim["scheduled_at"] = now
                sim["scheduled_iso"] = now_iso()
                sim["ip"] = f"10.244.0.{self._ip % 250 + 3}"
                self._ip += 1
                if pod["spec"].get("nodeName") != s.node_name:
                    new = clone(pod)
                    new["spec"]["nodeName"] = s.node_name
                    pod = self.c.put(POD, new, "MODIFIED")
            if "mounted_at" not in sim:
                missing = self._missing_volume(pod)
                if missing is None:
                    sim["mounted_at"] = now
                else:
                    volume, kind, name = missing
                    self.event(
                        pod,
                        "Pod",
                        "FailedMount",
                        f'MountVolume.SetUp failed for volume "{volume}" : {kind} "{name}" not found',
                        component="kubelet",
                    )
            if "mounted_at" in sim:
                self._pull_images(pod, sim, now)
            self.set_status(POD, pod, self._pod_status(pod, sim, now))

    def _pull_images(self, pod: Obj, sim: dict[str, Any], now: float) -> None:
        """The kubelet makes sure a mounted pod's images are on the node (with the scenario's image_pull_delays).

        On the first pass after mounting, every image the pod lacks (init containers included; ImagePullBackOff images
        excluded, they fail as before) is asked of the puller, unless it is already present or on its way; the pod
        then waits (`pull_wait`) until all are present and records `pulled_at`, from which its start delay runs.
        """
        s = self.c.scenario
        if "pull_wait" not in sim:
            if not s.image_pull_delays:
                sim["pull_wait"] = []
                return
            spec = pod["spec"]
            images = [c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]
            wait = []
            for image in dict.fromkeys(i for i in images if i and not s.image_fails(i)):
                if image in self.images.present:
                    message = f'Container image "{image}" already present on machine'
                    self.event(pod, "Pod", "Pulled", message, etype="Normal", component="kubelet")
                    continue
                duration = self.images.duration(image, s.image_pull_delays, s.seed)
                self.images.kubelet_pull(image, now, duration, s.serialize_image_pulls)
                self.event(pod, "Pod", "Pulling", f'Pulling image "{image}"', etype="Normal", component="kubelet")
                wait.append(image)
            sim["pull_wait"], sim["pull_asked"] = wait, now
            self.images.advance(now, s.serialize_image_pulls)
        wait = sim["pull_wait"]
        if not wait or "pulled_at" in sim or not all(image in self.images.present for image in wait):
            return
        sim["pulled_at"] = max(self.images.present[image] for image in wait)
        for image in wait:
            pull = next((p for p in reversed(self.images.history) if p.image == image), None)
            waited = go_duration(round(self.images.present[image] - sim["pull_asked"], 3))
            took = go_duration(round(pull.end - pull.start, 3)) if pull is not None else waited
            message = f'Successfully pulled image "{image}" in {took}'
            if s.minor >= 28:
                message += f" ({waited} including waiting)"
            self.event(pod, "Pod", "Pulled", message, etype="Normal", component="kubelet")

    def _missing_volume(self, pod: Obj) -> tuple[str, str, str] | None:
        """The first secret/configMap volume whose object does not exist (the kubelet cannot mount it)."""
        ns = pod["metadata"]["namespace"]
        for volume in pod["spec"].get("volumes") or []:
            secret, config_map = volume.get("secret"), volume.get("configMap")
            if (
                secret
                and not secret.get("optional")
                and self.c.get(("", "Secret"), ns, secret.get("secretName", "")) is None
            ):
                return volume.get("name", ""), "secret", secret.get("secretName", "")
            if (
                config_map
                and not config_map.get("optional")
                and self.c.get(("", "ConfigMap"), ns, config_map.get("name", "")) is None
            ):
                return volume.get("name", ""), "configmap", config_map.get("name", "")
        return None

    def _unschedulable(self, pod: Obj, short: list[str]) -> None:
        reasons = ", ".join(f"1 Insufficient {k}" for k in sorted(short))
        message = f"0/1 nodes are available: {reasons}."
        if self.c.scenario.minor >= 24:
            message += " preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
        previous = (pod.get("status") or {}).get("conditions")
        self.set_status(
            POD,
            pod,
            {
                "phase": "Pending",
                "conditions": [condition(previous, "PodScheduled", "False", "Unschedulable", message, probe=True)],
                "qosClass": _qos(pod["spec"]),
            },
        )
        self.event(pod, "Pod", "FailedScheduling", message)

    def _pod_status(self, pod: Obj, sim: dict[str, Any], now: float) -> Obj:
        s = self.c.scenario
        spec = pod["spec"]
        previous = (pod.get("status") or {}).get("conditions")
        mounted = "mounted_at" in sim
        # with the image pull model, a pod whose images had to be pulled starts its delay once they are present
        pulled = not sim.get("pull_wait") or "pulled_at" in sim
        ready_at = max(
            sim["scheduled_at"] + sim.get("delay", 0.0),
            sim.get("mounted_at", 0.0),
            sim.get("pulled_at", 0.0) + sim.get("delay", 0.0),
        )
        containers = spec.get("containers") or []
        bad = [c for c in containers if s.image_fails(c.get("image", ""))]
        # an init container whose image cannot be pulled holds the whole pod back (PodInitializing)
        init_bad = [c for c in spec.get("initContainers") or [] if s.image_fails(c.get("image", ""))]
        crashing = [c for c in containers if s.image_crashes(c.get("image", ""))]
        job_like = spec.get("restartPolicy") in ("Never", "OnFailure")
        phase = "Pending"
        statuses = []
        started = mounted and pulled and now >= ready_at and not init_bad
        if mounted and pulled and not started:
            self.due(ready_at)
        waiting_on_needs = started and not job_like and not bad and self._needs_unmet(pod, sim, ready_at, now)
        finished = job_like and started and now >= ready_at + s.job_complete_delay and not bad and not crashing
        codes = {c["name"]: s.exit_code_for(c.get("image", "")) for c in containers}
        failed = finished and spec.get("restartPolicy") == "Never" and any(codes.values())
        succeeded = finished and not failed
        if job_like and started and not finished:
            self.due(ready_at + s.job_complete_delay)
        for c in containers:
            image = c.get("image", "")
            st: Obj = {
                "name": c["name"],
                "image": image,
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
            }
            if c in bad and mounted and now < sim["scheduled_at"] + 0.05:
                self.due(sim["scheduled_at"] + 0.05)
            if c in bad and mounted and now >= sim["scheduled_at"] + 0.05:
                st["state"] = {"waiting": self._pull_failed(pod, image, sim["scheduled_at"] + 0.05, now)}
            elif not started:
                st["state"] = {"waiting": {"reason": "PodInitializing" if init_bad else "ContainerCreating"}}
            elif c in crashing:
                restarts = 1 + int((now - ready_at) / CRASH_PERIOD)
                self.due(ready_at + restarts * CRASH_PERIOD)
                self._crashed(st, pod, c["name"], restarts, "10s", sim["scheduled_iso"])
            elif waiting_on_needs:
                restarts = sim["restarts"]
                backoff = go_duration(s.backoff(restarts))
                self._crashed(st, pod, c["name"], restarts, backoff, sim["crashed_iso"])
            elif finished:
                st["state"] = {
                    "terminated": {
                        "exitCode": codes[c["name"]],
                        "reason": "Error" if codes[c["name"]] else "Completed",
                        "startedAt": sim["scheduled_iso"],
                        "finishedAt": sim.setdefault("finished_iso", now_iso()),
                    }
                }
                st["containerID"] = f"docker://{short_hash([pod['metadata']['uid'], c['name']], 64)}"
            else:
                sim.setdefault("started_iso", now_iso())
                st.update(ready=True, started=True)
                st["state"] = {"running": {"startedAt": sim["started_iso"]}}
                if sim.get("restarts"):  # it crash-looped for a need before this start
                    st["restartCount"] = sim["restarts"]
                    st["lastState"] = self._last_crash(pod, c["name"], sim["restarts"], sim["crashed_iso"])
                st["containerID"] = f"docker://{short_hash([pod['metadata']['uid'], c['name']], 64)}"
                st["imageID"] = f"docker-pullable://{image.split(':')[0]}@sha256:{short_hash(image, 64)}"
            statuses.append(st)
        all_ready = bool(statuses) and all(st["ready"] for st in statuses)
        if succeeded:
            phase = "Succeeded"
        elif failed:
            phase = "Failed"
        elif started and not bad:
            phase = "Running"
        not_ready = [st["name"] for st in statuses if not st["ready"]]
        if finished:
            ready_cond = ("False", "PodCompleted" if succeeded else "PodFailed", None)
        elif all_ready:
            ready_cond = ("True", None, None)
        else:
            ready_cond = ("False", "ContainersNotReady", f"containers with unready status: [{' '.join(not_ready)}]")
        initialized = ("True", "PodCompleted" if finished else None)
        if init_bad:
            names = " ".join(c["name"] for c in init_bad)
            initialized = ("False", "ContainersNotInitialized", f"containers with incomplete status: [{names}]")
        conds = [
            condition(previous, "Initialized", *initialized, probe=True),
            condition(previous, "Ready", *ready_cond, probe=True),
            condition(previous, "ContainersReady", *ready_cond, probe=True),
            condition(previous, "PodScheduled", "True", probe=True),
        ]
        status: Obj = {
            "phase": phase,
            "conditions": conds,
            "hostIP": "192.168.49.2",
            "podIP": sim["ip"],
            "podIPs": [{"ip": sim["ip"]}],
            "startTime": sim["scheduled_iso"],
            "containerStatuses": statuses,
            "qosClass": _qos(spec),
        }
        if init_bad:
            first = sim.get("scheduled_at", now) + 0.05
            if mounted and now < first:
                self.due(first)
            status["initContainerStatuses"] = [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {
                        "waiting": self._pull_failed(pod, c.get("image", ""), first, now)
                        if mounted and now >= first
                        else {"reason": "PodInitializing"}
                    },
                }
                for c in init_bad
            ]
        return status

    def _pull_failed(self, pod: Obj, image: str, first: float, now: float) -> Obj:
        """The waiting state of a container whose image cannot be pulled (`image_pull_backoff`, `deleted_images`).

        As pkg/kubelet/images/image_manager.go `EnsureImageExists` does it: each pull attempt records `Pulling image
        "X"` (Normal), `Failed to pull image "X": <CRI error>` (Warning `Failed`) and kuberuntime's `Error:
        ErrImagePull`, and starts the image back-off (10 s doubling to 5 min); the container waits `ErrImagePull` with
        the CRI error as its message. A sync inside the back-off records `Back-off pulling image "X"` (Normal
        `BackOff`) and `Error: ImagePullBackOff`, and the container waits `ImagePullBackOff`, whose message carries the
        last pull's error from 1.32 on (`Back-off pulling image "X": ErrImagePull: <CRI error>`,
        kubernetes/kubernetes#127918). The first attempt is at `first`; `ErrImagePull` shows for `pull_error_window`
        after each attempt, the double's stand-in for the time until the pod's next sync.
        """
        s = self.c.scenario
        error = pull_error(image, s.deleted_image_error(image), s.container_runtime)
        attempt, failures = first, 1
        wait = max(s.pull_backoff_after(failures), 0.01)
        while now >= attempt + wait:
            attempt, failures = attempt + wait, failures + 1
            wait = max(s.pull_backoff_after(failures), 0.01)
        self.event(pod, "Pod", "Pulling", f'Pulling image "{image}"', etype="Normal", component="kubelet")
        self.event(pod, "Pod", "Failed", f'Failed to pull image "{image}": {error}', component="kubelet")
        self.event(pod, "Pod", "Failed", "Error: ErrImagePull", component="kubelet")
        window = min(s.pull_error_window, wait)
        if now < attempt + window:
            self.due(attempt + window)
            return {"reason": "ErrImagePull", "message": error}
        self.due(attempt + wait)
        self.event(pod, "Pod", "BackOff", f'Back-off pulling image "{image}"', etype="Normal", component="kubelet")
        self.event(pod, "Pod", "Failed", "Error: ImagePullBackOff", component="kubelet")
        message = f'Back-off pulling image "{image}"'
        if s.minor >= 32:
            message += f": ErrImagePull: {error}"
        return {"reason": "ImagePullBackOff", "message": message}

    def _crashed(self, st: Obj, pod: Obj, container: str, restarts: int, backoff: str, crashed_iso: str) -> None:
        """Render a container waiting in CrashLoopBackOff after `restarts` crashes (status and the kubelet's event)."""
        meta = pod["metadata"]
        st["restartCount"] = restarts
        self.event(
            pod,
            "Pod",
            "BackOff",
            f"Back-off restarting failed container {container} in pod "
            f"{meta['name']}_{meta['namespace']}({meta['uid']})",
            component="kubelet",
        )
        st["state"] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {backoff} restarting failed container={container} "
                f"pod={meta['name']}_{meta['namespace']}({meta['uid']})",
            }
        }
        st["lastState"] = self._last_crash(pod, container, restarts, crashed_iso)
        st["containerID"] = f"docker://{short_hash([meta['uid'], container], 64)}"

    @staticmethod
    def _last_crash(pod: Obj, container: str, restarts: int, crashed_iso: str) -> Obj:
        return {
            "terminated": {
                "containerID": f"docker://{short_hash([pod['metadata']['uid'], container, restarts], 64)}",
                "exitCode": 1,
                "reason": "Error",
                "startedAt": crashed_iso,
                "finishedAt": crashed_iso,
            }
        }

    def _needs_unmet(self, pod: Obj, sim: dict[str, Any], ready_at: float, now: float) -> bool:
        """Whether a started pod is crash-looping because a workload it `needs` is not ready (kubelet back-off).

        The first start is at `ready_at`; each start that finds a need missing or unready is a crash, and the next
        start is `Scenario.backoff(restarts)` later. The needs are checked only at starts; once met, the pod stays up.
        """
        if sim.get("needs_met"):
            return False
        attempt = sim.get("attempt_at", ready_at)
        if now < attempt:
            self.due(attempt)
            return True
        workload = self._workload_of(pod)
        needs = self.c.scenario.needs_for(*workload) if workload else []
        if all(self._needed_ready(pattern) for pattern in needs):
            sim["needs_met"] = True
            sim["started_iso"] = now_iso()
            return False
        restarts = sim["restarts"] = sim.get("restarts", 0) + 1
        backoff = max(self.c.scenario.backoff(restarts), 0.01)
        sim["attempt_at"] = attempt + backoff if attempt + backoff > now else now + backoff
        sim["crashed_iso"] = now_iso()
        self.due(sim["attempt_at"])
        return True

    def _workload_of(self, pod: Obj) -> tuple[str, str] | None:
        """(namespace, name) of the Deployment, StatefulSet or DaemonSet a pod belongs to."""
        meta = pod["metadata"]
        ns = meta.get("namespace", "")
        ref = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
        if ref is None:
            return None
        if ref.get("kind") in ("StatefulSet", "DaemonSet"):
            return ns, ref["name"]
        if ref.get("kind") == "ReplicaSet":
            rs = self.c.get(RS, ns, ref["name"])
            owner = next(
                (r for r in (rs or {}).get("metadata", {}).get("ownerReferences") or [] if r.get("controller")), None
            )
            if owner is not None and owner.get("kind") == "Deployment":
                return ns, owner["name"]
        return None

    def _needed_ready(self, pattern: str) -> bool:
        """Some workload matches the "namespace/name" pattern and every match has all its desired replicas ready."""
        matched = [
            (gk, obj)
            for gk in (DEPLOY, STS, DS)
            for obj in self.c.list(gk)
            if fnmatch.fnmatchcase(f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}", pattern)
        ]
        return bool(matched) and all(workload_ready(gk, obj) for gk, obj in matched)

    # ------------------------------------------------------------------------------------------------ storage

    def _pvcs(self, now: float) -> None:
        for pvc in self.c.list(PVC):
            if (pvc.get("status") or {}).get("phase") == "Bound" or "deletionTimestamp" in pvc["metadata"]:
                continue
            if now - self.sim(pvc)["seen"] < self.c.scenario.pvc_bind_delay:
                self.due(self.sim(pvc)["seen"] + self.c.scenario.pvc_bind_delay)
                continue
            spec = pvc.get("spec") or {}
            storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            volume = f"pvc-{pvc['metadata']['uid']}"
            if spec.get("volumeName") != volume:
                new = clone(pvc)
                new["spec"]["volumeName"] = volume
                new["spec"].setdefault("storageClassName", "standard")
                pvc = self.c.put(PVC, new, "MODIFIED")
            self.set_status(
                PVC,
                pvc,
                {
                    "phase": "Bound",
                    "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                    "capacity": {"storage": storage},
                },
            )

    # ------------------------------------------------------------------------------------------------ endpoints

    def _endpoints(self) -> None:
        services = {}
        for svc in self.c.list(SVC):
            meta = svc["metadata"]
            key = (meta["namespace"], meta["name"])
            services[key] = svc
            selector = (svc.get("spec") or {}).get("selector")
            if not selector:
                continue
            ready, not_ready = [], []
            pods = [
                p
                for p in self.c.list(POD, meta["namespace"])
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
                (ready if _pod_ready(pod) else not_ready).append(address)
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
            current = self.c.get(EP, meta["namespace"], meta["name"])
            if current is None:
                if self.ns_active(meta["namespace"]):
                    self.create(EP, body)
            elif current.get("subsets") != body.get("subsets") or current["metadata"].get("labels") != meta.get(
                "labels"
            ):
                new = clone(current)
                if meta.get("labels"):
                    new["metadata"]["labels"] = dict(meta["labels"])
                else:
                    new["metadata"].pop("labels", None)
                if "subsets" in body:
                    new["subsets"] = body["subsets"]
                else:
                    new.pop("subsets", None)
                self.c.put(EP, new, "MODIFIED")
        for ep in self.c.list(EP):
            key = (ep["metadata"]["namespace"], ep["metadata"]["name"])
            if key not in services and key != ("default", "kubernetes"):
                self.c.remove(EP, ep)


def workload_ready(gk: GK, obj: Obj) -> bool:
    """All desired replicas ready, from the status the simulated controllers wrote (a deleted one is not)."""
    if "deletionTimestamp" in obj["metadata"]:
        return False
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    if gk == DS:
        return bool(status) and status.get("numberReady", 0) >= status.get("desiredNumberScheduled", 1)
    return status.get("readyReplicas", 0) >= spec.get("replicas", 1)


def go_duration(seconds: float) -> str:
    """A duration as Go's time.Duration prints it (the kubelet's `back-off 5m0s`): 300ms, 10s, 1m20s, 5m0s."""
    if seconds < 1:
        return f"{round(seconds * 1000, 6):g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    return f"{int(minutes)}m{text}" if minutes else text


def _pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _named_port(pods: list[Obj], name: str) -> int | None:
    for pod in pods:
        for c in pod["spec"].get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("name") == name:
                    return p.get("containerPort")
    return None


def _qos(spec: Obj) -> str:
    containers = spec.get("containers") or []
    if not any(
        (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") for c in containers
    ):
        return "BestEffort"
    guaranteed = all(
        (c.get("resources") or {}).get("limits", {}).get(r) is not None
        and str((c.get("resources") or {}).get("requests", {}).get(r, c["resources"]["limits"][r]))
        == str(c["resources"]["limits"][r])
        for c in containers
        for r in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _max_unavailable(spec: Obj, replicas: int) -> int:
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return int(replicas * int(value[:-1]) / 100)
    return int(value)


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
