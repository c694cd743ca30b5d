"""Workload failure modes and injected API faults, as kubectl and a status command would see them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

from tests.double.fixtures import ClusterHandle
from tests.double.test_api import apply, kubectl_json, wait_for
from tests.paths import real_kubectl

NS = """
apiVersion: v1
kind: Namespace
metadata: {name: work}
"""


def deployment(name: str, image: str, requests: str = "{cpu: 100m, memory: 64Mi}") -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: work}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: main, image: "{image}", resources: {{requests: {requests}}}}}]}}
"""


def only_pod(cluster: ClusterHandle, app: str) -> dict:
    """The one pod of a deployment (an empty dict while it has none yet)."""
    matching = [p for p in cluster.objects("Pod", "work") if p["metadata"]["labels"].get("app") == app]
    assert len(matching) <= 1
    return matching[0] if matching else {}


def test_an_image_matching_a_pull_failure_pattern_leaves_the_pod_in_image_pull_back_off(make_cluster):
    cluster = make_cluster(image_pull_backoff=["ghcr.io/broken/*"])
    apply(cluster, NS + "---" + deployment("bad", "ghcr.io/broken/app:v1"))

    def waiting() -> dict:
        statuses = only_pod(cluster, "bad").get("status", {}).get("containerStatuses") or [{}]
        return (statuses[0].get("state") or {}).get("waiting") or {}

    wait_for(lambda: waiting().get("reason") == "ImagePullBackOff")
    pod = only_pod(cluster, "bad")

    assert pod["status"]["phase"] == "Pending"
    assert waiting()["message"] == (
        'Back-off pulling image "ghcr.io/broken/app:v1": ErrImagePull: rpc error: code = Unknown desc = Error '
        "response from daemon: pull access denied for ghcr.io/broken/app, repository does not exist or may require "
        "'docker login': denied: requested access to the resource is denied"
    )
    available = next(
        c for c in cluster.object("Deployment", "bad", "work")["status"]["conditions"] if c["type"] == "Available"
    )
    assert available["status"] == "False"


def test_requests_beyond_the_node_stay_pending_with_the_schedulers_message_and_event(make_cluster):
    cluster = make_cluster(k8s_version="v1.19.3", cpus=2, memory_mb=2048)
    apply(cluster, NS + "---" + deployment("huge", "example.com/huge:1", "{cpu: 100m, memory: 4Gi}"))

    wait_for(lambda: only_pod(cluster, "huge").get("status", {}).get("conditions"))
    pod = only_pod(cluster, "huge")
    events = kubectl_json(
        cluster, "get", "events", "-n", "work", "--field-selector", f"involvedObject.name={pod['metadata']['name']}"
    )["items"]

    scheduled = pod["status"]["conditions"][0]
    assert pod["status"]["phase"] == "Pending"
    assert (scheduled["type"], scheduled["status"], scheduled["reason"]) == ("PodScheduled", "False", "Unschedulable")
    assert scheduled["message"] == "0/1 nodes are available: 1 Insufficient memory."
    assert [(e["reason"], e["message"], e["type"]) for e in events] == [
        ("FailedScheduling", "0/1 nodes are available: 1 Insufficient memory.", "Warning")
    ]


def test_newer_schedulers_add_the_preemption_sentence(make_cluster):
    cluster = make_cluster(k8s_version="v1.34.0", gpus=0)
    apply(cluster, NS + "---" + deployment("gpu", "example.com/train:1", '{"nvidia.com/gpu": 1}'))

    wait_for(lambda: only_pod(cluster, "gpu").get("status", {}).get("conditions"))

    assert only_pod(cluster, "gpu")["status"]["conditions"][0]["message"] == (
        "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod."
    )


