"""The pins file: the shipped releases say what the upstream READMEs say, and a malformed file is refused clearly."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfinstall.errors import UsageError
from kfinstall.release.pins import PROFILES, Pins, load_pins, shipped_pins_path
from kfinstall.ui.tables import readme_table
from tests.paths import MANIFESTS_BUNDLE, REPO_ROOT, needs_bundle, real_kubectl

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


def test_shipped_pins_hold_the_five_supported_releases_oldest_first(pins: Pins) -> None:
    assert pins.tags == ["v1.4.0", "v1.9.1", "v1.10.2", "v1.11.0", "26.03"]
    assert pins.newest.tag == "26.03"


def test_editable_install_reads_the_repository_root_file() -> None:
    assert shipped_pins_path() == REPO_ROOT / "manifests_pins.yaml"


def test_release_is_found_with_or_without_the_v(pins: Pins) -> None:
    assert pins.get("1.4.0") is pins.get("v1.4.0")


def test_unknown_release_is_a_usage_error_listing_the_valid_ones(pins: Pins) -> None:
    with pytest.raises(UsageError) as caught:
        pins.get("1.5.0")
    assert caught.value.exit_code == 2
    assert caught.value.hint is not None and "v1.4.0, v1.9.1, v1.10.2, v1.11.0, 26.03" in caught.value.hint


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
        ("26.03", "5.8.1"),
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
        ("26.03", "oauth2-proxy", "trainer"),
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


#: What the 26.03 CI scripts (tests/*_install.sh) build, in their order (../shared/reference/kubeflow-releases.md).
ORDER_26_03 = [
    "kubeflow-namespace", "cert-manager", "istio", "oauth2-proxy", "kubeflow-istio-resources", "profiles-kfam",
    "kubeflow-roles", "dex", "central-dashboard", "admission-webhook", "knative", "knative-eventing", "kserve",
    "pipelines", "katib", "notebooks", "pvcviewer-controller", "volumes-web-app", "tensorboard", "trainer",
    "spark-operator", "user-namespace",
]  # fmt: skip


def test_26_03_is_pinned_from_its_release_facts(pins: Pins) -> None:
    release = pins.get("26.03")
    assert release.commit == "d68ebc7fab366ab40ddd1541d2ec22febb31bc83"
    assert release.repo == "https://github.com/kubeflow/community-distribution.git"  # kubeflow/manifests, renamed
    assert release.kustomize.min == "5.8.1"
    assert (release.kubernetes.min, release.kubernetes.max, release.kubernetes.default) == ("v1.34", None, "v1.34.0")
    assert release.apiserver_flags == [
        "apiserver.service-account-issuer=https://kubernetes.default.svc",
        "apiserver.service-account-signing-key-file=/var/lib/minikube/certs/sa.key",
    ]
    assert release.inotify == pins.get("v1.11.0").inotify == {"max_user_instances": 2280, "max_user_watches": 1255360}


def test_26_03_components_follow_the_order_of_its_ci_scripts(pins: Pins) -> None:
    release = pins.get("26.03")
    assert [c.id for c in release.components] == ORDER_26_03
    assert release.component("profiles-kfam").paths == ["applications/profiles/pss"]
    assert release.component("cert-manager").paths == [
        "common/cert-manager/base",
        "common/cert-manager/overlays/kubeflow",
    ]
    assert release.component("trainer").paths == [
        "applications/trainer/upstream/base/crds",
        "applications/trainer/overlays",
        "applications/trainer/upstream/overlays/runtimes",
    ]


def test_26_03_keeps_the_wait_lines_of_its_ci_scripts_verbatim(pins: Pins) -> None:
    release = pins.get("26.03")
    cert_manager = [w.readme for w in release.component("cert-manager").waits]
    assert cert_manager == [
        "kubectl wait --for=condition=Ready pod -l 'app=webhook' --timeout=180s -n cert-manager",
        "kubectl wait --for=condition=Ready pod -l 'app.kubernetes.io/instance=cert-manager' --timeout=180s "
        "-n cert-manager",
        "kubectl wait --for=jsonpath='{.subsets[0].addresses[0].targetRef.kind}'=Pod endpoints -l "
        "'app in (cert-manager,webhook)' --timeout=180s -n cert-manager",
    ]
    (istio,) = release.component("istio").waits
    assert (istio.namespace, istio.all, istio.timeout_seconds) == ("istio-system", True, 180)
    assert [w.namespace for c in release.components for w in c.waits] == [
        "cert-manager", "cert-manager", "cert-manager", "istio-system", "oauth2-proxy", "auth"
    ]  # fmt: skip


def test_26_03_minimal_is_the_v1_11_0_minimal_set(pins: Pins) -> None:
    ids = {c.id for c in pins.get("26.03").profile_components("minimal")}
    assert ids == {c.id for c in pins.get("v1.11.0").profile_components("minimal")}


def test_26_03_records_the_builds_that_need_the_network(pins: Pins) -> None:
    release = pins.get("26.03")
    assert {p for c in release.components for p in c.needs_network} == {
        "applications/pipeline/overlays",
        "applications/pipeline/upstream/env/cert-manager/platform-agnostic-multi-user-k8s-native",
        "applications/trainer/overlays",
    }


def test_26_03_resources_are_the_readme_table_sums_with_the_minimal_margin(pins: Pins) -> None:
    # README table, rows of each profile's components: 791m/3648Mi, 1788m/7697Mi, 3868m/10363Mi; minimal gets the
    # README's reduced figure (8 GB, 4 cores), the others that margin on top, full is the README's 16 GB / 8 cores
    release = pins.get("26.03")
    sizes = {p: (release.resources_for(p).cpus, release.resources_for(p).memory_mb) for p in PROFILES}
    assert sizes == {"minimal": (4, 8192), "standard": (5, 12288), "full": (8, 16384)}
    margin = 8192 - 3648
    assert 7697 + margin <= 12288 and 10363 + margin <= 16384


@needs_bundle
def test_every_26_03_path_that_needs_no_network_builds_offline_with_the_real_kustomize(
    pins: Pins, tmp_path: Path
) -> None:
    release = pins.get("26.03")
    subprocess.run(["git", "clone", "-q", "--bare", str(MANIFESTS_BUNDLE), str(tmp_path / "kfm.git")], check=True)
    checkout = tmp_path / "26.03"
    subprocess.run(
        ["git", "clone", "-q", "--branch", "26.03", f"file://{tmp_path / 'kfm.git'}", str(checkout)], check=True
    )
    paths = [p for c in release.components for p in [*c.paths, *(q for v in c.alternatives.values() for q in v)]]
    offline = [p for p in dict.fromkeys(paths) if p not in {q for c in release.components for q in c.needs_network}]
    failed = {}
    for path in offline:
        build = subprocess.run(
            [str(real_kubectl()), "kustomize", path], cwd=checkout, capture_output=True, text=True, check=False
        )
        if build.returncode != 0 or "kind:" not in build.stdout:
            failed[path] = build.stderr.strip()[-200:]
    assert len(offline) == 35 and not failed, failed


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


# ---- release tags -------------------------------------------------------------------------------------------


def with_tag(tag: Any) -> dict[str, Any]:
    data = shipped_data()
    data["releases"] = [release_data(data, "v1.11.0")]
    data["releases"][0]["tag"] = tag
    return data


def test_calendar_tags_order_after_the_semantic_ones_and_patches_after_their_month(tmp_path: Path) -> None:
    data = shipped_data()
    # 26.03's upgrade_from names v1.11.0, which is not older than every copy's tag: the copies leave it out
    base = {key: value for key, value in release_data(data, "26.03").items() if key != "upgrade_from"}
    data["releases"] = [
        {**base, "tag": tag} for tag in ["26.03.1", "v1.11.0-rc.1", "26.03", "v1.11.0", "26.10", "v1.9.1"]
    ]
    pins = load_pins(write_pins(tmp_path, data))
    assert [r.tag for r in pins.by_age()] == ["v1.9.1", "v1.11.0-rc.1", "v1.11.0", "26.03", "26.03.1", "26.10"]
    assert pins.newest.tag == "26.10"


def test_a_calendar_tag_is_found_with_or_without_a_v(pins: Pins) -> None:
    assert pins.get("26.03") is pins.get("v26.03") is pins.newest
    assert pins.get("26.03").version == "26.03"


def test_a_calendar_tag_written_as_a_yaml_number_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "pins.yaml"
    path.write_text(yaml.safe_dump(with_tag("26.03"), sort_keys=False).replace("tag: '26.03'", "tag: 26.03"))
    with pytest.raises(UsageError) as caught:
        load_pins(path)
    assert "release 26.03: tag: tag 26.03 is a number" in caught.value.message
    assert "quote the tag as upstream writes it, e.g. tag: '26.03'" in caught.value.message


@pytest.mark.parametrize("tag", ["1.4.0", "2026.03", "26.13", "26.3", "v26.03"])
def test_a_tag_that_is_neither_semantic_nor_calendar_is_refused(tmp_path: Path, tag: str) -> None:
    message = load_error(tmp_path, with_tag(tag))
    assert "is not a tag like v1.4.0, or a calendar tag like 26.03 or 26.03.1" in message


def test_v1_4_0_pipelines_default_variant_needs_the_docker_runtime_with_its_source(pins: Pins) -> None:
    need = {c.id: c for c in pins.get("v1.4.0").components}["pipelines"].container_runtime
    assert need is not None and need.runtime == "docker"
    assert "use pns executor instead" in need.source
    assert [c.id for r in pins.releases for c in r.components if c.container_runtime] == ["pipelines"]


def test_a_container_runtime_minikube_does_not_know_is_refused(tmp_path: Path) -> None:
    data = shipped_data()
    component_data(data, "v1.4.0", "pipelines")["container_runtime"] = {"runtime": "rkt", "source": "a guess"}
    assert "release v1.4.0, component pipelines: container_runtime.runtime:" in load_error(tmp_path, data)


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


@needs_bundle
def test_every_runtime_need_names_workloads_the_release_defines(pins: Pins, tmp_path: Path) -> None:
    repo = tmp_path / "kfm.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(MANIFESTS_BUNDLE), str(repo)], check=True)
    missing, checked = {}, []
    for release in pins.releases:
        named = {name for c in release.components for need in c.runtime_needs for name in [*need.workloads, need.needs]}
        if not named:
            continue
        checked.append(release.tag)
        heads = subprocess.run(
            ["git", "grep", "-h", "-A3", "-E", "^kind: (Deployment|StatefulSet)$", release.tag],
            cwd=repo, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        defined = {line.split(":", 1)[1].strip() for line in heads.splitlines() if line.startswith("  name:")}
        if named - defined:
            missing[release.tag] = sorted(named - defined)
    assert missing == {} and checked == [r.tag for r in pins.releases]
