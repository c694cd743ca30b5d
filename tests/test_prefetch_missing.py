"""`up --prefetch-images` pulls only the images the node lacks (one `minikube image ls`), the longest chain's first
(istio's pods are the first the install waits on), a bounded number at a time."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
ON_NODE = ("docker.io/kfsynthetic/katib-ui:v0.12.0", "docker.io/kfsynthetic/centraldashboard:v1.4")


def test_prefetch_pulls_only_what_the_node_lacks_longest_chain_first(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    env = isolated_env(fake_tools.set(double_args=FAST, minikube_version="v1.37.0").env, tmp_path)
    started = fake_tools.run("minikube", "start", "-p", "kubeflow", "--cpus=4", "--memory=8192mb")
    assert started.returncode == 0, started.stderr
    for image in ON_NODE:
        assert fake_tools.run("minikube", "-p", "kubeflow", "image", "pull", image).returncode == 0
    env = isolated_env(fake_tools.set(image_pull_seconds="0.3").env, tmp_path)
    listed = kfinstall("images", "list", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag,
                       "--profile", "minimal", env=env).stdout.split()  # fmt: skip

    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "minimal", "--prefetch-images", env=env)  # fmt: skip

    assert result.returncode == 0, result.stderr
    pulls = [json.loads(line) for line in (fake_tools.state / "image-pulls.jsonl").read_text().splitlines()]
    prefetched = sorted(pulls[len(ON_NODE) :], key=lambda pull: pull["start"])
    assert sorted(p["image"] for p in prefetched) == sorted(set(listed) - set(ON_NODE))  # nothing pulled twice
    assert f"{len(ON_NODE)} of the {len(listed)} images are on the node already" in result.stderr
    # istio's pods are the longest chain's: its images are in the first batch (4 pulls start at once, so which of
    # them the fake records first is the threads' race: on a loaded machine it was cert-manager's)
    first_batch = {pull["image"].split("/")[-1].split(":")[0] for pull in prefetched[:4]}
    assert first_batch & {"pilot", "proxyv2"}, first_batch
    in_flight = max(sum(1 for o in prefetched if o["start"] <= p["start"] < o["end"]) for p in prefetched)
    assert in_flight <= 4  # install/images.py DEFAULT_CONCURRENCY
    ls = [call for call in fake_tools.calls("minikube") if call[2:4] == ["image", "ls"]]
    assert len(ls) == 1  # the node asked once
