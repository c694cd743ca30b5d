"""Images survive the cluster: `down` keeps the release's images on the host, the next `up` loads them into the new
node before the kubelet pulls, so the second cluster downloads nothing from the registries for them.

The proof is the double's own pull log (`GET /_double/images`: `pulls`, each a registry download by the kubelet or
an external `docker pull`); a `minikube image load` puts an image on the node without a pull.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall, logged_commands
from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT
from tests.releases import LocalRelease, synthetic_variant

#: Every synthetic image takes a little while to pull, so the double's pull model (and its log) is on.
PULLS = (
    "--set crd_establish_delay=0.05 --set ready_delay=0.05"
    " --set 'image_pull_delays={\"docker.io/kfsynthetic/*\": 0.05}'"
)


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=PULLS, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def up(env: dict[str, str], release: LocalRelease) -> subprocess.CompletedProcess[str]:
    result = kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", "minimal",
                       env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def down(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = kfinstall("down", "--yes", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result


def node(fake_tools: FakeTools) -> dict:
    """The double's image store of profile kubeflow (`python -m tests.double images`)."""
    command = [sys.executable, "-m", "tests.double", "images", "--state-dir", str(fake_tools.double_dir("kubeflow"))]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def release_images(env: dict[str, str], release: LocalRelease) -> list[str]:
    listed = kfinstall("images", "list", "--pins", str(release.pins), "-k", release.tag, "--profile", "minimal",
                       "--json", env=env)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)["images"]


def registry_pulls(fake_tools: FakeTools, images: list[str]) -> list[str]:
    return sorted(pull["image"] for pull in node(fake_tools)["pulls"] if pull["image"] in images)


def cached_files(env: dict[str, str]) -> list[Path]:
    return sorted((Path(env["KFINSTALL_CACHE_DIR"]) / "images").glob("*.tar"))


def entry_of(env: dict[str, str], image: str) -> Path:
    """The cache file of `image` (its name starts with the reference, `/` and `:` made `_`)."""
    readable = image.replace("/", "_").replace(":", "_")
    (path,) = [path for path in cached_files(env) if path.name.startswith(readable + "-")]
    return path


