"""Images the registries deleted: per-release substitutions in the pins, applied to what is built, shown by `plan`,
used by `images`, and what an install does with and without them against a double that refuses the deleted images."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfinstall.errors import UsageError
from kfinstall.manifests.objects import images, substitute_images
from kfinstall.release.pins import ImageSubstitution, load_pins
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import needs_bundle
from tests.releases import DELETED_IMAGES, LocalRelease, release_tools

DELETED = "gcr.io/arrikto/kubeflow/oidc-authservice:28c59ef"
MIRROR = "docker.io/kubeflowmanifestswg/oidc-authservice:e236439"
RBAC_PROXY = "gcr.io/kubebuilder/kube-rbac-proxy:*"
BILLING = "denied: This API method requires billing to be enabled"
RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"


def substitution(**fields: Any) -> dict[str, Any]:
    return {"image": DELETED, "replacement": MIRROR, "components": ["oidc-authservice"], "source": "x#1",
            "reason": "deleted", **fields}  # fmt: skip


def pins_with(release: LocalRelease, tmp_path: Path, substitutions: list[dict[str, Any]] | None) -> Path:
    """A copy of the release's pins whose `image_substitutions` are these (None: the key removed)."""
    data = yaml.safe_load(release.pins.read_text())
    for entry in data["releases"]:
        if entry["tag"] == release.tag:
            entry.pop("image_substitutions", None)
            if substitutions is not None:
                entry["image_substitutions"] = substitutions
    target = tmp_path / "pins-copy.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


# The pins schema --------------------------------------------------------------------------------------------


def test_the_schema_accepts_an_exact_image_and_a_repository_pattern(synthetic_release, tmp_path) -> None:
    rbac = substitution(image=RBAC_PROXY, replacement="quay.io/brancz/kube-rbac-proxy:*")
    release = load_pins(pins_with(synthetic_release, tmp_path, [substitution(), rbac])).get("v0.1.0")
    assert release.substitute_image(DELETED) == MIRROR
    assert (
        release.substitute_image("gcr.io/kubebuilder/kube-rbac-proxy:v0.8.0") == "quay.io/brancz/kube-rbac-proxy:v0.8.0"
    )
    assert release.substitute_image("docker.io/kfsynthetic/dex:v2.24.0") == "docker.io/kfsynthetic/dex:v2.24.0"


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"replacement": "quay.io/brancz/kube-rbac-proxy:*"}, "keeps the tag"),
        ({"image": "gcr.io/*/kube-rbac-proxy:v1"}, "is not an image reference"),
        ({"replacement": DELETED}, "replaced by itself"),
        ({"components": ["no-such-component"]}, "unknown component no-such-component"),
        ({"source": ""}, "source"),
    ],
)
def test_the_schema_refuses_a_malformed_substitution(synthetic_release, tmp_path, fields, says) -> None:
    with pytest.raises(UsageError) as refused:
        load_pins(pins_with(synthetic_release, tmp_path, [substitution(**fields)]))
    assert "image_substitutions" in refused.value.message and says in refused.value.message


def test_the_schema_refuses_the_same_image_twice(synthetic_release, tmp_path) -> None:
    with pytest.raises(UsageError, match="listed twice"):
        load_pins(pins_with(synthetic_release, tmp_path, [substitution(), substitution(replacement="a.io/b:c")]))


def test_a_repository_pattern_matches_only_that_repository_and_keeps_the_tag() -> None:
    rule = ImageSubstitution.model_validate(
        substitution(image=RBAC_PROXY, replacement="quay.io/brancz/kube-rbac-proxy:*")
    )
    assert rule.apply("gcr.io/kubebuilder/kube-rbac-proxy:v0.4.0") == "quay.io/brancz/kube-rbac-proxy:v0.4.0"
    assert rule.apply("gcr.io/kubebuilder/kube-rbac-proxy-extra:v0.4.0") is None
    assert rule.apply("gcr.io/kubebuilder/kube-rbac-proxy@sha256:abc") is None
    pinned = ImageSubstitution.model_validate(substitution(image=RBAC_PROXY, replacement="quay.io/b/p:v1"))
    assert pinned.apply("gcr.io/kubebuilder/kube-rbac-proxy:v0.4.0") == "quay.io/b/p:v1"


