"""Images the registries deleted: the double's kubelet refuses them the way a real kubelet reports it.

pkg/kubelet/images/image_manager.go: a failed pull is `ErrImagePull` with the runtime's error, syncs inside the image
back-off are `ImagePullBackOff`, and the pull is retried after 10 s, 20 s, 40 s … (`Pulling`, `Failed`, `BackOff`
events). The registry's words come from tests/data/deleted-images.yaml (issue threads).
"""

from __future__ import annotations

import json
import urllib.error

import pytest

from tests.double.images import pull_error, split_reference
from tests.double.scenario import load_scenario
from tests.double.test_api import apply, wait_for
from tests.double.test_failures import NS, deployment, only_pod
from tests.releases import DELETED_IMAGES

RBAC_PROXY = "gcr.io/kubebuilder/kube-rbac-proxy:v0.8.0"
AUTHSERVICE = "gcr.io/arrikto/kubeflow/oidc-authservice:28c59ef"
BILLING = "denied: This API method requires billing to be enabled. Please enable billing on project #1037687696897"


def waiting(cluster, app: str) -> dict:
    statuses = only_pod(cluster, app).get("status", {}).get("containerStatuses") or [{}]
    return (statuses[0].get("state") or {}).get("waiting") or {}


def events(cluster, reason: str) -> list[str]:
    return [e["message"] for e in cluster.objects("Event", "work") if e["reason"] == reason]


def test_the_data_file_is_a_scenario_naming_each_deleted_image_with_its_source() -> None:
    knobs = load_scenario(DELETED_IMAGES)
    assert set(knobs) == {"deleted_images"}
    entries = knobs["deleted_images"]
    assert {AUTHSERVICE, "gcr.io/kubebuilder/kube-rbac-proxy:*"} <= set(entries)
    assert all(entry["error"] and "#" in entry["source"] for entry in entries.values())


def test_a_deleted_image_fails_first_with_err_image_pull_and_the_registrys_words(make_cluster) -> None:
    cluster = make_cluster(**load_scenario(DELETED_IMAGES), pull_error_window=30)
    apply(cluster, NS + "---" + deployment("proxy", RBAC_PROXY))

    wait_for(lambda: waiting(cluster, "proxy").get("reason") == "ErrImagePull")

    assert waiting(cluster, "proxy")["message"] == (
        "rpc error: code = Unknown desc = Error response from daemon: manifest for "
        'gcr.io/kubebuilder/kube-rbac-proxy:v0.8.0 not found: manifest unknown: Failed to fetch "v0.8.0"'
    )
    assert only_pod(cluster, "proxy")["status"]["phase"] == "Pending"


def test_between_retries_it_waits_in_image_pull_back_off_and_retries_with_err_image_pull(make_cluster) -> None:
    cluster = make_cluster(**load_scenario(DELETED_IMAGES), pull_backoff=0.6, pull_error_window=0.3)
    apply(cluster, NS + "---" + deployment("auth", AUTHSERVICE))

    seen: list[str] = []

    def alternated() -> bool:
        reason = waiting(cluster, "auth").get("reason")
        if reason in ("ErrImagePull", "ImagePullBackOff") and (not seen or seen[-1] != reason):
            seen.append(reason)
        return len(seen) >= 3

    wait_for(alternated, timeout=10)
    assert seen[:3] == ["ErrImagePull", "ImagePullBackOff", "ErrImagePull"]


def test_the_back_off_message_carries_the_pull_error_from_1_32(make_cluster) -> None:
    for version, carries in (("v1.31.0", False), ("v1.32.0", True)):
        cluster = make_cluster(**load_scenario(DELETED_IMAGES), k8s_version=version, pull_error_window=0.05)
        apply(cluster, NS + "---" + deployment("auth", AUTHSERVICE))
        wait_for(lambda c=cluster: waiting(c, "auth").get("reason") == "ImagePullBackOff")
        message = waiting(cluster, "auth")["message"]
        assert message.startswith(f'Back-off pulling image "{AUTHSERVICE}"')
        assert (BILLING in message) is carries, (version, message)
        cluster.stop()


