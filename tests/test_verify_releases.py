"""`kfinstall verify` after `up` of real releases on the double, one of each authentication flavour: v1.4.0
(oidc-authservice: a 302 to Dex v2.22, whose form is at /dex/auth/local?req=) and v1.9.1 (oauth2-proxy's 403
sign-in page, Dex v2.39's /dex/auth/local/login form, which answers a refused password with 401). The test gateway
(tests/fakes/gateway.py) takes its flavour, Dex's version and config, and the user's Profile from what the real
manifests installed on the double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import needs_bundle
from tests.releases import release_tools
from tests.test_readme import assert_shown_in_order, example

FAKE_KUBECTL = Path(__file__).resolve().parent / "fakes" / "bin" / "kubectl-portforward"
FAST = "--set crd_establish_delay=0.2 --set ready_delay=[0.1,0.3] --set seed=11"
#: As tests/test_releases_on_the_double.py: the minikube each release's users have, and v1.4.0's kustomize 3.2.0.
MINIKUBE = {"v1.4.0": "v1.32.0", "v1.9.1": "v1.37.0"}
FIRST_ANSWER = {"v1.4.0": "302 to /dex/auth", "v1.9.1": "403 sign-in page"}


def _install(fake_tools: FakeTools, bundle_releases, builds: Path, tmp_path: Path, tag: str, *args: str,
             stdin: str | None = None):  # fmt: skip
    fake_tools.set(double_args=FAST, minikube_version=MINIKUBE[tag], **release_tools(tag))
    env = isolated_env(fake_tools.env, tmp_path, builds=builds)  # each release built once in the session
    release = bundle_releases[tag]
    up = ("up", "--pins", str(release.pins), "-k", tag, "--yes", "--profile", "minimal", "--timeout", "300", *args)
    result = kfinstall(*up, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr[-3000:]
    return env, release


def _verify(env: dict[str, str], release, *args: str, stdin: str | None = None):
    gateway = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway"}
    result = kfinstall("verify", "--pins", str(release.pins), "--json", *args, env={**env, **gateway}, stdin=stdin)
    assert result.stdout.strip(), result.stderr
    return result, {row["check"]: row for row in json.loads(result.stdout)["checks"]}


@needs_bundle
@pytest.mark.timeout(900)
@pytest.mark.parametrize("tag", list(MINIKUBE))
def test_verify_passes_after_a_minimal_install_of_each_auth_flavour(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path, tag: str
) -> None:
    env, release = _install(fake_tools, bundle_releases, shared_builds, tmp_path, tag)
    result, rows = _verify(env, release)
    assert result.returncode == 0, result.stdout + result.stderr
    assert FIRST_ANSWER[tag] in rows["login"]["reason"]
    assert rows["user namespace"] == {
        "check": "user namespace", "state": "pass", "reason": "kubeflow-user-example-com, owned by user@example.com",
        "hint": None,
    }  # fmt: skip
    assert rows["notebooks"]["state"] == rows["katib"]["state"] == "pass"
    assert rows["pipelines API"]["state"] == "skip"  # Pipelines is in the standard profile
    if tag == "v1.9.1":  # the README's example is this run's human output
        gateway = {"KFINSTALL_KUBECTL": str(FAKE_KUBECTL), "FAKE_PF_ANSWER": "gateway"}
        human = kfinstall("verify", "--pins", str(release.pins), env={**env, **gateway})
        assert human.returncode == 0, human.stderr
        assert_shown_in_order(example("kfinstall verify"), human.stdout + human.stderr)


@needs_bundle
@pytest.mark.timeout(900)
def test_oauth2_proxy_s_dex_refuses_a_wrong_password(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path
) -> None:
    env, release = _install(fake_tools, bundle_releases, shared_builds, tmp_path, "v1.9.1", "--password-stdin",
                            stdin="correct-horse-battery\n")  # fmt: skip
    result, rows = _verify(env, release, "--password-stdin", stdin="12341234\n")
    assert result.returncode == 1
    assert rows["login"]["reason"] == "the password was refused by Dex"
    result, rows = _verify(env, release, "--password-stdin", stdin="correct-horse-battery\n")
    assert result.returncode == 0, result.stdout