def test_a_crashing_image_restarts_and_never_becomes_ready(make_cluster):
    cluster = make_cluster(crash_loop=["*/crashy:*"], ready_delay=0.1, pod_logs={"*/crashy:*": "panic: no config\n"})
    apply(cluster, NS + "---" + deployment("crashy", "example.com/crashy:1"))

    wait_for(
        lambda: (
            (only_pod(cluster, "crashy").get("status", {}).get("containerStatuses") or [{}])[0].get("restartCount", 0)
            >= 2
        ),
        timeout=5,
    )
    status = only_pod(cluster, "crashy")["status"]["containerStatuses"][0]

    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert status["ready"] is False
    logs = cluster.kubectl("logs", "-n", "work", only_pod(cluster, "crashy")["metadata"]["name"])
    assert logs.returncode == 0 and logs.stdout == "panic: no config\n"  # the last run's log


def test_a_job_completes_after_its_delay(make_cluster):
    cluster = make_cluster(job_complete_delay=0.2, ready_delay=0.1)
    job = """
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: work}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: main, image: example.com/once:1}]}
"""
    apply(cluster, NS + "---" + job)

    result = cluster.kubectl("wait", "--for=condition=Complete", "-n", "work", "job/once", "--timeout=10s")

    assert result.returncode == 0, result.stderr
    assert cluster.object("Job", "once", "work")["status"]["succeeded"] == 1


def test_injected_errors_fail_kubectl_with_the_apiservers_503_then_stop(cluster):
    cluster.fault(error_rate=1.0, error_code=503, duration=1.0)

    failing = cluster.kubectl("get", "namespaces", "-o", "json")
    time.sleep(1.2)
    working = cluster.kubectl("get", "namespaces", "-o", "json")

    assert failing.returncode == 1
    assert "the server is currently unable to handle the request" in failing.stderr
    assert working.returncode == 0, working.stderr


def test_a_counted_fault_refuses_that_many_requests_then_stops(cluster):
    cluster.fault(error_rate=1.0, error_code=503, error_paths=r"/namespaces$", count=2)

    results = [cluster.kubectl("get", "namespaces", "-o", "json") for _ in range(3)]

    assert [r.returncode for r in results] == [1, 1, 0], [r.stderr for r in results]
    assert "the server is currently unable to handle the request" in results[0].stderr
    assert cluster.scenario.error_rate == 0.0


def test_errors_can_be_limited_to_matching_paths(cluster):
    cluster.fault(error_rate=1.0, error_code=500, error_paths=r"/configmaps")

    configmaps = cluster.kubectl("get", "configmaps", "-A")
    namespaces = cluster.kubectl("get", "namespaces")

    assert configmaps.returncode == 1 and "Internal error occurred" in configmaps.stderr
    assert namespaces.returncode == 0


def test_a_restart_stops_listening_then_serves_the_same_state_on_the_same_port(cluster):
    apply(cluster, NS)
    port = int(cluster.url.rsplit(":", 1)[1])

    cluster.restart(down_for=1.0)
    refused = cluster.kubectl("get", "namespace", "work", "--request-timeout=2s")
    time.sleep(1.2)
    back = cluster.kubectl("get", "namespace", "work")

    assert refused.returncode == 1
    assert f"The connection to the server 127.0.0.1:{port} was refused" in refused.stderr
    assert back.returncode == 0, back.stderr
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_latency_slows_every_request(cluster):
    cluster.fault(latency=0.3)
    started = time.monotonic()

    cluster.kubectl("get", "--raw", "/version")

    assert time.monotonic() - started >= 0.3


def test_the_request_log_records_method_path_query_and_status(cluster):
    cluster.kubectl("get", "pods", "-n", "kube-system", "-l", "component=etcd", "-o", "json")

    entries = [e for e in cluster.requests() if e["path"] == "/api/v1/namespaces/kube-system/pods"]

    assert entries[-1]["method"] == "GET"
    assert entries[-1]["status"] == 200
    assert "labelSelector=component%3Detcd" in entries[-1]["query"]
    log_file = cluster.server.state_dir / "requests.jsonl"
    assert json.loads(log_file.read_text().splitlines()[-1])["path"] == entries[-1]["path"]