def test_the_kubelet_records_failed_and_back_off_events_like_kubectl_describe_shows(make_cluster) -> None:
    cluster = make_cluster(**load_scenario(DELETED_IMAGES), pull_error_window=0.05)
    apply(cluster, NS + "---" + deployment("auth", AUTHSERVICE))
    wait_for(lambda: events(cluster, "BackOff"))

    failed = events(cluster, "Failed")
    assert f'Pulling image "{AUTHSERVICE}"' in events(cluster, "Pulling")
    assert any(m.startswith(f'Failed to pull image "{AUTHSERVICE}": rpc error: code = Unknown') for m in failed)
    assert any(BILLING in m for m in failed)
    assert {"Error: ErrImagePull", "Error: ImagePullBackOff"} <= set(failed)
    assert events(cluster, "BackOff") == [f'Back-off pulling image "{AUTHSERVICE}"']
    backoff = next(e for e in cluster.objects("Event", "work") if e["reason"] == "BackOff")
    assert backoff["type"] == "Normal"  # image_manager.go logs BackOffPullImage as a Normal event


def test_containerd_words_a_missing_manifest_as_not_found(make_cluster) -> None:
    cluster = make_cluster(**load_scenario(DELETED_IMAGES), container_runtime="containerd", pull_error_window=30)
    apply(cluster, NS + "---" + deployment("proxy", RBAC_PROXY))
    wait_for(lambda: waiting(cluster, "proxy").get("reason") == "ErrImagePull")

    assert waiting(cluster, "proxy")["message"] == (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{RBAC_PROXY}": failed to resolve '
        f'reference "{RBAC_PROXY}": {RBAC_PROXY}: not found'
    )


def test_an_external_pull_of_a_deleted_image_fails_with_the_daemons_words(make_cluster) -> None:
    cluster = make_cluster(**load_scenario(DELETED_IMAGES))
    with pytest.raises(urllib.error.HTTPError) as refused:
        cluster.pull(AUTHSERVICE)
    assert refused.value.code == 502
    answer = json.loads(refused.value.read())["error"]
    assert answer.startswith('Error response from daemon: Head "https://gcr.io/v2/arrikto/kubeflow/oidc-authservice/')
    assert BILLING in answer


def test_image_pull_backoff_patterns_still_fail_with_docker_hubs_answer(make_cluster) -> None:
    cluster = make_cluster(image_pull_backoff=["docker.io/nosuch/*"], pull_error_window=30)
    apply(cluster, NS + "---" + deployment("gone", "docker.io/nosuch/app:1"))
    wait_for(lambda: waiting(cluster, "gone").get("reason") == "ErrImagePull")
    message = waiting(cluster, "gone")["message"]
    assert "pull access denied for docker.io/nosuch/app, repository does not exist" in message


def test_references_are_split_like_dockers_parser() -> None:
    assert split_reference("mysql:8.0.26") == ("docker.io", "library/mysql", "8.0.26", "mysql")
    assert split_reference("localhost:5000/a/b") == ("localhost:5000", "a/b", "latest", "localhost:5000/a/b")
    assert split_reference("gcr.io/x/y@sha256:ab") == ("gcr.io", "x/y", "sha256:ab", "gcr.io/x/y")
    refused = pull_error("mysql:8", "unauthorized: x", "containerd")
    assert "HEAD request to https://registry-1.docker.io/v2/library/mysql/manifests/8: 401 Unauthorized" in refused


INIT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: init, namespace: work}
spec:
  selector: {matchLabels: {app: init}}
  template:
    metadata: {labels: {app: init}}
    spec:
      initContainers: [{name: setup, image: "IMAGE"}]
      containers: [{name: main, image: docker.io/ok/app:1}]
"""


def test_a_deleted_image_in_an_init_container_holds_the_pod_in_pod_initializing(make_cluster) -> None:
    cluster = make_cluster(**load_scenario(DELETED_IMAGES), pull_error_window=0.05)
    apply(cluster, NS + "---" + INIT.replace("IMAGE", RBAC_PROXY))

    def init_waiting() -> dict:
        statuses = only_pod(cluster, "init").get("status", {}).get("initContainerStatuses") or [{}]
        return (statuses[0].get("state") or {}).get("waiting") or {}

    wait_for(lambda: init_waiting().get("reason") == "ImagePullBackOff")
    pod = only_pod(cluster, "init")
    assert 'manifest unknown: Failed to fetch "v0.8.0"' in init_waiting()["message"]
    assert pod["status"]["phase"] == "Pending"
    assert waiting(cluster, "init") == {"reason": "PodInitializing"}
    initialized = next(c for c in pod["status"]["conditions"] if c["type"] == "Initialized")
    assert (initialized["status"], initialized["reason"]) == ("False", "ContainersNotInitialized")
