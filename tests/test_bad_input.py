"""The bad-input matrix: what a user can get wrong on the command line, one case per input.

Each case runs the real CLI and must end with one clear `error:` line (plus its hint), exit code 2, and nothing
changed: no minikube call at all, no kubectl apply, no clone, and no log file or cache directory either — a bad
input is refused before kfinstall opens its log, so a typo leaves no trace on disk. docs/reliability.md lists
each case with its message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease


@dataclass(frozen=True)
class Input:
    """A command line (`{pins}` and `{tmp}` are filled in) and the text its error must contain."""

    args: tuple[str, ...]
    message: str
    pins: Callable[[dict], dict | str] | None = None  # rewrites the synthetic pins data (a str: raw file text)
    stdin: str | None = None


def up(*args: str) -> tuple[str, ...]:
    return ("up", "--pins", "{pins}", "-k", "v0.1.0", "--yes", *args)


def _without_field(data: dict) -> dict:
    del data["releases"][0]["commit"]
    return data


def _unknown_dependency(data: dict) -> dict:
    data["releases"][0]["components"][2]["depends_on"] = ["istio", "no-such-component"]
    return data


def _cycle(data: dict) -> dict:
    components = {c["id"]: c for c in data["releases"][0]["components"]}
    components["istio"]["depends_on"] = ["dex"]
    return data


def _repo(url: str) -> Callable[[dict], dict]:
    def rewrite(data: dict) -> dict:
        data["releases"][0]["repo"] = url
        return data

    return rewrite


CASES: dict[str, Input] = {
    "unknown-release": Input(("up", "--pins", "{pins}", "-k", "v9.9.9", "--yes"), "valid releases: v0.1.0"),
    "unknown-component-in-with": Input(up("--with", "katibb"), "unknown component katibb"),
    "unknown-component-in-without": Input(up("--without", "katibb"), "unknown component katibb"),
    "memory-not-a-size": Input(up("--memory", "lots"), "--memory"),
    "memory-negative": Input(up("--memory", "-1"), "--memory"),
    "cpus-zero": Input(up("--cpus", "0"), "--cpus"),
    "k8s-version-not-a-version": Input(up("--k8s-version", "banana"), "--k8s-version 'banana' is not a version"),
    "k8s-version-outside-the-release-range": Input(up("--k8s-version", "v1.20.0"), "v1.20.0"),
    "pins-bad-yaml": Input(up(), "not valid YAML", pins=lambda data: "releases: [\n  - tag: v0.1.0\n   bad"),
    "pins-missing-field": Input(up(), "commit", pins=_without_field),
    "pins-unknown-dependency": Input(up(), "no-such-component", pins=_unknown_dependency),
    "pins-dependency-cycle": Input(up(), "cycle", pins=_cycle),
    "pins-file-missing": Input(("up", "--pins", "{tmp}/nope.yaml", "--yes"), "cannot read pins file"),
    "pins-repo-ext-transport": Input(
        up(),
        "repo: 'ext::sh -c touch% /tmp/kfinstall-pwned' uses the ext:: remote helper",
        pins=_repo("ext::sh -c touch% /tmp/kfinstall-pwned"),
    ),
    "pins-repo-plain-http": Input(up(), "uses the http transport", pins=_repo("http://github.com/kubeflow/manifests")),
    "manifests-repo-ext-transport": Input(
        up("--manifests-repo", "ext::sh -c touch% /tmp/kfinstall-pwned"), "--manifests-repo 'ext::sh"
    ),
    "manifests-dir-not-a-checkout": Input(up("--manifests-dir", "{tmp}"), "is not a kubeflow/manifests checkout"),
    "manifests-dir-missing": Input(up("--manifests-dir", "{tmp}/nope"), "is not a directory"),
    "context-does-not-exist": Input(up("--context", "no-such-context"), "context 'no-such-context' does not exist"),
    "gpus-value-minikube-refuses": Input(up("--gpus", "amd64"), "--gpus 'amd64' is not one of"),
    "password-file-missing": Input(up("--password-file", "{tmp}/nope"), "does not exist"),
    "password-file-empty": Input(up("--password-file", "{tmp}/empty"), "is empty"),
    "password-longer-than-72-bytes-in-a-file": Input(
        up("--password-file", "{tmp}/long-password"), "is 73 bytes long: Dex's bcrypt reads at most 72"
    ),
    "password-longer-than-72-bytes-on-stdin": Input(
        up("--password-stdin"), "is 73 bytes long: Dex's bcrypt reads at most 72", stdin="x" * 73 + "\n"
    ),
    "password-of-40-characters-but-80-bytes": Input(
        up("--password-stdin"), "is 80 bytes long: Dex's bcrypt reads at most 72", stdin="é" * 40 + "\n"
    ),
    "password-command-longer-than-72-bytes": Input(
        ("password", "--password-stdin"), "is 73 bytes long", stdin="x" * 73 + "\n"
    ),
    "email-not-an-address": Input(up("--email", "ada"), "is not an email address"),
    "context-with-minikube-flags": Input(up("--context", "kubeflow", "--cpus", "4"), "minikube options"),
    "profile-typo": Input(up("--profile", "minimall"), "minimall"),
    "variant-typo": Input(up("--variant", "pipelines=pnss"), "pnss"),
    "variant-without-value": Input(up("--variant", "pipelines"), "is not COMPONENT=VARIANT"),
    "unknown-option": Input(up("--memroy", "8g"), "No such option"),
    "port-out-of-range": Input(("port-forward", "--port", "70000"), "--port 70000 is not a TCP port"),
    "port-forward-address-a-host-name": Input(
        ("port-forward", "--address", "nosuchhost.invalid"), "--address 'nosuchhost.invalid' is not an IP address"
    ),
    "port-forward-address-not-on-this-machine": Input(  # TEST-NET-1 (RFC 5737): nobody's address; nothing is sent
        ("port-forward", "--address", "192.0.2.1"), "--address 192.0.2.1 is not an address of this machine"
    ),
    "port-forward-address-a-list": Input(
        ("port-forward", "--address", "127.0.0.1,::1"), "--address '127.0.0.1,::1' is not an IP address"
    ),
    "timeout-zero": Input(up("--timeout", "0"), "--timeout 0 is not a number of seconds of at least 1"),
    "timeout-negative": Input(up("--timeout", "-5"), "--timeout -5 is not a number of seconds"),
    "timeout-nan": Input(up("--timeout", "nan"), "--timeout nan is not a number of seconds"),
    "timeout-infinite": Input(up("--timeout", "inf"), "--timeout inf is not a number of seconds"),
    "disk-size-not-a-size": Input(up("--disk-size", "lots"), "--disk-size 'lots' is not a size"),
    "disk-size-below-minikube-s-minimum": Input(up("--disk-size", "1g"), "less than minikube's minimum of 2000 MB"),
    "driver-unknown-to-minikube": Input(up("--driver", "nonsense"), "--driver 'nonsense' is not a minikube driver"),
    "check-driver-unknown-to-minikube": Input(
        ("check", "--pins", "{pins}", "--driver", "nonsense"), "--driver 'nonsense' is not a minikube driver"
    ),
    "plan-driver-unknown-to-minikube": Input(
        ("plan", "--pins", "{pins}", "--driver", "virtualbx"), "--driver 'virtualbx' is not a minikube driver"
    ),
    "down-timeout-negative": Input(("down", "--yes", "--timeout", "-1"), "--timeout -1 is not a number of seconds"),
    "down-keep-cluster-timeout-zero": Input(
        ("down", "--yes", "--keep-cluster", "--timeout", "0"), "--timeout 0 is not a number of seconds"
    ),
    "gpu-test-timeout-nan": Input(("gpu-test", "--timeout", "nan"), "--timeout nan is not a number of seconds"),
    "status-watch-interval-zero": Input(
        ("status", "--watch", "--interval", "0"), "--interval 0 is not a number of seconds of at least 0.1"
    ),
    "password-command-without-password": Input(("password",), "no new password given"),
    "images-action-unknown": Input(("images", "lsit", "--pins", "{pins}", "-k", "v0.1.0"), "unknown images action"),
    "images-save-without-file": Input(("images", "save", "--pins", "{pins}", "-k", "v0.1.0"), "needs a target file"),
    "images-load-without-file": Input(("images", "load"), "images load needs the tarball"),
    "images-save-onto-a-directory": Input(
        ("images", "save", "{tmp}", "--pins", "{pins}", "-k", "v0.1.0"), "is a directory"
    ),
    "images-save-under-a-file": Input(
        ("images", "save", "{tmp}/empty/kf.tar", "--pins", "{pins}", "-k", "v0.1.0"), "is a file, not a directory"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path) -> None:
    case = CASES[name]
    pins = synthetic_release.pins
    if case.pins is not None:
        changed = case.pins(yaml.safe_load(pins.read_text()))
        pins = tmp_path / "pins.yaml"
        pins.write_text(changed if isinstance(changed, str) else yaml.safe_dump(changed, sort_keys=False))
    work = tmp_path / "work"
    work.mkdir()
    (work / "empty").write_text("")
    (work / "long-password").write_text("x" * 73 + "\n")
    env = isolated_env(fake_tools.env, tmp_path)
    args = [arg.replace("{pins}", str(pins)).replace("{tmp}", str(work)) for arg in case.args]
    result = kfinstall(*args, env=env, stdin=case.stdin or "")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert case.message in output
    assert "Traceback" not in output
    assert output.count("rror") <= 2, output  # `error:` once (click's box says `Error` once)
    assert fake_tools.calls("minikube") == []
    assert not (tmp_path / "logs").exists(), "a bad input must not leave a log file"
    assert not (tmp_path / "cache").exists(), "a bad input must not clone or cache anything"


def test_the_shipped_release_s_kubernetes_range_is_checked_by_the_same_rule(
    fake_tools: FakeTools, tmp_path: Path
) -> None:
    """Outside the pins' range on a real release too: v1.4.0 runs on Kubernetes 1.19 only, not 1.34."""
    env = isolated_env(fake_tools.env, tmp_path)
    result = kfinstall("up", "-k", "v1.4.0", "--k8s-version", "v1.34.0", "--yes", env=env)
    assert result.returncode == 2, result.stderr
    assert "v1.34.0" in result.stderr
    assert fake_tools.calls("minikube") == []


def test_nothing_installed_is_not_bad_input(fake_tools: FakeTools, tmp_path: Path) -> None:
    """No cluster is a fact about the machine, not a typo: exit 3 (errors.py), not the usage code 2, and a log."""
    env = isolated_env(fake_tools.env, tmp_path)
    result = kfinstall("status", "--json", env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert json.loads(result.stdout)["cluster"]["state"] == "missing"
    assert list((tmp_path / "logs").glob("*-status-*.log"))
