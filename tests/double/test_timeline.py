"""The readiness timeline: one entry per workload readiness transition, on the request log's clock."""

from __future__ import annotations

import json
import urllib.request

from tests.double.fixtures import ClusterHandle, workload_yaml
from tests.double.test_api import apply, wait_for

WEB = """
apiVersion: v1
kind: Namespace
metadata: {name: work}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: work, labels: {kfinstall.dev/component: web, tier: front}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: example.com/web:1}]}
"""


def transitions(cluster: ClusterHandle, name: str = "web") -> list[dict]:
    return [e for e in cluster.timeline() if e["namespace"] == "work" and e["name"] == name]


def applied_web(cluster: ClusterHandle) -> tuple[float, float]:
    """Apply WEB; (start, end) of its Deployment's PATCH in the request log."""
    apply(cluster, WEB)
    patch = next(r for r in cluster.requests() if r["method"] == "PATCH" and r["path"].endswith("/deployments/web"))
    return patch["time"] - patch["duration"], patch["time"]


def ready_web(cluster: ClusterHandle) -> None:
    apply(cluster, WEB)
    wait_for(lambda: [e["ready"] for e in transitions(cluster)] == [True])


def test_a_deployment_becomes_ready_once_its_ready_delay_after_the_apply(make_cluster):
    cluster = make_cluster(ready_delays={"work/web": 1.0})
    started, ended = applied_web(cluster)

    result = cluster.kubectl("wait", "--for=condition=Available", "-n", "work", "deployment/web", "--timeout=20s")

    assert result.returncode == 0, result.stderr
    [entry] = transitions(cluster)
    assert entry["kind"] == "Deployment" and entry["ready"] is True
    assert entry["labels"] == {"kfinstall.dev/component": "web", "tier": "front"}
    assert started + 1.0 <= entry["time"] <= ended + 1.5


def test_changes_that_keep_a_workload_ready_add_no_entry(make_cluster):
    cluster = make_cluster(ready_delays={"work/web": 0.2})
    ready_web(cluster)

    annotated = cluster.kubectl("annotate", "-n", "work", "deployment/web", "note=hello")
    apply(cluster, WEB)  # unchanged: a no-op for the server-side apply
    after = cluster.kubectl("wait", "--for=condition=Available", "-n", "work", "deployment/web", "--timeout=20s")

    assert annotated.returncode == 0, annotated.stderr
    assert after.returncode == 0, after.stderr
    assert [e["ready"] for e in transitions(cluster)] == [True]


def test_a_new_template_makes_the_deployment_not_ready_until_its_new_pods_are(make_cluster):
    cluster = make_cluster(ready_delays={"work/web": 0.5})
    ready_web(cluster)

    apply(cluster, WEB.replace("example.com/web:1", "example.com/web:2"))
    wait_for(lambda: len(transitions(cluster)) == 3)

    first, stopped, again = transitions(cluster)
    assert (first["ready"], stopped["ready"], again["ready"]) == (True, False, True)
    assert again["time"] - stopped["time"] >= 0.5


def test_deleting_a_ready_deployment_makes_it_not_ready(make_cluster):
    cluster = make_cluster(ready_delays={"work/web": 0.2})
    ready_web(cluster)

    deleted = cluster.kubectl("delete", "-n", "work", "deployment/web")

    assert deleted.returncode == 0, deleted.stderr
    assert [e["ready"] for e in transitions(cluster)] == [True, False]


def test_a_deployment_deleted_before_it_was_ready_has_no_entry(make_cluster):
    cluster = make_cluster(ready_delays={"work/web": 600})
    apply(cluster, WEB)

    deleted = cluster.kubectl("delete", "-n", "work", "deployment/web")

    assert deleted.returncode == 0, deleted.stderr
    assert transitions(cluster) == []


def test_statefulsets_and_daemonsets_are_in_the_timeline(make_cluster):
    cluster = make_cluster(ready_delays={"work/*": 0.2})
    apply(
        cluster,
        WEB.split("---")[0] + "".join(workload_yaml(kind, "work") for kind in ("StatefulSet", "DaemonSet")),
    )

    wait_for(lambda: len(transitions(cluster, "statefulset") + transitions(cluster, "daemonset")) == 2)

    entries = transitions(cluster, "statefulset") + transitions(cluster, "daemonset")
    assert [(e["kind"], e["ready"]) for e in entries] == [("StatefulSet", True), ("DaemonSet", True)]


def test_the_timeline_is_served_at_the_control_port_and_written_beside_the_request_log(make_cluster):
    # Without kube-system's own workloads, whose becoming ready under load could fall between the three reads.
    cluster = make_cluster(ready_delays={"work/web": 0.2}, system_pods=False)
    ready_web(cluster)

    with urllib.request.urlopen(cluster.server.control_url + "/_double/timeline", timeout=10) as response:
        served = json.loads(response.read())
    assert cluster.server.state_dir is not None
    written = [json.loads(line) for line in (cluster.server.state_dir / "ready.jsonl").read_text().splitlines()]

    assert served == written == cluster.timeline()
    assert any(e["name"] == "web" and e["ready"] for e in written)
