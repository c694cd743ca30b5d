"""`kfinstall check --images`: the plan's images asked of a real registry on loopback (tests/registry_fixtures.py).

The synthetic release's images (`docker.io/kfsynthetic/...`) are rewritten, in a copy of the release, to the test
registry, into which `skopeo` pushed them: all of them for both architectures, except the ones each test is about.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kfinstall.checks import gather, images, registry
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.registry_fixtures import Registry, oci_layout
from tests.releases import SYNTHETIC_MANIFESTS, SYNTHETIC_PINS, LocalRelease, _git, write_pins

HOST_ARCH = registry.host_platform().split("/", 1)[1]
OTHER_ARCH = "arm64" if HOST_ARCH == "amd64" else "amd64"
#: What the registry holds for the synthetic release, as the real registries do for v1.4.0: the oidc-authservice
#: tag was deleted (image-availability.md), katib-ui is served only for the other architecture, dex is a single
#: manifest of the host's architecture (no list), the dashboard is in a repository the token endpoint refuses.
DELETED = "kfsynthetic/oidc-authservice:28c59ef"
OTHER_ARCH_ONLY = "kfsynthetic/katib-ui:v0.12.0"
SINGLE_MANIFEST = "kfsynthetic/dex:v2.24.0"
PRIVATE = "kfsynthetic/centraldashboard:v1.4"


def synthetic_images() -> list[str]:
    """`kfsynthetic/NAME:TAG` of every image the synthetic manifests name."""
    found = re.findall(r"image: docker\.io/(kfsynthetic/\S+)", _all_yaml(SYNTHETIC_MANIFESTS))
    return list(dict.fromkeys(found))


def _all_yaml(root: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(root.rglob("*.yaml")))


@pytest.fixture(scope="module")
def served(token_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The registry with the synthetic images pushed (once per module), as described above."""
    root = tmp_path_factory.mktemp("layouts")
    both = oci_layout(root / "both", ["amd64", "arm64"], as_index=True)
    other = oci_layout(root / "other", [OTHER_ARCH], as_index=True)
    single = oci_layout(root / "single", [HOST_ARCH], as_index=False)
    for image in synthetic_images():
        if image in (DELETED, PRIVATE):
            continue
        layout = {OTHER_ARCH_ONLY: other, SINGLE_MANIFEST: single}.get(image, both)
        token_registry.push(layout, image)
    return token_registry


