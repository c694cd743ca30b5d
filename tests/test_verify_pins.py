"""The pins' `gateway` facts are those of each release's real manifests (the bundle): the authentication in front
of the gateway, the session cookie it sets, and the Pipelines API version its api-server serves."""

from __future__ import annotations

import re
import subprocess

import pytest

from kfinstall.release.pins import load_pins
from tests.paths import BUNDLE_COMMITS, needs_bundle
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
