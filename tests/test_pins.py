"""The pins file: the shipped releases say what the upstream READMEs say, and a malformed file is refused clearly."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfinstall.errors import UsageError
from kfinstall.pins import PROFILES, Pins, load_pins, shipped_pins_path
from kfinstall.render import readme_table
from tests.paths import MANIFESTS_BUNDLE, REPO_ROOT, needs_bundle

TUTORIAL_SET_V1_4_0 = [
    "cert-manager", "istio", "dex", "oidc-authservice", "kubeflow-namespace", "kubeflow-roles",
    "kubeflow-istio-resources", "katib", "central-dashboard", "admission-webhook", "notebooks",
]  # fmt: skip


@pytest.fixture(scope="module")
def pins() -> Pins:
    return load_pins()


def shipped_data() -> dict[str, Any]:
    return yaml.safe_load(shipped_pins_path().read_text())


def write_pins(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "pins.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def release_data(data: dict[str, Any], tag: str) -> dict[str, Any]:
    return next(r for r in data["releases"] if r["tag"] == tag)


def component_data(data: dict[str, Any], tag: str, component_id: str) -> dict[str, Any]:
    return next(c for c in release_data(data, tag)["components"] if c["id"] == component_id)


# ---- the shipped releases ---------------------------------------------------------------------------------------


def test_shipped_pins_hold_the_four_supported_releases_oldest_first(pins: Pins) -> None:
    assert pins.tags == ["v1.4.0", "v1.9.1", "v1.10.2", "v1.11.0"]
    assert pins.newest.tag == "v1.11.0"


def test_editable_install_reads_the_repository_root_file() -> None:
    assert shipped_pins_path() == REPO_ROOT / "manifests_pins.yaml"


def test_release_is_found_with_or_without_the_v(pins: Pins) -> None:
    assert pins.get("1.4.0") is pins.get("v1.4.0")


def test_unknown_release_is_a_usage_error_listing_the_valid_ones(pins: Pins) -> None:
    with pytest.raises(UsageError) as caught:
        pins.get("1.5.0")
    assert caught.value.exit_code == 2
    assert caught.value.hint is not None and "v1.4.0, v1.9.1, v1.10.2, v1.11.0" in caught.value.hint


def test_v1_4_0_pins_what_the_tutorial_used(pins: Pins) -> None:
    release = pins.get("v1.4.0")
    assert release.commit == "39c01994e3b42ef9d57bd35826840124208b7315"
    assert release.kustomize.exact == "3.2.0"
    assert (release.kubernetes.default, release.kubernetes.max) == ("v1.19.3", "v1.21")
    assert release.apiserver_flags == [
        "apiserver.service-account-signing-key-file=/var/lib/minikube/certs/sa.key",
        "apiserver.service-account-issuer=kubernetes.default.svc",
    ]
    assert release.minikube.contains("v1.32.0") and not release.minikube.contains("v1.33.0")


def test_later_releases_want_a_minimum_kustomize(pins: Pins) -> None:
    assert [(r.tag, r.kustomize.min) for r in pins.releases[1:]] == [
        ("v1.9.1", "5.2.1"),
        ("v1.10.2", "5.4.3"),
        ("v1.11.0", "5.7.1"),
    ]


def test_minimal_profile_is_the_tutorial_set_plus_profiles_and_the_user_namespace(pins: Pins) -> None:
    minimal = [c.id for c in pins.get("v1.4.0").profile_components("minimal")]
    assert sorted(minimal) == sorted([*TUTORIAL_SET_V1_4_0, "profiles-kfam", "user-namespace"])


@pytest.mark.parametrize(
    ("tag", "auth_proxy", "training"),
    [
        ("v1.4.0", "oidc-authservice", "training-operator"),
        ("v1.9.1", "oauth2-proxy", "training-operator"),
        ("v1.10.2", "oauth2-proxy", "training-operator"),
        ("v1.11.0", "oauth2-proxy", "trainer"),
    ],
)
def test_standard_adds_pipelines_volumes_tensorboard_and_training(
    pins: Pins, tag: str, auth_proxy: str, training: str
) -> None:
    release = pins.get(tag)
    minimal = {c.id for c in release.profile_components("minimal")}
    standard = {c.id for c in release.profile_components("standard")}
    assert auth_proxy in minimal
    assert standard - minimal == {"pipelines", "volumes-web-app", "tensorboard", training}


def test_full_is_every_component_and_profiles_nest(pins: Pins) -> None:
    for release in pins.releases:
        assert [c.id for c in release.profile_components("full")] == [c.id for c in release.components]
        minimal, standard = (set(c.id for c in release.profile_components(p)) for p in ("minimal", "standard"))
        assert minimal < standard


def test_every_profile_holds_the_dependencies_of_its_components(pins: Pins) -> None:
    for release in pins.releases:
        for profile in PROFILES:
            chosen = {c.id for c in release.profile_components(profile)}
            needed = {d for c in release.profile_components(profile) for d in c.depends_on}
            assert needed <= chosen, (release.tag, profile, needed - chosen)


def test_multi_user_pipelines_of_v1_4_0_depend_on_what_its_readme_lists(pins: Pins) -> None:
    pipelines = pins.get("v1.4.0").component("pipelines")
    assert {"istio", "kubeflow-istio-resources", "kubeflow-roles", "oidc-authservice", "profiles-kfam"} <= set(
        pipelines.depends_on
    )
    assert pipelines.variant_paths("pns") == ["apps/pipeline/upstream/env/platform-agnostic-multi-user-pns"]


def test_istio_based_and_cert_manager_overlay_components_depend_on_them(pins: Pins) -> None:
    for release in pins.releases:
        for component in release.components:
            if any("overlays/istio" in p or "kubeflow-istio-resources" in p for p in component.paths):
                assert "istio" in component.depends_on, (release.tag, component.id)
            if any("overlays/cert-manager" in p or "/env/cert-manager/" in p for p in component.paths):
                assert "cert-manager" in component.depends_on, (release.tag, component.id)


def test_readme_waits_are_kept_verbatim_and_as_data(pins: Pins) -> None:
    istio = pins.get("v1.9.1").component("istio")
    (wait,) = istio.waits
    assert wait.readme == "kubectl wait --for=condition=Ready pods --all -n istio-system --timeout 300s"
    assert (wait.namespace, wait.what, wait.all, wait.timeout_seconds) == ("istio-system", "pods", True, 300)
    endpoints = pins.get("v1.11.0").component("cert-manager").waits[1]
    assert (endpoints.what, endpoints.selector) == ("endpoints", "app in (cert-manager,webhook)")
    assert endpoints.condition == "jsonpath={.subsets[0].addresses[0].targetRef.kind}=Pod"
    assert pins.get("v1.4.0").component("cert-manager").waits == []


def test_v1_11_0_records_the_builds_that_need_the_network(pins: Pins) -> None:
    release = pins.get("v1.11.0")
    assert release.component("trainer").needs_network == ["applications/trainer/upstream/overlays/kubeflow-platform"]
    assert "applications/pipeline/upstream/env/cert-manager/platform-agnostic-multi-user" in (
        release.component("pipelines").needs_network
    )


def test_the_readme_table_matches_the_pins(pins: Pins) -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme_table(pins) in readme, "README.md's releases table is stale: paste render.readme_table(load_pins())"


@needs_bundle
def test_every_pinned_path_exists_at_its_tag_in_the_real_manifests(pins: Pins, tmp_path: Path) -> None:
    repo = tmp_path / "kfm.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(MANIFESTS_BUNDLE), str(repo)], check=True)
    for release in pins.releases:
        listing = subprocess.run(
            ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", release.tag],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()  # fmt: skip
        kustomizations = {line.rsplit("/", 1)[0] for line in listing if line.endswith("/kustomization.yaml")}
        for component in release.components:
            for path in [*component.paths, *(p for paths in component.alternatives.values() for p in paths)]:
                assert path in kustomizations, f"{release.tag} {component.id}: {path} has no kustomization.yaml"


# ---- malformed files --------------------------------------------------------------------------------------------


def load_error(tmp_path: Path, data: dict[str, Any] | str) -> str:
    path = tmp_path / "pins.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(UsageError) as caught:
        load_pins(path)
    assert caught.value.exit_code == 2
    assert str(path) in caught.value.message
    return caught.value.message


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "releases:\n  - tag: v1.4.0\n    repo: [unclosed\n")
    assert "not valid YAML at line" in message


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_pins(tmp_path / "nope.yaml")
    assert "cannot read pins file" in caught.value.message


def test_missing_field_names_release_and_field(tmp_path: Path) -> None:
    data = shipped_data()
    del release_data(data, "v1.9.1")["commit"]
    assert "release v1.9.1: commit: missing field" in load_error(tmp_path, data)


def test_missing_field_of_a_component_names_the_component(tmp_path: Path) -> None:
    data = shipped_data()
    del component_data(data, "v1.4.0", "katib")["paths"]
    assert "release v1.4.0, component katib: paths: missing field" in load_error(tmp_path, data)


def test_unknown_field_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    release_data(data, "v1.4.0")["kubernets"] = {}
    assert "release v1.4.0: kubernets: unknown field" in load_error(tmp_path, data)


def test_short_commit_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    release_data(data, "v1.10.2")["commit"] = "d8d643f"
    assert "release v1.10.2: commit: 'd8d643f' is not a full 40-hex commit SHA" in load_error(tmp_path, data)


def test_unknown_dependency_id_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    data = shipped_data()
    component_data(data, "v1.4.0", "katib")["depends_on"].append("cert-manger")
    message = load_error(tmp_path, data)
    assert "release v1.4.0" in message and "component katib: depends_on names unknown id cert-manger" in message


def test_dependency_cycle_is_refused_showing_the_cycle(tmp_path: Path) -> None:
    data = shipped_data()
    component_data(data, "v1.4.0", "istio")["depends_on"] = ["dex"]
    assert "dependency cycle istio -> dex -> istio" in load_error(tmp_path, data)


def test_duplicate_component_id_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    components = release_data(data, "v1.4.0")["components"]
    components.append(dict(components[0]))
    assert "release v1.4.0: duplicate component id cert-manager" in load_error(tmp_path, data)


def test_duplicate_release_tag_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    data["releases"].append(release_data(data, "v1.4.0"))
    assert "duplicate release tag v1.4.0" in load_error(tmp_path, data)


def test_default_kubernetes_outside_the_range_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    release_data(data, "v1.4.0")["kubernetes"]["default"] = "v1.22.0"
    assert "default v1.22.0 is outside the supported range" in load_error(tmp_path, data)


def test_a_minimal_component_whose_dependency_is_not_minimal_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    component_data(data, "v1.4.0", "katib")["depends_on"].append("knative")
    assert "component katib is in profile minimal but its dependency knative is not" in load_error(tmp_path, data)


def test_a_wait_that_is_not_a_kubectl_wait_line_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    component_data(data, "v1.9.1", "dex")["waits"] = ["sleep 30"]
    assert "component dex: waits.0: a wait must be a `kubectl wait` line" in load_error(tmp_path, data)


def test_a_fork_can_be_described_by_its_own_pins_file(tmp_path: Path) -> None:
    data = shipped_data()
    data["releases"] = [release_data(data, "v1.4.0")]
    data["releases"][0]["repo"] = "https://git.example.com/mirror/manifests.git"
    forked = load_pins(write_pins(tmp_path, data))
    assert forked.get("v1.4.0").repo == "https://git.example.com/mirror/manifests.git"


def test_an_unknown_inotify_setting_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    release_data(data, "v1.9.1")["inotify"]["max_user_wathces"] = 1
    assert "unknown fs.inotify setting max_user_wathces" in load_error(tmp_path, data)


def test_an_upper_bound_without_patch_admits_every_patch_of_that_minor(pins: Pins) -> None:
    kubernetes = pins.get("v1.4.0").kubernetes
    assert kubernetes.contains("v1.21.14") and kubernetes.contains("1.17.0")
    assert not kubernetes.contains("v1.22.0") and not kubernetes.contains("v1.16.15")


@pytest.mark.parametrize(
    ("repo", "says"),
    [
        ("ext::sh -c touch% /tmp/kfinstall-pwned", "uses the ext:: remote helper"),
        ("fd::7", "uses the fd:: remote helper"),
        ("http://github.com/kubeflow/manifests", "uses the http transport"),
        ("ftp://example.org/manifests.git", "uses the ftp transport"),
        ("--upload-pack=touch /tmp/x", "would be read as an option"),
        ("ssh://-oProxyCommand=touch%20x/repo", "has a host that would be read as an option"),
    ],
)
def test_a_repo_url_of_a_transport_kfinstall_does_not_clone_over_is_refused(tmp_path: Path, repo: str, says: str):
    data = shipped_data()
    release_data(data, "v1.4.0")["repo"] = repo
    message = load_error(tmp_path, data)
    assert "release v1.4.0: repo:" in message and says in message


@pytest.mark.parametrize(
    "repo",
    [
        "https://github.com/kubeflow/manifests",
        "ssh://git@github.com/kubeflow/manifests.git",
        "git@github.com:kubeflow/manifests.git",
        "git://git.example.org/manifests",
        "file:///srv/mirror/manifests.git",
        "/srv/mirror/manifests.git",
    ],
)
def test_https_ssh_scp_like_git_and_file_urls_are_accepted(tmp_path: Path, repo: str) -> None:
    data = shipped_data()
    release_data(data, "v1.4.0")["repo"] = repo
    assert load_pins(write_pins(tmp_path, data)).get("v1.4.0").repo == repo
