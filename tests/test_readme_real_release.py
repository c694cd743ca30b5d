"""README.md's examples of `status`, `images list` and `down --keep-cluster` are what those commands print for
the release the README shows (v1.11.0, profile minimal: real manifests from the bundle, on the double).

The README's `status` is the one after an `up` that stopped on an image Docker Hub would not serve: the double's
kubelet refuses `mysql:8.0` (the `image_pull_backoff` knob, tests/double), so katib stays short of its workloads.
Only what must vary is normalised: the install's start time, the pod's generated name and the commit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import needs_bundle
from tests.releases import release_tools
from tests.test_readme import README, assert_shown_in_order, example

TAG = "v1.11.0"
DOUBLE = (
    "--set crd_establish_delay=0.2 --set ready_delay=[0.1,0.3] --set seed=7 --set 'image_pull_backoff=[\"mysql:8.0\"]'"
)


@pytest.fixture(scope="module")
def printed(module_fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path_factory) -> dict[str, str]:
    """What that stopped `up` printed, and what `status`, `images list` and then `down --keep-cluster` print after
    it (one install for the four, the destructive one last, each test judging one of them)."""
    module_fake_tools.set(double_args=DOUBLE, minikube_version="v1.37.0", **release_tools(TAG))
    env = {**isolated_env(module_fake_tools.env, tmp_path_factory.mktemp("readme-real"), builds=shared_builds),
           "COLUMNS": "200"}  # fmt: skip
    pins = ("--pins", str(bundle_releases[TAG].pins))
    up = kfinstall("up", *pins, "-k", TAG, "--yes", "--profile", "minimal", "--timeout", "60", env=env)
    assert up.returncode == 1 and "katib" in up.stderr, up.stderr[-3000:]
    status = kfinstall("status", env=env)
    images = kfinstall("images", "list", *pins, "-k", "1.11.0", "--profile", "minimal", env=env)
    down = kfinstall("down", "--keep-cluster", "--yes", env=env)
    for name, result in {"images": images, "down": down}.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    return {
        "up": up.stderr,
        "status": status.stdout + status.stderr,
        "images": images.stdout,
        "down": down.stdout + down.stderr,
    }


def normalised_status(text: str) -> str:
    """The start time, the pod's generated name and the commit (the bundle's v1.11.0, the README the pins' one)."""
    text = re.sub(r"\(commit [0-9a-f]{12}\)", "(commit 854bd3a21044)", text)
    text = re.sub(r"started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "started 2026-11-29T03:12:46Z", text)
    return re.sub(r"kubeflow/katib-mysql-[a-z0-9]+-[a-z0-9]+:", "kubeflow/katib-mysql-858p57t7gq-tg784:", text)


@needs_bundle
@pytest.mark.timeout(900)
def test_the_status_example_is_what_status_prints_after_an_up_stopped_on_an_image(printed) -> None:
    section = README.split("### `kfinstall status`", 1)[1]  # its block, not the quick start's
    lines = section.split("\n    $ kfinstall status", 1)[1].splitlines()[1:]
    block = lines[: next(i for i, line in enumerate(lines) if line and not line.startswith("    "))]
    shown = [line[4:].rstrip() for line in block if line]
    assert len(shown) > 10, block
    assert_shown_in_order(shown, normalised_status(printed["status"]))


@needs_bundle
@pytest.mark.timeout(900)
def test_the_images_list_example_is_what_images_list_prints(printed) -> None:
    assert_shown_in_order(example("kfinstall images list -k 1.11.0 --profile minimal"), printed["images"])


@needs_bundle
@pytest.mark.timeout(900)
def test_the_down_keep_cluster_example_is_what_down_prints(printed) -> None:
    """The components' lines in any order: the reverse of the order `up` applied them in, which its parallel
    waits decide; webhook configurations first, namespaces and CRDs last, and the totals are fixed."""
    shown = example("kfinstall down --keep-cluster --yes")
    lines = [line.rstrip() for line in printed["down"].splitlines()]
    assert lines[0] == shown[0] and lines[-3:] == shown[-3:], printed["down"]
    assert sorted(lines[1:-3]) == sorted(shown[1:-3]), printed["down"]


def normalised_up(text: str) -> list[str]:
    """`up`'s lines as the README shows them: the clone's URL (the bundle's local copy here, GitHub in the pins),
    the cache's place (the test's own directory, `~/.cache/kfinstall` for a user) and the commit of the checkout."""
    text = re.sub(r"cloning file://\S+ at", "cloning https://github.com/kubeflow/manifests.git at", text)
    text = re.sub(
        r"at \S+/cache/manifests/v1\.11\.0-[0-9a-f]{12}", "at ~/.cache/kfinstall/manifests/v1.11.0-854bd3a21044", text
    )
    return [line.rstrip() for line in text.splitlines()]


#: Lines of the README's `up` that depend on what this test cannot be: this kernel's inotify limits (the count of
#: warnings with them), whether cert-manager's webhook was slower than its first apply (a `retrying` line).
_UP_VARIES = re.compile(r"^ *(! inotify limits|✓ prerequisites:|… cert-manager +retrying)")


def component_line(line: str) -> bool:
    """A component's row (`… istio   applying  46 objects`, `✓ istio   ready 3/3 workloads`)."""
    return re.match(r"[…✓] \S+ {2,}", line) is not None


@needs_bundle
@pytest.mark.timeout(900)
def test_the_up_example_is_what_up_prints_before_its_last_screen(printed) -> None:
    """The checks, the release, the clone, the builds and minikube's start with the switches of minikube's profile
    and kubectl's context, in order; the builds end while minikube starts (they overlap), before any component is
    applied; every component row the README shows, before and after its `…`, is one this `up` printed (in any
    order: their waits run side by side)."""
    block = [line.strip() for line in example("kfinstall up -k 1.11.0 --profile minimal --yes")]
    shown = [line for line in block[: block.index("")] if line and not _UP_VARIES.match(line)]
    lines = [line.strip() for line in normalised_up(printed["up"]) if not _UP_VARIES.match(line)]
    built = "✓ built 13 components (231 objects)"
    in_order = [line for line in shown if not component_line(line) and line not in ("…", built)]
    assert_shown_in_order(in_order, "\n".join(lines))
    first_component = next(i for i, line in enumerate(lines) if component_line(line))
    assert lines.index("… building 13 components") < lines.index(built) < first_component, printed["up"]
    assert {line for line in shown if component_line(line)} <= set(lines), printed["up"]