def test_a_cluster_made_again_after_down_pulls_none_of_the_release_images(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    wanted = release_images(env, synthetic_release)
    up(env, synthetic_release)
    assert registry_pulls(fake_tools, wanted) == sorted(wanted)  # the first cluster downloaded every one

    gone = down(env)

    assert f"kept {len(wanted)} images for the next `kfinstall up`" in gone.stderr
    assert len(cached_files(env)) == len(wanted)
    again = up(env, synthetic_release)
    assert f"loaded {len(wanted)} images from the cache" in again.stderr
    assert registry_pulls(fake_tools, wanted) == []  # neither the kubelet nor anyone else downloaded one
    assert set(wanted) <= set(node(fake_tools)["present"])
    loads = [call for call in fake_tools.calls("minikube") if call[2:4] == ["image", "load"]]
    assert len(loads) == len(wanted)


#: Kubeflow pins some images by digest (v1.10.2's knative-serving: gcr.io/knative-releases/...@sha256:...).
DEX_BY_DIGEST = "docker.io/kfsynthetic/dex@sha256:" + "d" * 64


def test_down_names_the_images_pinned_by_digest_it_cannot_keep_and_the_next_cluster_pulls_only_those(
    fake_tools: FakeTools, env: dict[str, str], tmp_path: Path
) -> None:
    release = synthetic_variant(
        tmp_path / "release", {"common/dex/base/dex.yaml": ("docker.io/kfsynthetic/dex:v2.24.0", DEX_BY_DIGEST)}
    )
    wanted = release_images(env, release)
    assert DEX_BY_DIGEST in wanted
    up(env, release)

    gone = down(env)

    assert (
        f"not kept: 1 image pinned by digest ({DEX_BY_DIGEST}): an image archive restores tags, not digests, so "
        "the next `kfinstall up` downloads it"
    ) in " ".join(gone.stderr.split())
    assert len(cached_files(env)) == len(wanted) - 1
    up(env, release)
    assert registry_pulls(fake_tools, wanted) == [DEX_BY_DIGEST]


def test_down_json_lists_the_images_pinned_by_digest_it_did_not_keep(env: dict[str, str], tmp_path: Path) -> None:
    release = synthetic_variant(
        tmp_path / "release", {"common/dex/base/dex.yaml": ("docker.io/kfsynthetic/dex:v2.24.0", DEX_BY_DIGEST)}
    )
    up(env, release)

    gone = down(env, "--json")

    assert json.loads(gone.stdout)["images"]["digest_pinned"] == [DEX_BY_DIGEST]


def test_a_second_down_saves_only_what_the_cache_lacks(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    wanted = release_images(env, synthetic_release)
    up(env, synthetic_release)
    down(env)
    up(env, synthetic_release)
    saves_before = sum(1 for call in fake_tools.calls("minikube") if call[2:4] == ["image", "save"])

    again = down(env)

    assert sum(1 for call in fake_tools.calls("minikube") if call[2:4] == ["image", "save"]) == saves_before
    assert f"kept {len(wanted)} images for the next `kfinstall up`" in again.stderr


def test_a_broken_or_missing_cache_entry_is_pulled_as_without_a_cache(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    wanted = release_images(env, synthetic_release)
    up(env, synthetic_release)
    down(env)
    garbage, unloadable, missing = wanted[:3]
    entry_of(env, garbage).write_bytes(b"not a tar at all")
    # a valid archive naming no image: `minikube image load` loads nothing, yet exits 0 (DoLoadImages)
    with tarfile.open(entry_of(env, unloadable), "w") as archive:
        data = json.dumps([{"Config": "config.json", "RepoTags": [], "Layers": []}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    entry_of(env, missing).unlink()

    again = up(env, synthetic_release)

    assert registry_pulls(fake_tools, wanted) == sorted([garbage, unloadable, missing])
    assert f"cached image {garbage} not loaded (the cached file is not an image archive)" in again.stderr
    assert f"cached image {unloadable} not loaded (minikube did not load it)" in again.stderr
    assert f"loaded {len(wanted) - 3} images from the cache" in again.stderr
    assert len(cached_files(env)) == len(wanted) - 3  # the bad entries are gone; the next down saves them again


def test_down_purge_images_drops_them_and_the_next_cluster_pulls_again(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    wanted = release_images(env, synthetic_release)
    up(env, synthetic_release)

    gone = down(env, "--purge-images", "--json")

    assert json.loads(gone.stdout)["images"]["kept"] == []
    assert not any(call[2:4] == ["image", "save"] for call in fake_tools.calls("minikube"))
    assert cached_files(env) == []
    up(env, synthetic_release)
    assert registry_pulls(fake_tools, wanted) == sorted(wanted)


def test_purge_images_with_keep_cluster_is_bad_input(env: dict[str, str]) -> None:
    result = kfinstall("down", "--yes", "--keep-cluster", "--purge-images", env=env)
    assert result.returncode == 2
    assert "--purge-images goes with deleting the cluster" in result.stderr


def test_down_of_a_stopped_profile_says_its_images_cannot_be_kept_and_deletes_it(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    up(env, synthetic_release)
    assert fake_tools.run("minikube", "stop", "-p", "kubeflow").returncode == 0

    gone = down(env)

    assert "minikube profile 'kubeflow' is stopped: its images cannot be kept for the next `up`" in gone.stderr
    assert "deleted minikube profile 'kubeflow'" in gone.stderr
    assert cached_files(env) == []


#: A link on which every synthetic image takes 0.3 s to extract, pulled or loaded (3 MB at 10 MB/s).
SLOW_LOADS = (
    "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set image_link_bandwidth=1e9"
    " --set image_extract_rate=1e7 --set 'image_sizes={\"docker.io/kfsynthetic/*\": 3e6}'"
)


def test_a_new_cluster_applies_components_while_the_cached_images_still_load_and_pulls_none_of_them(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release: LocalRelease
) -> None:
    fake_tools.set(double_args=SLOW_LOADS, minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)
    wanted = release_images(env, synthetic_release)
    up(env, synthetic_release)
    down(env)
    again_env = {**env, "KFINSTALL_LOG_DIR": str(tmp_path / "logs-again")}

    again = up(again_env, synthetic_release)

    assert registry_pulls(fake_tools, wanted) == []  # each component waited for its own images
    assert f"loaded {len(wanted)} images from the cache" in again.stderr
    lines = logged_commands(again_env)
    applies = [n for n, line in enumerate(lines) if "/kubectl " in line and " apply " in line]
    loads = [n for n, line in enumerate(lines) if "/minikube " in line and " image load " in line]
    assert applies and len(loads) == len(wanted)
    # the first component was applied before the last image began to load: no longer all loads, then all applies
    assert min(applies) < max(loads)
