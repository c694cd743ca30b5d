"""The real Kubeflow manifests against the double: every built-in kind is served, and v1.4.0 installs.

These are the double's fidelity checks that matter most: if kubectl could not map a kind, or an install that works
on a real cluster could not converge here, every end-to-end test built on the double would be wrong.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.double.catalog import Catalog
from tests.double.fixtures import ClusterHandle
from tests.paths import BUNDLE_COMMITS, MANIFESTS_BUNDLE, needs_bundle, real_kubectl

#: The Kubernetes version each release was tested with (README / kind node), as the double should serve it.
RELEASE_K8S = {"v1.4.0": 19, "v1.9.1": 31, "v1.10.2": 32, "v1.11.0": 34}

#: v1.4.0's minimal install, in README order (tests/../shared/reference/kubeflow-releases.md).
V140_MINIMAL = [
    "common/cert-manager/cert-manager/base",
    "common/cert-manager/kubeflow-issuer/base",
    "common/istio-1-9/istio-crds/base",
    "common/istio-1-9/istio-namespace/base",
    "common/istio-1-9/istio-install/base",
    "common/dex/overlays/istio",
    "common/oidc-authservice/base",
    "common/kubeflow-namespace/base",
    "common/kubeflow-roles/base",
    "common/istio-1-9/kubeflow-istio-resources/base",
    "apps/katib/upstream/installs/katib-with-kubeflow",
    "apps/centraldashboard/upstream/overlays/istio",
    "apps/admission-webhook/upstream/overlays/cert-manager",
    "apps/jupyter/notebook-controller/upstream/overlays/kubeflow",
    "apps/jupyter/jupyter-web-app/upstream/overlays/istio",
    "apps/profiles/upstream/overlays/kubeflow",
    "common/user-namespace/base",
]


@pytest.fixture(scope="module")
def bare_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared bundle as a bare repository (tags resolve to BUNDLE_COMMITS)."""
    bare = tmp_path_factory.mktemp("manifests") / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(MANIFESTS_BUNDLE), str(bare)], check=True)
    return bare


@pytest.fixture(scope="module")
def v140_tree(bare_repo: Path) -> Path:
    """A worktree of v1.4.0 to build its kustomizations."""
    tree = bare_repo.parent / "v1.4.0"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "--git-dir", str(bare_repo), "archive", BUNDLE_COMMITS["v1.4.0"]], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


#: Groups of built-in APIs (at any version): CRD groups such as app.k8s.io are not the double's to serve.
BUILTIN_GROUPS = {rt.group for minor in (16, 25, 34) for rt in Catalog.builtin(minor).types}


def builtin_kinds(bare_repo: Path, commit: str) -> set[tuple[str, str]]:
    """(apiVersion, kind) of every top-level object of a built-in group in a release's YAML files.

    `git grep` reads the `apiVersion:`/`kind:`/`---` lines of every file at the commit without a checkout; test
    data, docs and kustomize patches (not objects) are left out.
    """
    grep = ["git", "--git-dir", str(bare_repo), "grep", "-E", r"^(apiVersion|kind):|^---", commit, "--", "*.yaml"]
    lines = subprocess.run(grep, check=True, capture_output=True, text=True).stdout.splitlines()
    found: set[tuple[str, str]] = set()
    path, doc = "", {}
    for line in [*lines, "end:end:---"]:
        _, line_path, text = line.split(":", 2)
        if line_path != path or text.startswith("---"):
            skipped = "/tests/" in path or "/docs/" in path or "patch" in path.rsplit("/", 1)[-1]
            api = doc.get("apiVersion", "")
            builtin = api.rpartition("/")[0] in BUILTIN_GROUPS and ("/" in api or api == "v1")
            if "kind" in doc and builtin and not skipped:
                found.add((api, doc["kind"]))
            path, doc = line_path, {}
        key, _, value = text.partition(":")
        if key in ("apiVersion", "kind") and key not in doc:
            doc[key] = value.split("#")[0].strip().strip("'\"")
    return found