def release_on(root: Path, rewrite: dict[str, str]) -> LocalRelease:
    """A copy of the synthetic release whose image prefixes are rewritten (`docker.io/kfsynthetic/` -> ...).

    The synthetic manifests run v1.4.0's real deleted `gcr.io/arrikto/kubeflow/oidc-authservice:28c59ef` (which
    the synthetic pins substitute); here it becomes `kfsynthetic/oidc-authservice:28c59ef` on the loopback
    registry, which never holds it: the deleted tag, asked of a real registry, outside the substitution's reach.
    """
    repo = root / "manifests"
    shutil.copytree(SYNTHETIC_MANIFESTS, repo)
    for path in repo.rglob("*.yaml"):
        text = path.read_text().replace("gcr.io/arrikto/kubeflow/", "docker.io/kfsynthetic/")
        for old, new in rewrite.items():
            text = text.replace(old, new)
        path.write_text(text)
    outside = [i for i in re.findall(r"image: (\S+)", _all_yaml(repo)) if not i.startswith("127.0.0.1:")]
    assert not outside, f"these images would be asked of the internet: {outside}"
    _git("init", "--quiet", "-b", "master", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "--quiet", "-m", "synthetic manifests on a loopback registry", cwd=repo)
    _git("tag", "v0.1.0", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)
    url = f"file://{repo}"
    return LocalRelease("v0.1.0", write_pins(SYNTHETIC_PINS, root / "pins.yaml", url, {"v0.1.0": commit}), url, commit)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module: the same release (same commit) is fetched and built once, as on a user's re-run."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path, cache: Path) -> dict[str, str]:
    fake_tools.set(minikube_version="v1.37.0", docker="running")
    return {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_CACHE_DIR": str(cache), "COLUMNS": "200"}


def check(env: dict[str, str], release: LocalRelease, *args: str) -> subprocess.CompletedProcess[str]:
    return kfinstall("check", "--images", "--pins", str(release.pins), "-k", release.tag, *args, env=env)


def rows(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    document = json.loads(result.stdout)
    return [row for row in document["checks"] if row["name"].startswith("image")]


@pytest.fixture
def loopback_release(served: Registry, tmp_path: Path) -> LocalRelease:
    rewrite = {"docker.io/kfsynthetic/centraldashboard": f"{served.host}/private/centraldashboard"}
    return release_on(tmp_path / "release", {**rewrite, "docker.io/kfsynthetic/": f"{served.host}/kfsynthetic/"})


def test_an_image_the_registry_no_longer_serves_fails_check_with_the_registrys_words(env, loopback_release) -> None:
    result = check(env, loopback_release, "--profile", "minimal", "--json")
    assert result.returncode == 1, result.stderr
    (row,) = [row for row in rows(result) if "oidc-authservice" in row["found"]]
    assert row == {
        "name": "image: oidc-authservice",
        "status": "fail",
        "found": f"{loopback_release_host(loopback_release)}/{DELETED}",
        "required": f"served for linux/{HOST_ARCH}",
        "message": "the registry no longer serves it: MANIFEST_UNKNOWN: manifest unknown",
        "hint": row["hint"],
    }
    assert "--without oidc-authservice" in row["hint"]


def test_an_image_served_only_for_another_architecture_fails_check(env, loopback_release) -> None:
    (row,) = [
        row
        for row in rows(check(env, loopback_release, "--profile", "minimal", "--json"))
        if "katib-ui" in row["found"]
    ]
    assert (row["name"], row["status"]) == ("image: katib", "fail")
    assert row["message"] == f"no linux/{HOST_ARCH} image: the registry has linux/{OTHER_ARCH}"


def test_an_image_the_token_endpoint_refuses_is_denied_not_missing(env, loopback_release) -> None:
    (row,) = [
        row
        for row in rows(check(env, loopback_release, "--profile", "minimal", "--json"))
        if "private/" in row["found"]
    ]
    assert (row["name"], row["status"]) == ("image: central-dashboard", "fail")
    assert row["message"].startswith("the registry refuses it to anonymous pulls")
    assert "UNAUTHORIZED" in row["message"]


def test_images_served_for_the_host_are_not_named(env, loopback_release) -> None:
    named = {
        row["found"].split("/", 1)[1] for row in rows(check(env, loopback_release, "--profile", "minimal", "--json"))
    }
    assert named == {DELETED, OTHER_ARCH_ONLY, "private/centraldashboard:v1.4"}  # dex's single manifest is fine


def test_when_every_image_is_served_one_row_says_so(env, served: Registry, tmp_path: Path) -> None:
    everything = {  # the three problem images replaced by served ones
        f"{DELETED}": "kfsynthetic/dex:v2.24.0",
        f"{OTHER_ARCH_ONLY}": "kfsynthetic/katib-controller:v0.12.0",
        f"{PRIVATE}": "kfsynthetic/jupyter-web-app:v1.4",
    }
    rewrite = {f"docker.io/{old}": f"docker.io/{new}" for old, new in everything.items()}
    release = release_on(tmp_path / "release", {**rewrite, "docker.io/kfsynthetic/": f"{served.host}/kfsynthetic/"})
    result = check(env, release, "--profile", "minimal", "--json")
    (row,) = rows(result)
    assert (row["name"], row["status"], row["message"]) == ("images", "ok", "all available")
    assert re.fullmatch(r"\d+ image\(s\) on 1 registry", row["found"])


def test_the_table_shows_the_problem_images_and_what_to_do(env, loopback_release) -> None:
    result = check(env, loopback_release, "--profile", "minimal")
    assert result.returncode == 1
    assert "image: oidc-authservice" in result.stdout
    assert f"✗ image: oidc-authservice: {loopback_release_host(loopback_release)}/{DELETED}: pods of" in result.stdout


def test_an_unreachable_registry_is_a_warning_never_missing(env, tmp_path: Path) -> None:
    closed = _closed_port()
    release = release_on(tmp_path / "release", {"docker.io/kfsynthetic/": f"127.0.0.1:{closed}/kfsynthetic/"})
    result = check(env, release, "--profile", "minimal", "--json")
    (row,) = rows(result)
    assert (row["name"], row["status"]) == ("images", "warn")
    assert row["found"].endswith(f"image(s) on 127.0.0.1:{closed}")
    assert row["message"].startswith("could not check: ") and "refused" in row["message"].lower()
    assert all(check["status"] != "fail" for check in json.loads(result.stdout)["checks"] if check["name"] == "images")


def test_without_the_manifests_the_images_are_a_warning(env, synthetic_release: LocalRelease, tmp_path: Path) -> None:
    pins = tmp_path / "pins.yaml"
    write_pins(synthetic_release.pins, pins, f"file://{tmp_path}/no-such-repository", {})
    result = check(env, LocalRelease("v0.1.0", pins, "", ""), "--json")
    (row,) = rows(result)
    assert (row["name"], row["status"], row["found"]) == ("images", "warn", "not listed")
    assert row["message"].startswith("could not check the images: could not clone")


def test_check_without_images_asks_no_registry(env, synthetic_release: LocalRelease) -> None:
    result = kfinstall("check", "--pins", str(synthetic_release.pins), "--json", env=env)
    assert rows(result) == []


def test_the_platform_is_judged_only_where_it_is_known() -> None:
    facts = gather.ImageFacts(
        None,  # --context: the cluster's nodes' platform is not known
        {"127.0.0.1:5000/a:v1": ["katib"]},
        {"127.0.0.1:5000/a:v1": registry.Availability("127.0.0.1:5000/a:v1", "present", platforms=("linux/s390x",))},
    )
    (row,) = images.check_images(facts)
    assert (row.status, row.required, row.message) == ("ok", "served", "all available")


def loopback_release_host(release: LocalRelease) -> str:
    text = _all_yaml(Path(release.repo_url.removeprefix("file://")))
    return re.search(r"image: (127\.0\.0\.1:\d+)/", text).group(1)


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed when the with ends: nothing listens there
