"""`kfinstall check`, run as the real entry point against the fake tools (and the cluster double for --context)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.fixtures import FakeTools

KFINSTALL = str(Path(sys.executable).parent / "kfinstall")


def kfinstall(tools: FakeTools, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KFINSTALL, *args],
        env={**tools.env, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def checks_of(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    document = json.loads(result.stdout)  # --json prints the document and nothing else
    return {check["name"]: check for check in document["checks"]}


@pytest.fixture
def tutorial_machine(fake_tools: FakeTools) -> FakeTools:
    """What Kubeflow v1.4.0 needs: minikube v1.32.0, kustomize 3.2.0, docker running."""
    return fake_tools.set(minikube_version="v1.32.0", kustomize_version="3.2.0", docker="running")


def test_a_ready_machine_passes_and_exits_0(tutorial_machine: FakeTools) -> None:
    result = kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--profile", "minimal", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert {c["status"] for c in document["checks"]} <= {"ok", "warn"}
    assert set(document["checks"][0]) == {"name", "status", "found", "required", "message", "hint"}


def test_check_asks_the_tools_through_their_version_commands(tutorial_machine: FakeTools) -> None:
    kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--json")
    assert tutorial_machine.calls("minikube") == [["version", "--output=json"]]
    assert tutorial_machine.calls("kustomize") == [["version"]]
    assert tutorial_machine.calls("docker") == [["info", "--format", "{{json .}}"]]


def test_v1_4_0_on_minikube_1_37_fails_and_says_what_to_do(tutorial_machine: FakeTools) -> None:
    tutorial_machine.set(minikube_version="v1.37.0")
    result = kfinstall(tutorial_machine, "check", "-k", "v1.4.0", "--json")
    assert result.returncode == 1
    minikube = checks_of(result)["minikube"]
    assert minikube["status"] == "fail"
    assert "refuses Kubernetes older than v1.28.0" in minikube["message"]
    assert "minikube v1.32.x or older" in minikube["hint"] and "-k 26.03" in minikube["hint"]


def test_without_a_release_the_newest_one_the_minikube_can_run_is_checked(fake_tools: FakeTools) -> None:
    fake_tools.set(minikube_version="v1.37.0", kustomize_version="5.7.1")
    result = kfinstall(fake_tools, "check")
    assert "Prerequisites for Kubeflow 26.03 (standard)" in result.stdout


def test_minikube_1_32_checks_the_release_whose_kubernetes_it_knows_and_warns_on_a_newer_one(
    tutorial_machine: FakeTools,
) -> None:
    assert "Prerequisites for Kubeflow v1.4.0 (standard)" in kfinstall(tutorial_machine, "check").stdout
    tutorial_machine.set(kustomize_version="5.7.1")
    minikube = checks_of(kfinstall(tutorial_machine, "check", "-k", "1.11.0", "--json"))["minikube"]
    assert minikube["status"] == "warn"
    assert "knows Kubernetes up to v1.28.3" in minikube["message"] and "v1.37.0" in minikube["hint"]


def test_docker_down_is_a_failed_check(tutorial_machine: FakeTools) -> None:
    tutorial_machine.set(docker="down")
    result = kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--json")
    assert result.returncode == 1
    docker = checks_of(result)["docker"]
    assert (docker["status"], docker["found"]) == ("fail", "daemon not reachable")


def test_a_missing_tool_is_a_failed_check_with_a_download_hint_not_a_traceback(tutorial_machine: FakeTools) -> None:
    tutorial_machine.set(minikube="absent", kustomize="absent")
    result = kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--json")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    checks = checks_of(result)
    assert checks["minikube"]["found"] == "not installed"
    assert "github.com/kubernetes/minikube/releases" in checks["minikube"]["hint"]
    assert "kustomize%2Fv3.2.0" in checks["kustomize"]["hint"]


def test_the_wrong_kustomize_fails_and_an_unknown_build_warns(tutorial_machine: FakeTools) -> None:
    tutorial_machine.set(kustomize_version="v5.4.3")
    assert checks_of(kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--json"))["kustomize"]["status"] == "fail"
    unknown = "{Version:unknown GitCommit:$Format:%H$ BuildDate:1970-01-01T00:00:00Z GoOs:linux GoArch:amd64}"
    tutorial_machine.set(kustomize_version_output=unknown)
    kustomize = checks_of(kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--json"))["kustomize"]
    assert (kustomize["status"], kustomize["found"]) == ("warn", unknown)


def test_memory_beyond_what_docker_has_fails(tutorial_machine: FakeTools) -> None:
    tutorial_machine.set(host_memory_mb=8000)
    memory = checks_of(kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--memory", "16g", "--json"))["memory"]
    assert (memory["status"], memory["found"]) == ("fail", "16 GB asked, 7.8 GB available")


def test_gpu_checks_pass_on_a_gpu_machine_and_fail_on_a_minikube_without_gpus(tutorial_machine: FakeTools) -> None:
    tutorial_machine.set(gpus=1, docker_runtimes=["io.containerd.runc.v2", "nvidia", "runc"])
    checks = checks_of(kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--gpus", "all", "--json"))
    assert [checks[n]["status"] for n in ("gpu driver", "docker nvidia runtime", "minikube --gpus")] == ["ok"] * 3
    assert tutorial_machine.calls("nvidia-smi") == [["-L"]]
    tutorial_machine.set(minikube_version="v1.31.2", gpus=0)
    checks = checks_of(kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--gpus", "all", "--json"))
    assert (checks["gpu driver"]["status"], checks["minikube --gpus"]["status"]) == ("fail", "fail")


def test_the_table_shows_each_verdict_and_the_fixes(tutorial_machine: FakeTools) -> None:
    tutorial_machine.set(docker="down")
    result = kfinstall(tutorial_machine, "check", "-k", "1.4.0")
    assert result.returncode == 1
    assert "✗" in result.stdout and "✓" in result.stdout
    assert "✗ docker: start Docker" in result.stdout
    assert re.search(r"\b\d+ checks? failed\b", result.stdout)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--memory", "lots"], "--memory 'lots' is not a size"),
        (["--cpus", "0"], "--cpus '0' is not a positive whole number"),
        (["-k", "9.9.9"], "valid releases: v1.4.0, v1.9.1, v1.10.2, v1.11.0, 26.03"),
        (["--profile", "huge"], "valid profiles: minimal, standard, full"),
        (["--gpus", "many"], "--gpus 'many' is not one of all, nvidia, amd"),
        (["--k8s-version", "latest"], "--k8s-version 'latest' is not a version"),
        (["--context", "prod", "--cpus", "4"], "minikube options"),
    ],
)
def test_nonsense_options_are_usage_errors_before_any_tool_runs(
    tutorial_machine: FakeTools, args: list[str], says: str
) -> None:
    result = kfinstall(tutorial_machine, "check", *args)
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert tutorial_machine.calls("minikube") == []


def test_another_pins_file_is_used_with_pins(tutorial_machine: FakeTools, tmp_path: Path) -> None:
    broken = tmp_path / "pins.yaml"
    broken.write_text("releases: []\n")
    result = kfinstall(tutorial_machine, "check", "--pins", str(broken))
    assert result.returncode == 2
    assert f"invalid pins file {broken}" in result.stderr


# ---- --context: an existing cluster (the cluster double, real kubectl) -----------------------------------------


def test_an_existing_cluster_in_range_with_a_default_storageclass_passes_those_checks(
    fake_tools: FakeTools, make_cluster: Any
) -> None:
    cluster = make_cluster(k8s_version="v1.19.3")
    fake_tools.set(kustomize_version="3.2.0")
    result = kfinstall(fake_tools, "check", "-k", "1.4.0", "--context", "minikube", "--json", env=cluster.env)
    checks = checks_of(result)
    assert checks["cluster kubernetes"]["status"] == "ok" and checks["cluster kubernetes"]["found"] == "v1.19.3"
    assert checks["default storageclass"]["status"] == "ok"
    assert checks["tokenrequest api"]["status"] == "ok"
    assert "minikube" not in checks and fake_tools.calls("minikube") == []
    asked = {request["path"] for request in cluster.requests()}
    assert {"/version", "/apis/storage.k8s.io/v1/storageclasses", "/api/v1"} <= asked


def test_an_existing_cluster_outside_the_release_range_fails(fake_tools: FakeTools, make_cluster: Any) -> None:
    cluster = make_cluster(k8s_version="v1.25.0")
    fake_tools.set(kustomize_version="3.2.0")
    result = kfinstall(fake_tools, "check", "-k", "1.4.0", "--context", "minikube", "--json", env=cluster.env)
    assert result.returncode == 1
    assert checks_of(result)["cluster kubernetes"]["status"] == "fail"


def test_a_wrong_tool_override_is_reported_as_such(tutorial_machine: FakeTools, tmp_path: Path) -> None:
    missing = str(tmp_path / "minikube-1.32")
    result = kfinstall(tutorial_machine, "check", "-k", "1.4.0", "--json", env={"KFINSTALL_MINIKUBE": missing})
    assert result.returncode == 1
    assert checks_of(result)["minikube"]["found"] == f"KFINSTALL_MINIKUBE={missing} is not an executable file"
    assert tutorial_machine.calls("minikube") == []


def test_the_service_account_issuer_of_an_existing_cluster_is_compared_with_the_release(
    fake_tools: FakeTools, make_cluster: Any
) -> None:
    fake_tools.set(kustomize_version="5.7.1")
    matching = make_cluster(k8s_version="v1.34.0", service_account_issuer="https://kubernetes.default.svc")
    result = kfinstall(fake_tools, "check", "-k", "1.11.0", "--context", "minikube", "--json", env=matching.env)
    issuer = checks_of(result)["service-account issuer"]
    assert (issuer["status"], issuer["found"]) == ("ok", "https://kubernetes.default.svc")
    other = make_cluster(k8s_version="v1.34.0")  # the double's default: minikube's own issuer
    result = kfinstall(fake_tools, "check", "-k", "1.11.0", "--context", "minikube", "--json", env=other.env)
    issuer = checks_of(result)["service-account issuer"]
    assert (issuer["status"], issuer["found"]) == ("warn", "https://kubernetes.default.svc.cluster.local")
