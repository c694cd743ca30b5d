"""Kubeflow 26.03, the first calendar release, installs from its real manifests (the shared bundle) on the double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools

RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"


@pytest.mark.timeout(900)
def test_up_installs_the_real_26_03_minimal_profile_on_minikube_v1_37(
    fake_tools: FakeTools, bundle_releases, tmp_path: Path
) -> None:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0", kustomize_version="5.8.1")
    env = isolated_env(fake_tools.env, tmp_path)
    release = bundle_releases["26.03"]
    result = kfinstall("up", "--pins", str(release.pins), "-k", "26.03", "--profile", "minimal", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "Kubeflow 26.03 is ready (13 installed" in result.stderr
    (start,) = [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    assert {
        "--kubernetes-version=v1.34.0",
        "--extra-config=apiserver.service-account-issuer=https://kubernetes.default.svc",
        "--extra-config=apiserver.service-account-signing-key-file=/var/lib/minikube/certs/sa.key",
    } <= set(start)
    profile = fake_tools.run(
        "kubectl", "--context", "kubeflow", "get", "profile", "kubeflow-user-example-com", "-o", "json"
    )
    assert profile.returncode == 0, profile.stderr
    assert json.loads(profile.stdout)["spec"]["owner"]["name"] == "user@example.com"
