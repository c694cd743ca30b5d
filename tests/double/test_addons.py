"""Operators of the real Kubeflow manifests that the double simulates where their effects gate an install."""

from __future__ import annotations

from tests.double.fixtures import workload_yaml

NAMESPACE = "{apiVersion: v1, kind: Namespace, metadata: {name: kubeflow}}"


def test_kfp_cache_deployer_leaves_the_cache_servers_tls_secret_and_webhook_once_it_runs(cluster):
    cluster.kubectl("apply", "--server-side", "-f", "-", input=NAMESPACE)
    deployer = workload_yaml(
        "Deployment", "kubeflow", "cache-deployer-deployment", "gcr.io/ml-pipeline/cache-deployer:1.7.0"
    )
    cluster.kubectl("apply", "--server-side", "-f", "-", input=deployer)

    waited = cluster.kubectl("wait", "--for=create", "-n", "kubeflow", "secret/webhook-server-tls", "--timeout=20s")

    assert waited.returncode == 0, waited.stderr
    assert set(cluster.object("Secret", "webhook-server-tls", "kubeflow")["data"]) == {"key.pem", "cert.pem"}
    webhook = cluster.object("MutatingWebhookConfiguration", "cache-webhook-kubeflow")
    assert webhook["webhooks"][0]["clientConfig"]["service"]["name"] == "cache-server"
    assert webhook["webhooks"][0]["objectSelector"] == {"matchLabels": {"pipelines.kubeflow.org/cache_enabled": "true"}}


def test_no_cache_secret_exists_before_the_cache_deployer_runs(make_cluster):
    cluster = make_cluster(ready_delays={"kubeflow/cache-deployer-deployment": 600})
    cluster.kubectl("apply", "--server-side", "-f", "-", input=NAMESPACE)
    deployer = workload_yaml("Deployment", "kubeflow", "cache-deployer-deployment")
    cluster.kubectl("apply", "--server-side", "-f", "-", input=deployer)

    waited = cluster.kubectl("wait", "--for=create", "-n", "kubeflow", "secret/webhook-server-tls", "--timeout=2s")

    assert waited.returncode != 0
    assert cluster.object("Secret", "webhook-server-tls", "kubeflow") is None
