"""Fixtures that turn test data into installable releases: local git repositories plus pins that match them.

The product refuses manifests whose commit differs from the pins, so a test never weakens that check: it
writes pins of its own whose `repo` and `commit` are those of the local repository it serves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.paths import BUNDLE_COMMITS, MANIFESTS_BUNDLE, REPO_ROOT

SYNTHETIC_MANIFESTS = REPO_ROOT / "tests" / "data" / "synthetic-manifests"
SYNTHETIC_PINS = REPO_ROOT / "tests" / "data" / "synthetic-pins.yaml"
SHIPPED_PINS = REPO_ROOT / "manifests_pins.yaml"
#: The images the registries deleted, as a scenario file of the double (`--scenario`, knob `deleted_images`).
DELETED_IMAGES = REPO_ROOT / "tests" / "data" / "deleted-images.yaml"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "kfinstall tests",
    "GIT_AUTHOR_EMAIL": "tests@kfinstall.invalid",
    "GIT_COMMITTER_NAME": "kfinstall tests",
    "GIT_COMMITTER_EMAIL": "tests@kfinstall.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


@dataclass(frozen=True)
class LocalRelease:
    """A release served from a local repository: pass `pins` to kfinstall with `--pins`."""

    tag: str
    pins: Path
    repo_url: str
    commit: str


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **_GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def write_pins(source: Path, target: Path, repo_url: str, commits: dict[str, str]) -> Path:
    """A copy of the pins file `source` whose releases point at `repo_url` and the given commits."""
    data = yaml.safe_load(source.read_text())
    for release in data["releases"]:
        release["repo"] = repo_url
        if release["tag"] in commits:
            release["commit"] = commits[release["tag"]]
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory: pytest.TempPathFactory) -> LocalRelease:
    """tests/data/synthetic-manifests committed and tagged v0.1.0 in a local repository, with matching pins."""
    return synthetic_variant(tmp_path_factory.mktemp("synthetic"))


def synthetic_variant(root: Path, edits: dict[str, tuple[str, str]] | None = None) -> LocalRelease:
    """The synthetic release under `root`, with `edits` ({manifest path: (old text, new text)}) made before the
    commit: a release that differs from the shared one in one respect, with pins that match it."""
    repo = root / "manifests"
    shutil.copytree(SYNTHETIC_MANIFESTS, repo)
    for path, (old, new) in (edits or {}).items():
        text = (repo / path).read_text()
        assert old in text, f"{old!r} is not in {path}"
        (repo / path).write_text(text.replace(old, new))
    _git("init", "--quiet", "-b", "master", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "--quiet", "-m", "synthetic manifests", cwd=repo)
    _git("tag", "v0.1.0", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)
    url = f"file://{repo}"
    pins = write_pins(SYNTHETIC_PINS, root / "pins.yaml", url, {"v0.1.0": commit})
    return LocalRelease("v0.1.0", pins, url, commit)


@pytest.fixture(scope="session")
def bundle_releases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LocalRelease]]:
    """The real Kubeflow manifests of ../shared/kubeflow-manifests.bundle, by tag, with the shipped pins."""
    if not MANIFESTS_BUNDLE.is_file():
        pytest.skip(f"real Kubeflow manifests bundle not found at {MANIFESTS_BUNDLE} (shared test data is absent)")
    root = tmp_path_factory.mktemp("bundle")
    bare = root / "kubeflow-manifests.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(MANIFESTS_BUNDLE), str(bare)], check=True)
    url = f"file://{bare}"
    pins = write_pins(SHIPPED_PINS, root / "pins.yaml", url, BUNDLE_COMMITS)
    yield {tag: LocalRelease(tag, pins, url, commit) for tag, commit in BUNDLE_COMMITS.items()}


def release_tools(tag: str) -> dict[str, str]:
    """The `fake_tools` knobs of the kustomize a user of each real release has: kubectl's engine, except that v1.4.0
    insists on the 3.2.0 its README names (the fake `kustomize` answers 3.2.0 and builds with kubectl's engine).

    Tests building the same release with the same tools share their builds through `shared_builds`."""
    if tag == "v1.4.0":
        return {"kustomize_version": "3.2.0"}
    return {"kustomize": "absent"}


@pytest.fixture(scope="session")
def shared_builds(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A build cache for the whole session (`isolated_env(..., builds=shared_builds)`): the real releases' builds
    take seconds each, and several tests install the same release with the same kustomize.

    Under xdist (`make test`) it is one directory for all workers (beside their own temporary directories), so a
    release one worker built is a cache hit on the other. That is safe because kfinstall keys a build by commit,
    path and builder identity (src/kfinstall/manifests/build.py `_cache_file`: the same key is the same YAML) and
    stores it atomically, with a checksum (`_store`: a staging file renamed into place), so a concurrent writer or
    reader never sees half a build."""
    root = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # each worker's basetemp is popen-gwN under the run's own
        root = root.parent
    builds = root / "shared-builds"
    builds.mkdir(mode=0o700, exist_ok=True)
    builds.chmod(0o700)
    return builds


def checkout_with_broken_katib(release: LocalRelease, tmp_path: Path) -> Path:
    """A local clone of `release` (for --manifests-dir) whose katib build fails: it names a file that is missing."""
    checkout = tmp_path / "manifests"
    subprocess.run(["git", "clone", "--quiet", release.repo_url, str(checkout)], check=True)
    (checkout / "apps/katib/base/kustomization.yaml").write_text("resources:\n- missing.yaml\n")
    return checkout


def unready_workloads(workloads: list[dict]) -> list[str]:
    """`KIND/NAMESPACE/NAME` of each Deployment, StatefulSet or DaemonSet whose status is short of its spec."""
    out = []
    for w in workloads:
        status, spec = w.get("status") or {}, w.get("spec") or {}
        if w["kind"] == "DaemonSet":
            ready = status.get("numberReady", 0) >= status.get("desiredNumberScheduled", 1)
        else:
            ready = status.get("readyReplicas", 0) >= spec.get("replicas", 1)
        if not ready:
            out.append(f"{w['kind']}/{w['metadata']['namespace']}/{w['metadata']['name']}")
    return out
