"""kfinstall reads a profile's settings with `minikube profile list -o json --light` (no status check of every
machine), and with a minikube older than v1.18.0, which has no `--light`, without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools


@pytest.mark.parametrize(("minikube", "kubernetes"), [("v1.37.0", "v1.30.0"), ("v1.17.1", "v1.19.3")])
def test_status_of_a_stopped_profile_names_its_kubernetes_from_the_profile_listing(
    fake_tools: FakeTools, tmp_path: Path, minikube: str, kubernetes: str
) -> None:
    fake_tools.set(minikube_version=minikube)
    assert fake_tools.run("minikube", "start", "-p", "kubeflow", f"--kubernetes-version={kubernetes}").returncode == 0
    assert fake_tools.run("minikube", "stop", "-p", "kubeflow").returncode == 0

    result = kfinstall("status", "--json", env=isolated_env(fake_tools.env, tmp_path))

    assert kubernetes in result.stdout, result.stdout + result.stderr
    lists = [call for call in fake_tools.calls("minikube") if "list" in call]
    if minikube == "v1.37.0":
        assert len(lists) == 1 and "--light" in lists[0]
    else:  # refused (`unknown flag: --light`), asked again without it
        assert "--light" in lists[0] and "--light" not in lists[-1]
