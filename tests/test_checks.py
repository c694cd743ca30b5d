"""Check verdicts, decided from the raw answers the real tools give (no processes: `evaluate` is pure)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from kfinstall.checks.gather import ClusterFacts, Facts, read_inotify
from kfinstall.checks.prerequisites import evaluate
from kfinstall.checks.request import CheckRequest, CheckResult, failed
from kfinstall.errors import UsageError
from kfinstall.release import minikube_support
from kfinstall.release.pins import Pins, load_pins
from kfinstall.release.version import Version
from kfinstall.runner import Result

KUSTOMIZE_3_2_0 = (
    "Version: {KustomizeVersion:3.2.0 GitCommit:a3103f1e62ddb5b696daa3fd359bb6f2e8333b49 "
    "BuildDate:2019-09-18T16:26:36Z GoOs:linux GoArch:amd64}\n"
)
KUBECTL_1_37 = '{"clientVersion": {"major": "1", "minor": "37", "gitVersion": "v1.37.1"}, "kustomizeVersion": "v5.8.1"}'
DOCKER_RUNNING = (
    '{"NCPU":8,"MemTotal":33554432000,"ServerVersion":"28.0.1","DefaultRuntime":"runc",'
    '"Runtimes":{"io.containerd.runc.v2":{"path":"runc"},"runc":{"path":"runc"}}}'
)
DOCKER_DOWN = (
    '{"NCPU":0,"MemTotal":0,"ServerVersion":"","Runtimes":null,"ServerErrors":["Cannot connect to the Docker '
    'daemon at unix:///var/run/docker.sock. Is the docker daemon running?"]}'
)
NO_DRIVER = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest "
    "NVIDIA driver is installed and running.\n"
)


def out(stdout: str, exit_code: int = 0, stderr: str = "") -> Result:
    return Result(("tool",), exit_code, stdout, stderr, 0.0)


def minikube(version: str) -> Result:
    return out(json.dumps({"commit": "8220a6eb95f0a4d75f7f2d7b14cef975f050512d", "minikubeVersion": version}))


@pytest.fixture(scope="module")
def pins() -> Pins:
    return load_pins()


def healthy(**changes: object) -> Facts:
    """A machine ready for Kubeflow v1.4.0 on minikube v1.32.0; tests change one fact each."""
    facts = Facts(
        kustomize=out(KUSTOMIZE_3_2_0),
        kubectl=out(KUBECTL_1_37),
        minikube=minikube("v1.32.0"),
        docker=out(DOCKER_RUNNING),
        git=out("git version 2.43.0\n"),
        nvidia_smi=out("GPU 0: NVIDIA GeForce RTX 3090 (UUID: GPU-d6d900d6-8686-5c67-ac30-fd5f56193bbc)\n"),
        host_cpus=8,
        host_memory_mb=32000,
        inotify={"max_user_instances": 8192, "max_user_watches": 2097152},
    )
    return dataclasses.replace(facts, **changes)


def request(pins: Pins, tag: str = "v1.4.0", **fields: object) -> CheckRequest:
    return CheckRequest(release=pins.get(tag), pins=pins, **fields)  # type: ignore[arg-type]


def verdict(results: list[CheckResult], name: str) -> CheckResult:
    return next(r for r in results if r.name == name)


def test_a_ready_machine_passes_every_check(pins: Pins) -> None:
    results = evaluate(request(pins), healthy())
    assert failed(results) == []
    assert [r.name for r in results] == [
        "kubernetes version", "kustomize", "kubectl", "minikube", "docker", "git", "cpus", "memory", "inotify limits",
    ]  # fmt: skip


# ---- kustomize -------------------------------------------------------------------------------------------------


def test_kustomize_5_for_v1_4_0_fails_naming_the_exact_version_and_how_to_get_it(pins: Pins) -> None:
    check = verdict(evaluate(request(pins), healthy(kustomize=out("v5.4.3\n"))), "kustomize")
    assert (check.status, check.found, check.required) == ("fail", "v5.4.3", "exactly 3.2.0")
    assert check.hint is not None
    assert "kustomize%2Fv3.2.0" in check.hint and "KFINSTALL_KUSTOMIZE" in check.hint


def test_kustomize_below_the_minimum_fails_and_above_passes(pins: Pins) -> None:
    old = verdict(evaluate(request(pins, "v1.11.0"), healthy(kustomize=out("v5.4.3\n"))), "kustomize")
    new = verdict(evaluate(request(pins, "v1.11.0"), healthy(kustomize=out("v5.8.0\n"))), "kustomize")
    assert (old.status, new.status) == ("fail", "ok")


def test_unreadable_kustomize_version_is_a_warning_showing_the_raw_text(pins: Pins) -> None:
    raw = "{Version:unknown GitCommit:$Format:%H$ BuildDate:1970-01-01T00:00:00Z GoOs:linux GoArch:amd64}\n"
    check = verdict(evaluate(request(pins), healthy(kustomize=out(raw))), "kustomize")
    assert check.status == "warn"
    assert check.found == raw.strip()


def test_missing_kustomize_fails_with_a_download_hint(pins: Pins) -> None:
    check = verdict(evaluate(request(pins, "v1.11.0"), healthy(kustomize=None, kubectl=None)), "kustomize")
    assert (check.status, check.found) == ("fail", "not installed")
    assert check.hint is not None and "https://" in check.hint


def test_without_kustomize_kubectls_embedded_one_does_when_it_satisfies_the_pin(pins: Pins) -> None:
    newer = verdict(evaluate(request(pins, "v1.11.0"), healthy(kustomize=None)), "kustomize")
    assert (newer.status, newer.found) == ("ok", "kubectl's embedded v5.8.1")
    exact = verdict(evaluate(request(pins), healthy(kustomize=None)), "kustomize")
    assert (exact.status, exact.found) == ("fail", "not installed (kubectl embeds v5.8.1)")


# ---- kubectl ---------------------------------------------------------------------------------------------------


def test_kubectl_far_from_the_cluster_version_is_only_a_warning(pins: Pins) -> None:
    check = verdict(evaluate(request(pins), healthy()), "kubectl")
    assert check.status == "warn"
    assert "18 minor versions away from Kubernetes v1.19.3" in check.message
    assert check.hint is not None and "KFINSTALL_KUBECTL" in check.hint


def test_kubectl_within_one_minor_is_ok(pins: Pins) -> None:
    facts = healthy(kubectl=out("Client Version: v1.33.2\nKustomize Version: v5.6.0\n"))
    assert verdict(evaluate(request(pins, "v1.11.0"), facts), "kubectl").status == "ok"


def test_missing_kubectl_fails(pins: Pins) -> None:
    assert verdict(evaluate(request(pins), healthy(kubectl=None)), "kubectl").status == "fail"


# ---- minikube --------------------------------------------------------------------------------------------------


def test_minikube_1_37_cannot_run_v1_4_0_and_the_fix_names_an_older_minikube_and_a_newer_release(pins: Pins) -> None:
    check = verdict(evaluate(request(pins), healthy(minikube=minikube("v1.37.0"))), "minikube")
    assert check.status == "fail"
    assert "refuses Kubernetes older than v1.28.0" in check.message and "v1.19.3" in check.message
    assert check.hint is not None
    assert "minikube v1.32.x or older" in check.hint
    assert "-k 26.03" in check.hint


def test_minikube_1_33_already_refuses_kubernetes_1_19(pins: Pins) -> None:
    check = verdict(evaluate(request(pins), healthy(minikube=minikube("v1.33.0"))), "minikube")
    assert check.status == "fail"
    assert "older than v1.20.0" in check.message


def test_minikube_plain_version_output_is_understood(pins: Pins) -> None:
    plain = out("minikube version: v1.32.0\ncommit: 8220a6eb95f0a4d75f7f2d7b14cef975f050512d\n")
    assert verdict(evaluate(request(pins), healthy(minikube=plain)), "minikube").status == "ok"


def test_unreadable_minikube_version_is_a_warning(pins: Pins) -> None:
    check = verdict(evaluate(request(pins), healthy(minikube=out("Error: unknown flag: --output\n", 1))), "minikube")
    assert (check.status, check.found) == ("warn", "Error: unknown flag: --output")


def test_missing_minikube_fails_with_where_to_get_it(pins: Pins) -> None:
    check = verdict(evaluate(request(pins, "v1.11.0"), healthy(minikube=None)), "minikube")
    assert check.status == "fail" and check.hint is not None and "minikube.sigs.k8s.io" in check.hint


def test_an_existing_cluster_needs_no_minikube_docker_or_host_resources(pins: Pins) -> None:
    names = [r.name for r in evaluate(request(pins, context="prod"), healthy(minikube=None, docker=None))]
    assert not {"minikube", "docker", "cpus", "memory"} & set(names)


# ---- kubernetes version ---------------------------------------------------------------------------------------


def test_kubernetes_version_outside_the_release_range_fails_with_the_default_as_fix(pins: Pins) -> None:
    check = verdict(evaluate(request(pins, k8s_version="v1.22.0"), healthy()), "kubernetes version")
    assert (check.status, check.required) == ("fail", "v1.17 – v1.21")
    assert check.hint == "use --k8s-version v1.19.3"


def test_a_malformed_kubernetes_version_is_a_usage_error(pins: Pins) -> None:
    with pytest.raises(UsageError):
        evaluate(request(pins, k8s_version="latest"), healthy())


# ---- docker, git ----------------------------------------------------------------------------------------------


def test_docker_down_fails_even_though_docker_info_format_exits_0(pins: Pins) -> None:
    check = verdict(evaluate(request(pins), healthy(docker=out(DOCKER_DOWN))), "docker")
    assert (check.status, check.found) == ("fail", "daemon not reachable")
    assert check.message.startswith("Cannot connect to the Docker daemon")


def test_missing_docker_fails_but_another_driver_does_not_need_it(pins: Pins) -> None:
    assert verdict(evaluate(request(pins), healthy(docker=None)), "docker").status == "fail"
    names = [r.name for r in evaluate(request(pins, driver="kvm2"), healthy(docker=None))]
    assert "docker" not in names


def test_missing_git_fails(pins: Pins) -> None:
    assert verdict(evaluate(request(pins), healthy(git=None)), "git").status == "fail"


# ---- cpus and memory ------------------------------------------------------------------------------------------


def test_more_memory_than_docker_has_fails_and_the_fix_fits_leaving_the_system_its_margin(pins: Pins) -> None:
    check = verdict(evaluate(request(pins, memory_mb=65536), healthy()), "memory")
    assert check.status == "fail"
    assert check.hint == "use --memory 12288mb (at most 30976mb: this machine less 1024 MB for the system)"


def test_docker_driver_resources_come_from_the_daemon_not_the_host(pins: Pins) -> None:
    facts = healthy(host_cpus=64, host_memory_mb=256000)
    check = verdict(evaluate(request(pins, cpus=16), facts), "cpus")
    assert (check.status, check.found) == ("fail", "16 asked, 8 available")


def test_less_than_the_profile_recommends_is_a_warning(pins: Pins) -> None:
    results = evaluate(request(pins, profile="standard", cpus=2, memory_mb=4096), healthy())
    assert (verdict(results, "cpus").status, verdict(results, "memory").status) == ("warn", "warn")


def test_below_minikubes_minimums_fails(pins: Pins) -> None:
    results = evaluate(request(pins, cpus=1, memory_mb=1024), healthy())
    assert (verdict(results, "cpus").status, verdict(results, "memory").status) == ("fail", "fail")


def test_defaults_larger_than_the_host_fail_with_an_explicit_value_to_use(pins: Pins) -> None:
    facts = healthy(docker=None, host_cpus=2, host_memory_mb=6000)
    results = evaluate(request(pins, driver="kvm2", profile="minimal"), facts)
    assert verdict(results, "cpus").hint == "use --cpus 2"
    assert verdict(results, "memory").status == "fail"


# ---- inotify --------------------------------------------------------------------------------------------------


def test_low_inotify_limits_warn_with_the_readme_sysctl_commands(pins: Pins) -> None:
    facts = healthy(inotify={"max_user_instances": 128, "max_user_watches": 8192})
    check = verdict(evaluate(request(pins, "v1.11.0"), facts), "inotify limits")
    assert check.status == "warn"
    assert check.hint is not None
    assert "sudo sysctl fs.inotify.max_user_instances=2280" in check.hint
    assert "sudo sysctl fs.inotify.max_user_watches=1255360" in check.hint


def test_no_inotify_check_where_there_is_no_inotify(pins: Pins) -> None:
    assert "inotify limits" not in [r.name for r in evaluate(request(pins), healthy(inotify=None))]


# ---- gpus -----------------------------------------------------------------------------------------------------

DOCKER_WITH_NVIDIA = DOCKER_RUNNING.replace(
    '"runc":{"path":"runc"}', '"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}'
)


def gpu_verdicts(pins: Pins, facts: Facts, **fields: object) -> dict[str, str]:
    results = evaluate(request(pins, gpus="all", **fields), facts)
    return {r.name: r.status for r in results if "gpu" in r.name or "nvidia" in r.name}


def test_a_gpu_machine_passes_the_gpu_checks(pins: Pins) -> None:
    verdicts = gpu_verdicts(pins, healthy(docker=out(DOCKER_WITH_NVIDIA)))
    assert verdicts == {"gpu driver": "ok", "docker nvidia runtime": "ok", "minikube --gpus": "ok"}


def test_gpus_without_a_working_driver_fail(pins: Pins) -> None:
    verdicts = gpu_verdicts(pins, healthy(docker=out(DOCKER_WITH_NVIDIA), nvidia_smi=out(NO_DRIVER, 9)))
    assert verdicts["gpu driver"] == "fail"
    assert gpu_verdicts(pins, healthy(docker=out(DOCKER_WITH_NVIDIA), nvidia_smi=None))["gpu driver"] == "fail"


def test_gpus_without_the_nvidia_docker_runtime_fail(pins: Pins) -> None:
    assert gpu_verdicts(pins, healthy())["docker nvidia runtime"] == "fail"


def test_gpus_need_minikube_1_32(pins: Pins) -> None:
    facts = healthy(docker=out(DOCKER_WITH_NVIDIA), minikube=minikube("v1.31.2"))
    results = evaluate(request(pins, gpus="all"), facts)
    check = verdict(results, "minikube --gpus")
    assert check.status == "fail" and "has no --gpus flag" in check.message


def test_gpus_need_the_docker_driver(pins: Pins) -> None:
    assert gpu_verdicts(pins, healthy(docker=None), driver="kvm2")["gpu driver support"] == "fail"


# ---- an existing cluster (--context) ---------------------------------------------------------------------------

API_V1_WITH_TOKEN = json.dumps(
    {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "serviceaccounts", "namespaced": True, "kind": "ServiceAccount", "verbs": ["create", "get"]},
            {
                "name": "serviceaccounts/token",
                "singularName": "",
                "namespaced": True,
                "group": "authentication.k8s.io",
                "version": "v1",
                "kind": "TokenRequest",
                "verbs": ["create"],
            },
        ],
    }
)
OPENID = json.dumps(
    {
        "issuer": "https://kubernetes.default.svc.cluster.local",
        "jwks_uri": "https://192.168.49.2:8443/openid/v1/jwks",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
)
STORAGE_CLASSES = json.dumps(
    {
        "apiVersion": "v1",
        "items": [
            {
                "kind": "StorageClass",
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "k8s.io/minikube-hostpath",
            }
        ],
        "kind": "List",
    }
)


def cluster_facts(server: str = "v1.34.1", **changes: Result | None) -> Facts:
    version = json.dumps({"clientVersion": {"gitVersion": "v1.37.1"}, "serverVersion": {"gitVersion": server}})
    cluster = ClusterFacts(
        version=out(version), storage_classes=out(STORAGE_CLASSES), api_v1=out(API_V1_WITH_TOKEN), openid=out(OPENID)
    )
    return healthy(minikube=None, docker=None, cluster=dataclasses.replace(cluster, **changes))


def cluster_verdicts(pins: Pins, facts: Facts, tag: str = "v1.11.0") -> dict[str, CheckResult]:
    results = evaluate(request(pins, tag, context="prod"), facts)
    return {r.name: r for r in results}


def test_a_suitable_cluster_passes_and_a_foreign_issuer_is_only_a_warning(pins: Pins) -> None:
    verdicts = cluster_verdicts(pins, cluster_facts())
    tools = ("kustomize", "kustomize defects", "kubectl", "git")
    assert {name: verdicts[name].status for name in verdicts if name not in tools} == {
        "cluster kubernetes": "ok",
        "default storageclass": "ok",
        "tokenrequest api": "ok",
        "service-account issuer": "warn",
    }
    assert verdicts["service-account issuer"].required == "https://kubernetes.default.svc"


def test_kubectl_skew_is_measured_against_the_clusters_own_version(pins: Pins) -> None:
    assert cluster_verdicts(pins, cluster_facts("v1.36.2"))["kubectl"].status == "ok"
    assert "3 minor versions away from Kubernetes v1.34.1" in cluster_verdicts(pins, cluster_facts())["kubectl"].message


def test_a_cluster_outside_the_release_range_fails(pins: Pins) -> None:
    assert cluster_verdicts(pins, cluster_facts("v1.25.3"))["cluster kubernetes"].status == "fail"


def test_a_cluster_without_a_default_storageclass_fails_with_the_patch_command(pins: Pins) -> None:
    none_default = out(STORAGE_CLASSES.replace('"true"', '"false"'))
    check = cluster_verdicts(pins, cluster_facts(storage_classes=none_default))["default storageclass"]
    assert (check.status, check.found) == ("fail", "none (standard not default)")
    assert check.hint is not None and "is-default-class" in check.hint


def test_a_cluster_without_the_token_request_api_fails(pins: Pins) -> None:
    bare = out(json.dumps({"kind": "APIResourceList", "resources": [{"name": "serviceaccounts"}]}))
    assert cluster_verdicts(pins, cluster_facts(api_v1=bare))["tokenrequest api"].status == "fail"


def test_an_unreachable_cluster_is_one_clear_failure(pins: Pins) -> None:
    refused = out("", 1, "The connection to the server 10.0.0.1:6443 was refused - did you specify the right host?\n")
    verdicts = cluster_verdicts(pins, cluster_facts(version=refused))
    check = verdicts["cluster reachable"]
    assert check.status == "fail" and check.found.startswith("The connection to the server")
    assert "default storageclass" not in verdicts


# ---- the newest Kubernetes a minikube knows --------------------------------------------------------------------


def test_newest_kubernetes_is_minikubes_own_value_and_none_outside_the_recorded_releases() -> None:
    assert minikube_support.newest_kubernetes(Version(1, 32, 0)) == "v1.28.3"
    assert minikube_support.newest_kubernetes(Version(1, 31, 2)) == "v1.28.0-rc.1"
    assert minikube_support.newest_kubernetes(Version(1, 33, 1)) == "v1.30.0"
    assert minikube_support.newest_kubernetes(Version(1, 34, 0)) == "v1.31.0"
    assert minikube_support.newest_kubernetes(Version(1, 35, 0)) == "v1.32.0"
    assert minikube_support.newest_kubernetes(Version(1, 36, 0)) == "v1.33.1"
    assert minikube_support.newest_kubernetes(Version(1, 38, 1)) == "v1.35.1"
    assert minikube_support.newest_kubernetes(Version(1, 14, 0)) is None
    assert minikube_support.newest_kubernetes(Version(1, 38, 2)) is None


#: kubernetes/minikube pkg/minikube/constants/constants.go at each tag: Default, Newest, Oldest KubernetesVersion
#: (as in ../shared/reference/minikube-kubernetes-versions.md).
CONSTANTS_GO = {
    "v1.24.0": ("v1.22.3", "v1.22.4-rc.0", "v1.14.0"), "v1.25.0": ("v1.23.1", "v1.23.2-rc.0", "v1.16.0"),
    "v1.25.1": ("v1.23.1", "v1.23.2-rc.0", "v1.16.0"), "v1.30.0": ("v1.26.3", "v1.27.0-rc.0", "v1.16.0"),
    "v1.31.0": ("v1.27.3", "v1.27.3", "v1.16.0"), "v1.33.0": ("v1.30.0", "v1.30.0", "v1.20.0"),
    "v1.25.2": ("v1.23.3", "v1.23.4-rc.0", "v1.16.0"), "v1.26.0": ("v1.24.1", "v1.24.1", "v1.16.0"),
    "v1.26.1": ("v1.24.3", "v1.24.3", "v1.16.0"), "v1.27.0": ("v1.25.0", "v1.25.0", "v1.16.0"),
    "v1.27.1": ("v1.25.2", "v1.25.2", "v1.16.0"), "v1.28.0": ("v1.25.3", "v1.25.3", "v1.16.0"),
    "v1.29.0": ("v1.26.1", "v1.26.1", "v1.16.0"), "v1.30.1": ("v1.26.3", "v1.27.0-rc.0", "v1.16.0"),
    "v1.31.1": ("v1.27.3", "v1.27.3", "v1.16.0"), "v1.31.2": ("v1.27.4", "v1.28.0-rc.1", "v1.16.0"),
    "v1.32.0": ("v1.28.3", "v1.28.3", "v1.16.0"), "v1.33.1": ("v1.30.0", "v1.30.0", "v1.20.0"),
    "v1.34.0": ("v1.31.0", "v1.31.0", "v1.20.0"), "v1.35.0": ("v1.32.0", "v1.32.0", "v1.20.0"),
    "v1.36.0": ("v1.33.1", "v1.33.1", "v1.20.0"), "v1.37.0": ("v1.34.0", "v1.34.0", "v1.28.0"),
    "v1.38.0": ("v1.35.0", "v1.35.0", "v1.28.0"), "v1.38.1": ("v1.35.1", "v1.35.1", "v1.28.0"),
}  # fmt: skip


@pytest.mark.parametrize("release", list(CONSTANTS_GO))
def test_every_minikube_release_has_its_constants_go_values(release: str) -> None:
    row = minikube_support.support(Version.parse(release))
    assert row is not None and (row.default, row.newest, row.oldest) == CONSTANTS_GO[release]
    assert str(minikube_support.oldest_kubernetes(Version.parse(release))) == row.oldest


def test_a_pre_release_newest_does_not_cover_that_release() -> None:
    assert minikube_support.knows_kubernetes(Version(1, 31, 2), Version(1, 27, 9)) is True
    assert minikube_support.knows_kubernetes(Version(1, 31, 2), Version(1, 28, 0)) is False


def test_a_kubernetes_beyond_the_newest_of_a_recorded_minikube_is_not_known() -> None:
    assert minikube_support.knows_kubernetes(Version(1, 37, 0), Version(1, 34, 0)) is True
    assert minikube_support.knows_kubernetes(Version(1, 37, 0), Version(1, 35, 0)) is False
    assert minikube_support.knows_kubernetes(Version(1, 35, 0), Version(1, 34, 0)) is False


def test_the_first_minikube_documented_to_know_a_kubernetes() -> None:
    assert minikube_support.first_minikube_knowing(Version(1, 34, 0)) == Version(1, 37, 0)
    assert minikube_support.first_minikube_knowing(Version(1, 28, 0)) == Version(1, 32, 0)
    assert minikube_support.first_minikube_knowing(Version(1, 40, 0)) is None


def test_a_kubernetes_newer_than_minikube_knows_warns_naming_the_fixes(pins: Pins) -> None:
    check = verdict(evaluate(request(pins, "v1.11.0"), healthy()), "minikube")
    assert check.status == "warn"
    assert "knows Kubernetes up to v1.28.3" in check.message and "v1.34.0 is newer" in check.message
    assert check.hint is not None
    assert "minikube v1.37.0 or newer" in check.hint and "-k v1.4.0" in check.hint


def test_a_known_kubernetes_in_the_release_range_is_offered_as_k8s_version(pins: Pins) -> None:
    check = verdict(evaluate(request(pins, "v1.9.1"), healthy(minikube=minikube("v1.33.0"))), "minikube")
    assert check.status == "warn"
    assert check.hint is not None and "--k8s-version v1.30.0" in check.hint


def test_no_warning_where_the_minikube_supports_the_kubernetes(pins: Pins) -> None:
    assert verdict(evaluate(request(pins, "v1.11.0"), healthy(minikube=minikube("v1.37.0"))), "minikube").status == "ok"
    assert verdict(evaluate(request(pins, "26.03"), healthy(minikube=minikube("v1.38.1"))), "minikube").status == "ok"


def test_minikube_v1_35_warns_on_v1_11_0s_kubernetes_which_it_does_not_support(pins: Pins) -> None:
    check = verdict(evaluate(request(pins, "v1.11.0"), healthy(minikube=minikube("v1.35.0"))), "minikube")
    assert check.status == "warn"
    assert "knows Kubernetes up to v1.32.0" in check.message and "v1.34.0 is newer" in check.message
    assert check.hint is not None and "-k v1.10.2" in check.hint and "minikube v1.37.0 or newer" in check.hint


def test_inotify_limits_are_read_from_proc_and_absent_without_it(tmp_path: Path) -> None:
    (tmp_path / "max_user_instances").write_text("128\n")
    (tmp_path / "max_user_watches").write_text("8192\n")
    assert read_inotify(tmp_path) == {"max_user_instances": 128, "max_user_watches": 8192}
    assert read_inotify(tmp_path / "missing") is None


def test_a_tool_missing_because_its_override_is_wrong_names_the_variable(pins: Pins) -> None:
    facts = healthy(minikube=None, broken_overrides={"minikube": "/opt/minikube-1.32/minikube"})
    check = verdict(evaluate(request(pins), facts), "minikube")
    assert check.status == "fail"
    assert check.found == "KFINSTALL_MINIKUBE=/opt/minikube-1.32/minikube is not an executable file"
    assert check.hint is not None and "KFINSTALL_MINIKUBE" in check.hint
