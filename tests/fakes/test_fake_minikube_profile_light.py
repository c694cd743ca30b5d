"""`minikube profile list -o json --light`: the profiles' configs with the status "Skipped" (the machines are not
asked), from v1.18.0 on; older releases refuse the flag as cobra does (cmd/minikube/cmd/config/profile_list.go)."""

from __future__ import annotations

import json

from tests.fakes.fixtures import FakeTools


def test_light_lists_the_configs_without_the_status(fake_tools: FakeTools) -> None:
    assert fake_tools.run("minikube", "start", "-p", "kf", "--cpus=4").returncode == 0

    listed = fake_tools.run("minikube", "profile", "list", "-o", "json", "--light")

    assert listed.returncode == 0, listed.stderr
    (profile,) = json.loads(listed.stdout)["valid"]
    assert profile["Status"] == "Skipped" and profile["Config"]["CPUs"] == 4


def test_light_is_an_unknown_flag_before_v1_18(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.17.1")

    listed = fake_tools.run("minikube", "profile", "list", "-o", "json", "--light")

    assert listed.returncode == 14
    assert "unknown flag: --light" in listed.stderr