def test_a_rollout_that_never_becomes_ready_exceeds_its_progress_deadline(make_cluster):
    cluster = make_cluster(image_pull_backoff=["*/stuck:*"], progress_deadline=0.5)
    apply(cluster, NS + "---" + deployment("stuck", "example.com/stuck:1"))

    def progressing() -> dict:
        conditions = (cluster.object("Deployment", "stuck", "work").get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "Progressing"), {})

    wait_for(lambda: progressing().get("status") == "False", timeout=5)

    assert progressing()["reason"] == "ProgressDeadlineExceeded"
    assert progressing()["message"].endswith("has timed out progressing.")
    backoff = [e["message"] for e in cluster.objects("Event", "work") if e["reason"] == "BackOff"]
    assert backoff == ['Back-off pulling image "example.com/stuck:1"']


def test_kubectl_wait_survives_an_apiserver_restart_in_the_middle(make_cluster):
    cluster = make_cluster(ready_delays={"work/slow": 2.5})
    apply(cluster, NS + "---" + deployment("slow", "example.com/slow:1"))
    waiting = subprocess.Popen(
        [str(real_kubectl()), "wait", "--for=condition=Available", "-n", "work", "deployment/slow", "--timeout=30s"],
        env={**os.environ, **cluster.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.8)
    cluster.restart(down_for=1.0)
    out, err = waiting.communicate(timeout=40)

    assert waiting.returncode == 0, err
    assert "condition met" in out


def test_kubectl_logs_prints_the_scenarios_text_and_refuses_containers_that_are_not_running(make_cluster):
    cluster = make_cluster(
        image_pull_backoff=["*/bad:*"], pod_logs={"*/good:*": "listening on :8080\n"}, ready_delay=0.1
    )
    apply(
        cluster, NS + "---" + deployment("good", "example.com/good:1") + "---" + deployment("bad", "example.com/bad:1")
    )
    cluster.kubectl("wait", "--for=condition=Available", "-n", "work", "deployment/good", "--timeout=10s")
    wait_for(lambda: (only_pod(cluster, "bad").get("status") or {}).get("containerStatuses"))
    time.sleep(0.2)

    good = cluster.kubectl("logs", "-n", "work", only_pod(cluster, "good")["metadata"]["name"])
    bad = cluster.kubectl("logs", "-n", "work", only_pod(cluster, "bad")["metadata"]["name"])

    assert good.returncode == 0 and good.stdout == "listening on :8080\n"
    assert bad.returncode == 1
    assert "is waiting to start: trying and failing to pull image" in bad.stderr


def node_gpus(cluster: ClusterHandle) -> str | None:
    return cluster.object("Node", "minikube")["status"]["allocatable"].get("nvidia.com/gpu")


def test_gpus_appear_on_the_node_once_the_device_plugin_is_ready(make_cluster):
    cluster = make_cluster(gpus=2, ready_delays={"kube-system/nvidia-device-plugin-daemonset": 1.0})

    before = node_gpus(cluster)
    wait_for(lambda: node_gpus(cluster) == "2", timeout=5)

    assert before is None
    plugin = [
        p
        for p in cluster.objects("Pod", "kube-system")
        if p["metadata"]["name"].startswith("nvidia-device-plugin-daemonset-")
    ]
    assert len(plugin) == 1


def test_a_device_plugin_that_cannot_pull_its_image_never_registers_the_gpus(make_cluster):
    cluster = make_cluster(gpus=1, image_pull_backoff=["nvcr.io/nvidia/k8s-device-plugin:*"])
    time.sleep(0.3)

    assert node_gpus(cluster) is None


def test_without_the_device_plugin_simulation_the_gpus_are_there_from_the_start(make_cluster):
    cluster = make_cluster(gpus=1, gpu_device_plugin=False)

    assert node_gpus(cluster) == "1"
