"""The pins' `gateway` facts are those of each release's real manifests (the bundle): the authentication in front
of the gateway, the session cookie it sets, the Pipelines API version its api-server serves, and the
service-account issuer its token overlay trusts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from kfinstall.release.pins import load_pins
from tests.paths import BUNDLE_COMMITS, needs_bundle, real_kubectl
from tests.releases import SHIPPED_PINS


def _show(bundle_releases, tag: str, path: str) -> str | None:
    release = bundle_releases[tag]
    git_dir = release.repo_url.removeprefix("file://")
    shown = subprocess.run(["git", "--git-dir", git_dir, "show", f"{release.commit}:{path}"], capture_output=True,
                           text=True)  # fmt: skip
    return shown.stdout if shown.returncode == 0 else None


@needs_bundle
@pytest.mark.parametrize("tag", list(BUNDLE_COMMITS))
def test_the_gateway_facts_of_the_pins_are_the_manifests(bundle_releases, tag: str) -> None:
    gateway = load_pins(SHIPPED_PINS).get(tag).gateway
    assert gateway is not None
    cfg = _show(bundle_releases, tag, "common/oauth2-proxy/base/oauth2_proxy.cfg")
    if gateway.auth == "oauth2-proxy":
        assert cfg is not None
        assert re.search(r'^cookie_name = "(.+)"$', cfg, re.MULTILINE).group(1) == gateway.session_cookie  # type: ignore[union-attr]
        assert re.search(r"^skip_provider_button = false$", cfg, re.MULTILINE)  # the 403 sign-in page
    else:
        assert cfg is None
        params = _show(bundle_releases, tag, "common/oidc-authservice/base/params.env")
        assert params is not None and "REDIRECT_URL=/login/oidc" in params
    kustomization = _show(bundle_releases, tag, "apps/pipeline/upstream/base/pipeline/kustomization.yaml") or _show(
        bundle_releases, tag, "applications/pipeline/upstream/base/pipeline/kustomization.yaml"
    )
    assert kustomization is not None
    major = int(re.search(r"newTag: (\d+)\.", kustomization).group(1))  # type: ignore[union-attr]
    assert gateway.kfp_api == ("v2beta1" if major >= 2 else "v1beta1")


M2M_OVERLAY = "common/oauth2-proxy/overlays/m2m-dex-and-kind"


@needs_bundle
@pytest.mark.parametrize("tag", [tag for tag in BUNDLE_COMMITS if tag != "v1.4.0"])  # v1.4.0: no oauth2-proxy
def test_the_pinned_issuer_is_one_the_token_overlay_trusts(bundle_releases, tag: str, tmp_path: Path) -> None:
    """`client --token` mints a token the cluster signs with the pinned --service-account-issuer; Istio's
    RequestAuthentication m2m-token-issuer (the overlay built by the real kubectl's kustomize) must trust it, or
    every request with it is a 401. v1.9.1 pinned its README's kubernetes.default.svc, which that overlay refuses."""
    release = bundle_releases[tag]
    git_dir = release.repo_url.removeprefix("file://")
    archive = subprocess.run(["git", "--git-dir", git_dir, "archive", release.commit, "common/oauth2-proxy"],
                             capture_output=True, check=True)  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True)
    built = subprocess.run([str(real_kubectl()), "kustomize", str(tmp_path / M2M_OVERLAY)], capture_output=True,
                           text=True, check=True)  # fmt: skip
    authentication = next(
        doc for doc in yaml.safe_load_all(built.stdout)
        if doc and doc["kind"] == "RequestAuthentication" and doc["metadata"]["name"] == "m2m-token-issuer"
    )  # fmt: skip
    trusted = [rule["issuer"] for rule in authentication["spec"]["jwtRules"]]
    assert load_pins(SHIPPED_PINS).get(tag).service_account_issuer in trusted
