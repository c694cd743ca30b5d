"""GPUs in the cluster: wait until the node offers them, and prove a pod can use one (`kfinstall gpu-test`).

`minikube start --gpus all` only hands the GPUs to the node container; pods can ask for `nvidia.com/gpu` once the
NVIDIA device plugin (minikube's `nvidia-device-plugin` addon, enabled by `--gpus`) has registered them with the
kubelet. Until then every GPU pod stays Pending with `Insufficient nvidia.com/gpu`, so `up` waits for the node's
allocatable count here and explains what is missing instead of letting a pipeline hang later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kfinstall.errors import KfError
from kfinstall.kube import readiness
from kfinstall.kube.kubectl import Kubectl

Obj = dict[str, Any]

GPU_RESOURCE = "nvidia.com/gpu"
#: A CUDA base image: small, and the NVIDIA container runtime mounts the host's `nvidia-smi` into it.
DEFAULT_TEST_IMAGE = "nvidia/cuda:12.4.1-base-ubuntu22.04"
TEST_POD = "kfinstall-gpu-test"
TEST_NAMESPACE = "default"
#: How the device plugin's pods are named (minikube's addon: DaemonSet `nvidia-device-plugin-daemonset`).
PLUGIN_PREFIX = "nvidia-device-plugin"
POLL_SECONDS = 1.0


def allocatable_gpus(nodes: list[Obj]) -> int:
    """How many `nvidia.com/gpu` the nodes offer to pods (the device plugin's registration), summed."""
    total = 0
    for node in nodes:
        value = ((node.get("status") or {}).get("allocatable") or {}).get(GPU_RESOURCE, "0")
        try:
            total += int(str(value))
        except ValueError:
            continue
    return total


def plugin_problem(pods: list[Obj]) -> str:
    """Why the device plugin has not registered GPUs, from kube-system's pods: what to tell the user."""
    plugins = [pod for pod in pods if (pod.get("metadata") or {}).get("name", "").startswith(PLUGIN_PREFIX)]
    if not plugins:
        return "no NVIDIA device plugin pod runs in kube-system"
    problems = [readiness.pod_problem(pod) for pod in plugins]
    described = [str(problem) for problem in problems if problem is not None]
    if described:
        return "the NVIDIA device plugin is not running: " + "; ".join(described)
    return "the NVIDIA device plugin runs but found no GPU (the node container cannot see one)"


def wait_for_gpus(kubectl: Kubectl, profile: str, timeout: float) -> str:
    """Wait until the cluster's node reports allocatable GPUs; returns the progress line, raises KfError if not."""
    deadline = time.monotonic() + timeout
    while True:
        count = allocatable_gpus(kubectl.items("nodes"))
        if count:
            return f"the node offers {count} GPU(s) ({GPU_RESOURCE})"
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    why = plugin_problem(kubectl.items("pods", "-n", "kube-system"))
    raise KfError(
        f"the cluster started with --gpus but its node reports no allocatable {GPU_RESOURCE} after "
        f"{timeout:.0f}s: {why}",
        f"check the GPU prerequisites with `kfinstall check --gpus all`; then "
        f"`minikube -p {profile} addons enable nvidia-device-plugin`, or recreate the cluster "
        f"(`kfinstall down -p {profile}`, which deletes its notebooks, their volumes and pipeline history; then "
        "`kfinstall up --gpus all`)",
    )


def test_pod(image: str = DEFAULT_TEST_IMAGE) -> Obj:
    """The pod `gpu-test` runs: one GPU, `nvidia-smi`, never restarted (its exit code is the verdict)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": TEST_POD,
            "namespace": TEST_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "kfinstall", "kfinstall.dev/component": "gpu-test"},
        },
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "nvidia-smi",
                    "image": image,
                    "command": ["nvidia-smi"],
                    "resources": {"limits": {GPU_RESOURCE: 1}},
                }
            ],
        },
    }


@dataclass(frozen=True)
class GpuTestResult:
    """What the test pod did: `ok` only when it ran to completion (nvidia-smi exits non-zero without a GPU)."""

    ok: bool
    phase: str
    node: str
    exit_code: int | None
    log: str
    problem: str = ""
    hint: str = ""


def outcome(pod: Obj) -> tuple[str, int | None] | None:
    """(phase, exit code) once the test pod has finished; None while it has not."""
    status = pod.get("status") or {}
    phase = status.get("phase", "")
    if phase not in ("Succeeded", "Failed"):
        return None
    for container in status.get("containerStatuses") or []:
        terminated = (container.get("state") or {}).get("terminated")
        if terminated is not None:
            return phase, terminated.get("exitCode")
    return phase, None


def run_gpu_test(
    kubectl: Kubectl, *, image: str = DEFAULT_TEST_IMAGE, timeout: float = 300, say: Callable[[str], None]
) -> GpuTestResult:
    """Run the test pod, collect its log, delete it. Raises KfError when the cluster has no GPU to offer."""
    nodes = kubectl.items("nodes")
    if not allocatable_gpus(nodes):
        why = plugin_problem(kubectl.items("pods", "-n", "kube-system"))
        raise KfError(
            f"no node offers a {GPU_RESOURCE} ({why})",
            "start the cluster on a GPU machine with `kfinstall up --gpus all` (`kfinstall check --gpus all` "
            "says what the machine lacks)",
        )
    _delete(kubectl, wait=True)  # a pod left by an interrupted run would otherwise absorb the apply
    applied = kubectl.apply(json.dumps(test_pod(image)), field_manager="kfinstall-gpu-test", timeout=60)
    if not applied.ok:
        raise KfError(f"could not create the test pod: {applied.output}", "is the cluster running?")
    say(f"pod {TEST_NAMESPACE}/{TEST_POD} ({image}) requests 1 {GPU_RESOURCE} and runs nvidia-smi")
    try:
        return _await(kubectl, timeout)
    finally:
        _delete(kubectl, wait=False)


def _await(kubectl: Kubectl, timeout: float) -> GpuTestResult:
    deadline = time.monotonic() + timeout
    pod: Obj = {}
    while time.monotonic() < deadline:
        pod = kubectl.get_json("pod", TEST_POD, "-n", TEST_NAMESPACE)
        finished = outcome(pod)
        if finished is not None:
            phase, exit_code = finished
            node = (pod.get("spec") or {}).get("nodeName", "")
            log = _log(kubectl)
            if phase == "Succeeded":
                return GpuTestResult(True, phase, node, exit_code, log)
            return GpuTestResult(
                False,
                phase,
                node,
                exit_code,
                log,
                f"nvidia-smi exited with code {exit_code} inside the pod",
                "the container did not get a working GPU: check the NVIDIA Container Toolkit on the host "
                "(`kfinstall check --gpus all`)",
            )
        time.sleep(POLL_SECONDS)
    events = kubectl.items("events", "-n", TEST_NAMESPACE)
    problem = readiness.pod_problem(pod, events)
    why = str(problem) if problem is not None else "it did not finish"
    hint = problem.hint if problem is not None else "see `kubectl describe pod`"
    return GpuTestResult(
        False,
        (pod.get("status") or {}).get("phase", "Unknown"),
        (pod.get("spec") or {}).get("nodeName", ""),
        None,
        "",
        f"the test pod did not finish within {timeout:.0f}s: {why}",
        hint,
    )


def _log(kubectl: Kubectl) -> str:
    result = kubectl.run("logs", "-n", TEST_NAMESPACE, TEST_POD, timeout=60)
    return result.stdout if result.ok else result.output


def _delete(kubectl: Kubectl, *, wait: bool) -> None:
    kubectl.run(
        "delete",
        "pod",
        TEST_POD,
        "-n",
        TEST_NAMESPACE,
        "--ignore-not-found",
        f"--wait={str(wait).lower()}",
        timeout=120,
    )