@needs_bundle
@pytest.mark.parametrize("tag", list(RELEASE_K8S))
def test_every_builtin_kind_in_a_release_is_served_at_its_kubernetes_version(bare_repo, tag):
    served = {(rt.group_version, rt.kind) for rt in Catalog.builtin(RELEASE_K8S[tag]).types}
    ignored = {"Kustomization", "Component", "List", "ImageTagMirrorSet"}  # not API objects (kustomize, lists)

    missing = {(gv, k) for gv, k in builtin_kinds(bare_repo, BUNDLE_COMMITS[tag]) - served if k not in ignored}

    assert not missing, f"{tag}: kinds the double does not serve at 1.{RELEASE_K8S[tag]}: {sorted(missing)}"


def test_apis_removed_upstream_are_served_only_before_their_removal():
    old = {(rt.group_version, rt.kind) for rt in Catalog.builtin(19).types}
    new = {(rt.group_version, rt.kind) for rt in Catalog.builtin(34).types}

    for gvk in [
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
        ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
        ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
        ("policy/v1beta1", "PodDisruptionBudget"),
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
    ]:
        assert gvk in old and gvk not in new
    assert ("autoscaling/v2", "HorizontalPodAutoscaler") in new - old
    assert ("policy/v1", "PodDisruptionBudget") in new - old


def apply_until_ok(cluster: ClusterHandle, manifest: str, deadline: float) -> int:
    """Apply like the README's retry loop; returns how many failed attempts came first.

    v1.4.0's README applies client-side (`while ! kustomize build example | kubectl apply -f -; ...`): server-side
    apply on its Kubernetes 1.19 refuses its protocol-less ports (tests/double/listmapkeys.py).
    """
    failures = 0
    while True:
        result = cluster.kubectl("apply", "-f", "-", input=manifest)
        if result.returncode == 0:
            return failures
        failures += 1
        assert time.monotonic() < deadline, result.stderr[-2000:]
        time.sleep(0.3)


@needs_bundle
def test_v140_minimal_install_converges_when_reapplied_in_readme_order(v140_tree, make_cluster):
    """The README's single command, `while ! kustomize build example | kubectl apply -f -; do ...; done`, over the
    minimal set in README order: the first apply must fail whatever the machine's speed (kubectl maps every object's
    kind before it sends any: `Run` calls `GetObjects`, i.e. the builder's `Infos()`, before `applyOneObject`,
    kubernetes/kubernetes staging/src/k8s.io/kubectl/pkg/cmd/apply/apply.go; so the ClusterIssuer, Gateways,
    Profile... of the CRDs that same apply creates cannot be mapped), the reapplies then meet CRDs not yet
    established and webhooks not yet serving, and it converges."""
    builds = []
    for path in V140_MINIMAL:
        built = subprocess.run(
            [str(real_kubectl()), "kustomize", str(v140_tree / path)],
            capture_output=True,
            text=True,
            check=True,
        )
        builds.append(built.stdout)
    cluster = make_cluster(k8s_version="v1.19.3", crd_establish_delay=1.0, ready_delay=[0.5, 2.0])
    started = time.monotonic()

    failures = apply_until_ok(cluster, "\n---\n".join(builds), started + 90)
    while True:
        workloads = cluster.objects("Deployment", group="apps") + cluster.objects("StatefulSet", group="apps")
        unready = [
            w["metadata"]["name"]
            for w in workloads
            if (w.get("status") or {}).get("readyReplicas", 0) < w["spec"].get("replicas", 1)
        ]
        if not unready and cluster.object("Namespace", "kubeflow-user-example-com") is not None:
            break
        assert time.monotonic() - started < 90, f"never ready: {unready}"
        time.sleep(0.2)
    elapsed = time.monotonic() - started

    assert failures > 0, "the first apply cannot map the kinds of the CRDs it creates"
    assert elapsed < 60
    names = {w["metadata"]["name"] for w in workloads}
    assert {"cert-manager-webhook", "istiod", "dex", "centraldashboard", "profiles-deployment"} <= names
    assert cluster.object("Profile", "kubeflow-user-example-com", group="kubeflow.org") is not None
    assert cluster.object("Secret", "webhook-certs", "kubeflow")["type"] == "kubernetes.io/tls"  # from cert-manager
    mounts = [e for e in cluster.objects("Event") if e["reason"] == "FailedMount"]
    assert mounts, "webhook pods should have waited for their cert-manager secrets"