def test_the_shipped_pins_replace_the_images_the_registries_deleted() -> None:
    pins = load_pins()
    v140, v191 = pins.get("v1.4.0"), pins.get("v1.9.1")
    assert v140.substitute_image(DELETED) == MIRROR
    assert v140.substitute_image("gcr.io/kubebuilder/kube-rbac-proxy:v0.4.0") == "quay.io/brancz/kube-rbac-proxy:v0.4.0"
    assert v191.substitute_image("gcr.io/kubebuilder/kube-rbac-proxy:v0.8.0") == "quay.io/brancz/kube-rbac-proxy:v0.8.0"
    assert all(r.image_substitutions == [] for r in (pins.get("v1.10.2"), pins.get("v1.11.0")))
    assert all("not established offline" in a.note for r in pins.releases for a in r.images_at_risk)


# The pure function ------------------------------------------------------------------------------------------

CRONJOB = {
    "kind": "CronJob",
    "metadata": {"name": "c"},
    "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": DELETED}]}}}}},
}
DEPLOYMENT = {
    "kind": "Deployment",
    "metadata": {"name": "d"},
    "spec": {"template": {"spec": {
        "initContainers": [{"name": "init", "image": DELETED}],
        "containers": [{"name": "main", "image": "docker.io/keep:1"}, {"name": "proxy", "image": DELETED}],
    }}},
}  # fmt: skip
POD = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"ephemeralContainers": [{"name": "e", "image": DELETED}]}}
CONFIG = {"kind": "ConfigMap", "metadata": {"name": "spawner"}, "data": {"image": DELETED}}


def swap(image: str) -> str:
    return MIRROR if image == DELETED else image


def test_every_container_of_every_pod_spec_gets_the_replacement() -> None:
    replaced = substitute_images([DEPLOYMENT, CRONJOB, POD], swap)
    assert images(replaced) == [MIRROR, "docker.io/keep:1"]
    assert replaced[2]["spec"]["ephemeralContainers"][0]["image"] == MIRROR


def test_image_strings_outside_pod_specs_stay_as_built() -> None:
    (config,) = substitute_images([CONFIG], swap)
    assert config["data"]["image"] == DELETED


def test_the_input_is_not_modified_and_unchanged_objects_are_returned_as_they_are() -> None:
    keep = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}}
    replaced = substitute_images([DEPLOYMENT, keep], swap)
    assert DEPLOYMENT["spec"]["template"]["spec"]["initContainers"][0]["image"] == DELETED
    assert replaced[1] is keep


@needs_bundle
def test_the_bundle_builds_of_v1_4_0_and_v1_9_1_run_the_deleted_images_the_pins_replace(
    bundle_releases, shared_builds: Path, fake_tools: FakeTools, tmp_path: Path
) -> None:
    dirs = isolated_env({}, tmp_path, builds=shared_builds)  # the installs of these releases reuse these builds
    listed: dict[str, list[str]] = {}
    for tag in ("v1.4.0", "v1.9.1"):
        env = {**fake_tools.set(**release_tools(tag)).env, **dirs}  # the kustomize a user of the release has
        release = bundle_releases[tag]
        args = ("images", "list", "--pins", str(release.pins), "-k", tag, "--profile", "standard", "--json")
        result = kfinstall(*args, env=env)
        assert result.returncode == 0, result.stderr
        listed[tag] = json.loads(result.stdout)["images"]
    assert {MIRROR, "quay.io/brancz/kube-rbac-proxy:v0.4.0"} <= set(listed["v1.4.0"])
    assert "quay.io/brancz/kube-rbac-proxy:v0.8.0" in listed["v1.9.1"]
    assert not [
        i for images_ in listed.values() for i in images_ if i.startswith(("gcr.io/kubebuilder", "gcr.io/arrikto"))
    ]


