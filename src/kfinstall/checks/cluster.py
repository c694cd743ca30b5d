"""Verdicts on the cluster's Kubernetes: the version minikube will start against the release's range, and for an
existing cluster (`--context`) its version, default StorageClass, TokenRequest API and service-account issuer.
Pure: from the answers `gather` kept."""

from __future__ import annotations

from kfinstall.checks import toolversions
from kfinstall.checks.gather import ClusterFacts
from kfinstall.checks.request import CheckRequest, CheckResult, first_line
from kfinstall.release.pins import Release
from kfinstall.release.version import Version
from kfinstall.runner import Result


def check_release_kubernetes(release: Release, kubernetes: Version, *, explicit: bool) -> CheckResult:
    supported = str(release.kubernetes)
    if release.kubernetes.contains(kubernetes):
        return CheckResult(
            "kubernetes version", "ok", str(kubernetes), supported, f"Kubeflow {release.tag} supports it"
        )
    hint = f"use --k8s-version {release.kubernetes.default}" if explicit else "check the pins file"
    return CheckResult(
        "kubernetes version",
        "fail",
        str(kubernetes),
        supported,
        f"Kubeflow {release.tag} does not support Kubernetes {kubernetes}",
        hint,
    )


def check_cluster(request: CheckRequest, cluster: ClusterFacts) -> list[CheckResult]:
    """The checks for an existing cluster (`--context`)."""
    release = request.release
    results = []
    supported = str(release.kubernetes)
    version = cluster.version
    parsed = toolversions.parse_kubectl_server_version(version.stdout) if version is not None else None
    if version is None or parsed is None or parsed.version is None:
        message = (version.output if version is not None else "kubectl is not installed") or "no answer"
        results.append(
            CheckResult(
                "cluster reachable",
                "fail",
                first_line(message),
                f"context {request.context} answers",
                f"cannot reach the cluster of context {request.context}",
                "check `kubectl --context " + str(request.context) + " get nodes` and your kubeconfig",
            )
        )
        return results
    server = parsed.version
    if release.kubernetes.contains(server):
        results.append(
            CheckResult("cluster kubernetes", "ok", str(server), supported, f"Kubeflow {release.tag} supports it")
        )
    else:
        results.append(
            CheckResult(
                "cluster kubernetes",
                "fail",
                str(server),
                supported,
                f"Kubeflow {release.tag} does not support Kubernetes {server}",
                "use a cluster in the supported range, or another -k release (see `kfinstall versions`)",
            )
        )
    results.append(_check_default_storage_class(cluster.storage_classes))
    results.append(_check_token_request(cluster.api_v1))
    results.append(_check_issuer(release, cluster.openid))
    return results


def _check_default_storage_class(result: Result | None) -> CheckResult:
    import json

    required = "a default StorageClass"
    names, defaults = [], []
    if result is not None and result.ok:
        try:
            items = json.loads(result.stdout).get("items", [])
        except ValueError:
            items = []
        for item in items:
            metadata = item.get("metadata", {})
            names.append(metadata.get("name", "?"))
            annotations = metadata.get("annotations") or {}
            if "true" in (
                annotations.get("storageclass.kubernetes.io/is-default-class"),
                annotations.get("storageclass.beta.kubernetes.io/is-default-class"),
            ):
                defaults.append(metadata.get("name", "?"))
    if defaults:
        return CheckResult("default storageclass", "ok", ", ".join(defaults), required, "PVCs will be provisioned")
    return CheckResult(
        "default storageclass",
        "fail",
        f"none ({', '.join(names)} not default)" if names else "no StorageClass",
        required,
        "Katib's and the auth service's PVCs would stay Pending",
        "mark one default: kubectl patch storageclass NAME -p "
        '\'{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}\'',
    )


def _check_token_request(result: Result | None) -> CheckResult:
    import json

    required = "serviceaccounts/token served"
    served = False
    if result is not None and result.ok:
        try:
            served = any(
                r.get("name") == "serviceaccounts/token" for r in json.loads(result.stdout).get("resources", [])
            )
        except (ValueError, AttributeError):
            served = False
    if served:
        return CheckResult("tokenrequest api", "ok", "served", required, "projected service-account tokens work")
    return CheckResult(
        "tokenrequest api",
        "fail",
        "not served",
        required,
        "Istio needs projected service-account tokens (the TokenRequest API)",
        "start the apiserver with --service-account-issuer and --service-account-signing-key-file",
    )


def _check_issuer(release: Release, result: Result | None) -> CheckResult:
    import json

    wanted = release.service_account_issuer
    required = wanted or "any"
    issuer = None
    if result is not None and result.ok:
        try:
            issuer = json.loads(result.stdout).get("issuer")
        except (ValueError, AttributeError):
            issuer = None
    if issuer is None:
        return CheckResult(
            "service-account issuer", "warn", "unknown", required, "the cluster does not publish its OIDC configuration"
        )
    if wanted is None or issuer == wanted:
        return CheckResult("service-account issuer", "ok", issuer, required, "as the release expects")
    return CheckResult(
        "service-account issuer",
        "warn",
        issuer,
        required,
        f"Kubeflow {release.tag} is set up for issuer {wanted}",
        f"start the apiserver with --service-account-issuer={wanted} if authentication fails",
    )