# Through the CLI --------------------------------------------------------------------------------------------


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=f"{RACY} --scenario {DELETED_IMAGES}", minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def test_plan_shows_the_substitutions_of_the_selected_components(env, synthetic_release) -> None:
    result = kfinstall("plan", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--profile", "minimal", env=env)
    assert result.returncode == 0, result.stderr
    assert f"{DELETED} → {MIRROR}" in result.stdout
    assert "kubeflow/manifests#2480" in result.stdout
    assert "image at risk" not in result.stdout  # pipelines is not in the minimal profile


def test_plan_of_v1_4_0_standard_shows_both_deleted_images_and_the_pipelines_at_risk(env) -> None:
    result = kfinstall("plan", "-k", "1.4.0", "--profile", "standard", env={**env, "COLUMNS": "300"})
    assert result.returncode == 0, result.stderr
    assert f"{DELETED} → {MIRROR}  oidc-authservice" in result.stdout
    assert "gcr.io/kubebuilder/kube-rbac-proxy:* → quay.io/brancz/kube-rbac-proxy:*  tensorboard\n" in result.stdout
    assert "image at risk: gcr.io/ml-pipeline/* (pipelines)" in result.stdout


def test_plan_json_lists_substitutions_and_images_at_risk(env, synthetic_release) -> None:
    args = ("plan", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--profile", "standard", "--json")
    result = kfinstall(*args, env=env)
    assert result.returncode == 0, result.stderr
    planned = json.loads(result.stdout)
    (sub,) = planned["image_substitutions"]
    assert sub["image"] == DELETED and sub["replacement"] == MIRROR and sub["components"] == ["oidc-authservice"]
    assert [a["image"] for a in planned["images_at_risk"]] == ["docker.io/kfsynthetic/workflow-controller:*"]


def test_plan_without_the_component_shows_no_substitution(env, synthetic_release) -> None:
    args = ("plan", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--profile", "minimal", "--json")
    result = kfinstall(*args, "--without", "oidc-authservice", env=env)
    if result.returncode == 0:
        assert json.loads(result.stdout)["image_substitutions"] == []
    else:  # another component needs it: the plan refuses, which is fine too
        assert "oidc-authservice" in result.stderr


def test_images_list_names_the_replacement_not_the_deleted_image(env, synthetic_release) -> None:
    args = ("images", "list", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--profile", "minimal")
    result = kfinstall(*args, env=env)
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split()
    assert MIRROR in listed and DELETED not in listed


def up(env: dict[str, str], pins: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return kfinstall("up", "--pins", str(pins), "-k", "v0.1.0", "--yes", "--profile", "minimal", *args, env=env)


def test_an_install_reaches_ready_because_the_deleted_image_is_replaced(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    result = up({**env, "COLUMNS": "300"}, synthetic_release.pins)  # the note on one line
    assert result.returncode == 0, result.stderr
    assert f"image {DELETED} → {MIRROR}: the registry no longer serves it" in result.stderr
    pods = fake_tools.run("kubectl", "--context", "kubeflow", "get", "pods", "-n", "istio-system", "-o", "json")
    authservice = [p for p in json.loads(pods.stdout)["items"] if p["metadata"]["name"].startswith("authservice")]
    assert [c["image"] for p in authservice for c in p["spec"]["containers"]] == [MIRROR]


def test_without_the_substitution_the_install_fails_with_the_registrys_words(env, synthetic_release, tmp_path) -> None:
    result = up(env, pins_with(synthetic_release, tmp_path, None), "--timeout", "12")
    assert result.returncode == 1
    assert "oidc-authservice: not ready after 12s" in result.stderr
    assert "ImagePullBackOff" in result.stderr or "ErrImagePull" in result.stderr
    assert DELETED in result.stderr and BILLING in result.stderr
    assert "image_substitutions" in result.stderr
    assert "check the network" not in result.stderr


def test_a_changed_substitution_re_applies_the_component(env, synthetic_release, tmp_path) -> None:
    assert up(env, synthetic_release.pins).returncode == 0
    other = substitution(replacement="docker.io/kubeflowmanifestswg/oidc-authservice:e236439-rebuilt")
    again = up(env, pins_with(synthetic_release, tmp_path, [other]))
    assert again.returncode == 0, again.stderr
    assert "(1 installed, 12 unchanged" in again.stderr


# Why a pull failed, as `up` tells it -------------------------------------------------------------

HEAD_URL = "https://gcr.io/v2/arrikto/kubeflow/oidc-authservice/manifests/28c59ef"
WORDS = f'Error response from daemon: Head "{HEAD_URL}": {BILLING}.'


def stuck(message: str) -> dict[str, Any]:
    waiting = {"reason": "ImagePullBackOff", "message": message}
    return {"metadata": {"namespace": "istio-system", "name": "authservice-0"},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "a", "image": DELETED, "ready": False,
                                                                  "state": {"waiting": waiting}}]}}  # fmt: skip


def test_the_back_off_message_of_1_32_gives_the_registrys_words_and_the_substitution_hint() -> None:
    from kfinstall.kube.readiness import pod_problem

    message = f'Back-off pulling image "{DELETED}": ErrImagePull: rpc error: code = Unknown desc = {WORDS}'
    problem = pod_problem(stuck(message))
    assert problem is not None and problem.message == f"image {DELETED}: {WORDS}"
    assert "image_substitutions" in problem.hint and "network" not in problem.hint


def test_before_1_32_the_words_come_from_the_kubelets_failed_event() -> None:
    from kfinstall.kube.readiness import pod_problem

    event = {"involvedObject": {"name": "authservice-0"}, "reason": "Failed",
             "message": f'Failed to pull image "{DELETED}": rpc error: code = Unknown desc = {WORDS}'}  # fmt: skip
    problem = pod_problem(stuck(f'Back-off pulling image "{DELETED}"'), [event])
    assert problem is not None and BILLING in problem.message


def test_a_network_failure_keeps_the_network_hint() -> None:
    from kfinstall.kube.readiness import pod_problem

    offline = f'Back-off pulling image "{DELETED}": ErrImagePull: dial tcp: lookup gcr.io: no such host'
    problem = pod_problem(stuck(offline))
    assert problem is not None and "check the network" in problem.hint


def test_status_before_1_32_names_the_registrys_words_from_the_kubelets_event(
    fake_tools: FakeTools, env, synthetic_release
) -> None:
    assert up(env, synthetic_release.pins, "--k8s-version", "v1.31.0").returncode == 0
    # the mirror goes too: on 1.31 the back-off message has no words, only the kubelet's Failed event has them
    gone = json.dumps({"docker.io/kubeflowmanifestswg/*": "manifest for {ref} not found: manifest unknown: gone"})
    state_dir = str(fake_tools.double_dir("kubeflow"))
    subprocess.run([sys.executable, "-m", "tests.double", "knobs", "--state-dir", state_dir, f"deleted_images={gone}"],
                   check=True, capture_output=True)  # fmt: skip
    restart = fake_tools.run("kubectl", "--context", "kubeflow", "rollout", "restart", "statefulset/authservice",
                             "-n", "istio-system")  # fmt: skip
    assert restart.returncode == 0, restart.stderr

    def shown() -> str:
        return kfinstall("status", env={**env, "COLUMNS": "300"}).stdout

    deadline = time.monotonic() + 60
    while "ImagePullBackOff" not in (text := shown()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f"ImagePullBackOff: image {MIRROR}: Error response from daemon: manifest for {MIRROR} not found" in text
    assert "the registry no longer serves this image" in text
