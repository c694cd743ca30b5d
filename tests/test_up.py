"""`kfinstall up` end to end: the real CLI, the fake minikube, the cluster double, the real kubectl and kustomize.

The synthetic manifest set (always available) carries Kubeflow's races: CRDs with their resources in one build,
webhooks that refuse objects until their Deployment is up, a build whose objects precede their namespace.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kfinstall.kube.classify import parse_klog
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease, checkout_with_broken_katib

#: Short but real races: CRDs take a moment to be established, workloads a moment to become ready.
RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


@pytest.fixture(scope="module")
def sized_minimal_install(module_fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path_factory) -> FakeTools:
    """One `up --profile minimal --cpus 6 --memory 10g` for the module's tests that only read what it did."""
    module_fake_tools.set(double_args=RACY, minikube_version="v1.37.0")
    env = isolated_env(module_fake_tools.env, tmp_path_factory.mktemp("sized-minimal-install"))
    result = up(env, synthetic_release, "--profile", "minimal", "--cpus", "6", "--memory", "10g")
    assert result.returncode == 0, result.stderr[-3000:]
    return module_fake_tools


def up(env: dict[str, str], release: LocalRelease, *args: str) -> subprocess.CompletedProcess[str]:
    return kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", *args, env=env)


def kubectl_json(fake_tools: FakeTools, *args: str) -> dict:
    result = fake_tools.run("kubectl", "--context", "kubeflow", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_up_installs_every_component_until_ready(fake_tools: FakeTools, env, synthetic_release) -> None:
    result = up(env, synthetic_release)
    assert result.returncode == 0, result.stderr
    assert "Kubeflow v0.1.0 is ready (17 installed, 0 unchanged" in result.stderr
    deployments = kubectl_json(fake_tools, "get", "deployments", "-A")["items"]
    assert {d["metadata"]["name"] for d in deployments} >= {"cert-manager-webhook", "katib-controller", "ml-pipeline"}
    assert all(d["status"].get("availableReplicas") == 1 for d in deployments)


def test_up_starts_minikube_with_the_release_flags(sized_minimal_install: FakeTools) -> None:
    (start,) = [call for call in sized_minimal_install.calls("minikube") if call[:1] == ["start"]]
    assert start[:3] == ["start", "-p", "kubeflow"]
    assert {
        "--kubernetes-version=v1.34.0",
        "--cpus=6",
        "--memory=10240mb",
        "--extra-config=apiserver.service-account-signing-key-file=/var/lib/minikube/certs/sa.key",
        "--extra-config=apiserver.service-account-issuer=https://kubernetes.default.svc",
    } <= set(start)


def test_objects_are_labelled_with_their_component(sized_minimal_install: FakeTools) -> None:
    selector = "kfinstall.dev/component=katib"
    katib = kubectl_json(sized_minimal_install, "get", "deployments", "-A", "-l", selector)["items"]
    assert sorted(d["metadata"]["name"] for d in katib) == ["katib-controller", "katib-mysql", "katib-ui"]


def test_a_second_up_changes_nothing(fake_tools: FakeTools, env, synthetic_release) -> None:
    assert up(env, synthetic_release, "--profile", "minimal").returncode == 0
    again = up(env, synthetic_release, "--profile", "minimal")
    assert again.returncode == 0, again.stderr
    assert "(0 installed, 13 unchanged" in again.stderr
    assert "reusing running minikube profile 'kubeflow'" in again.stderr
    assert len([call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]) == 1


def test_without_a_component_it_is_never_built_nor_applied(fake_tools: FakeTools, env, synthetic_release) -> None:
    result = up(env, synthetic_release, "--profile", "minimal", "--without", "katib")
    assert result.returncode == 0, result.stderr
    built = [call[-1] for call in fake_tools.calls("kustomize") if call[:1] == ["build"]]
    assert built and not [path for path in built if "katib" in path]
    assert kubectl_json(fake_tools, "get", "deployments", "-A", "-l", "kfinstall.dev/component=katib")["items"] == []


def test_an_unknown_component_is_a_usage_error_listing_the_valid_ones(env, synthetic_release) -> None:
    result = up(env, synthetic_release, "--without", "katibb")
    assert result.returncode == 2
    assert "unknown component katibb" in result.stderr
    assert "valid components: cert-manager, istio" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_release_is_a_usage_error_listing_the_valid_ones(env, synthetic_release) -> None:
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v9.9.9", "--yes", env=env)
    assert result.returncode == 2
    assert "valid releases: v0.1.0" in result.stderr


def test_a_build_failure_names_the_component_and_path_before_touching_the_cluster(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    checkout = checkout_with_broken_katib(synthetic_release, tmp_path)
    result = up(env, synthetic_release, "--manifests-dir", str(checkout), "--profile", "minimal")
    assert result.returncode == 1
    assert "building katib failed at apps/katib/base" in result.stderr
    assert "missing.yaml" in result.stderr
    assert not [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    assert not [line for line in _log(env) if "apply --server-side" in line]


def _log(env: dict[str, str]) -> list[str]:
    return (Path(env["KFINSTALL_LOG_DIR"]) / "latest.log").read_text().splitlines()


def test_v1_4_0_installs_on_kubernetes_1_19_whose_server_side_apply_needs_port_protocols(
    fake_tools: FakeTools, bundle_releases, shared_builds, tmp_path: Path
) -> None:
    """v1.4.0's cert-manager and admission webhook have ports without `protocol`: 1.19 refuses them server-side
    (kubernetes-sigs/structured-merge-diff#130, cert-manager/cert-manager#4020), so kfinstall names TCP, the default."""
    fake_tools.set(double_args=RACY, minikube_version="v1.32.0", kustomize_version="3.2.0")
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    others = "istio dex oidc-authservice kubeflow-roles kubeflow-istio-resources katib profiles-kfam"
    without = [arg for c in f"{others} central-dashboard notebooks user-namespace".split() for arg in ("--without", c)]

    result = up(env, bundle_releases["v1.4.0"], "--profile", "minimal", *without)

    assert result.returncode == 0, result.stderr
    assert "Kubeflow v1.4.0 is ready (3 installed" in result.stderr
    webhook = kubectl_json(fake_tools, "get", "service", "-n", "kubeflow", "admission-webhook-service")
    assert [port["protocol"] for port in webhook["spec"]["ports"]] == ["TCP"]
    deployment = kubectl_json(fake_tools, "get", "deployment", "-n", "cert-manager", "cert-manager-webhook")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] == "TCP"


def test_a_wait_timeout_names_the_pod_and_why(fake_tools: FakeTools, synthetic_release, tmp_path: Path) -> None:
    fake_tools.set(double_args=RACY + " --set 'image_pull_backoff=[\"docker.io/kfsynthetic/mysql:*\"]'")
    env = isolated_env(fake_tools.env, tmp_path)
    result = up(env, synthetic_release, "--profile", "minimal", "--timeout", "15")
    assert result.returncode == 1
    assert "katib: not ready after 15s" in result.stderr
    assert "deployment/katib-mysql -n kubeflow" in result.stderr
    assert "ImagePullBackOff" in result.stderr and "docker.io/kfsynthetic/mysql:8.0.26" in result.stderr
    assert "log: " in result.stderr


def test_json_output_is_one_event_per_line(fake_tools: FakeTools, env, synthetic_release) -> None:
    result = up(env, synthetic_release, "--profile", "minimal", "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {event["phase"] for event in events} >= {"step", "applying", "ready", "done"}
    assert {event["component"] for event in events if event["phase"] == "ready"} >= {"katib", "istio"}


def test_verbose_shows_the_commands_being_run(fake_tools: FakeTools, env, synthetic_release) -> None:
    result = up(env, synthetic_release, "--profile", "minimal", "--verbose")
    assert result.returncode == 0, result.stderr
    assert "$ minikube start -p kubeflow" in result.stderr
    assert "apply --server-side --force-conflicts --field-manager=kfinstall-katib -f -" in result.stderr


def test_an_interrupted_up_stops_cleanly_and_a_rerun_resumes(
    fake_tools: FakeTools, synthetic_release, tmp_path: Path
) -> None:
    fake_tools.set(double_args="--set crd_establish_delay=0.2 --set ready_delay=0.3 --set seed=7"
                   " --set 'ready_delays={\"kubeflow/katib-*\":10}'")  # fmt: skip
    env = isolated_env(fake_tools.env, tmp_path)
    args = [sys.executable, "-m", "kfinstall", "up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes"]
    process = subprocess.Popen([*args, "--profile", "minimal"], env=env, stderr=subprocess.PIPE, text=True)
    seen = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        if "central-dashboard" in line and "ready" in line:
            break
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "run the same `kfinstall up` again to resume" in "".join(seen) + rest
    result = up(env, synthetic_release, "--profile", "minimal", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    skipped = int(re.search(r"(\d+) unchanged", result.stderr).group(1))  # type: ignore[union-attr]
    assert skipped >= 5


def test_an_api_version_no_crd_serves_fails_at_once_naming_the_component(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    experiment = "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: demo\n  namespace: kubeflow\n"
    checkout = _checkout_with_katib_extra(synthetic_release, tmp_path, experiment)
    result = up(env, synthetic_release, "--manifests-dir", str(checkout), "--profile", "minimal", "--timeout", "120")
    assert result.returncode == 1
    assert "katib: this cluster does not serve Experiment (kubeflow.org/v1beta1)" in result.stderr
    assert "still failing after" not in result.stderr  # it did not wait for the timeout


def test_a_kubernetes_too_new_for_the_release_fails_at_once(
    fake_tools: FakeTools, bundle_releases, shared_builds, tmp_path: Path
) -> None:
    """v1.4.0's v1beta1 CRDs on Kubernetes 1.34 (checks skipped, as a user might): no retrying until the timeout."""
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0", kustomize_version="3.2.0")
    env = isolated_env(fake_tools.env, tmp_path, builds=shared_builds)
    release = bundle_releases["v1.4.0"]
    result = up(env, release, "--profile", "minimal", "--k8s-version", "v1.34.0", "--skip-checks")
    assert result.returncode == 1
    assert "does not serve CustomResourceDefinition (apiextensions.k8s.io/v1beta1)" in result.stderr


def test_an_object_the_cluster_rejects_fails_at_once_with_kubectls_message(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Katib_Config\n  namespace: kubeflow\n"
    checkout = _checkout_with_katib_extra(synthetic_release, tmp_path, config)
    result = up(env, synthetic_release, "--manifests-dir", str(checkout), "--profile", "minimal", "--timeout", "120")
    assert result.returncode == 1
    assert 'katib: the cluster rejected it: The ConfigMap "Katib_Config" is invalid: metadata.name' in result.stderr
    assert "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]" in result.stderr  # not markup
    assert "still failing after" not in result.stderr


def test_an_invalid_object_with_timeout_in_its_name_fails_at_once(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    """An invalid ConfigMap named `idle_timeout`: the word in a name is no timeout to wait out (issue 19)."""
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: idle_timeout\n  namespace: kubeflow\n"
    checkout = _checkout_with_katib_extra(synthetic_release, tmp_path, config)
    result = up(env, synthetic_release, "--manifests-dir", str(checkout), "--profile", "minimal", "--timeout", "120")
    assert result.returncode == 1
    assert 'katib: the cluster rejected it: The ConfigMap "idle_timeout" is invalid: metadata.name' in result.stderr
    assert "still failing after" not in result.stderr
    assert not re.search(r"katib +retrying +timed out", result.stderr)  # not even one retry for "timeout"


def _legacy_discovery_crd(index: int) -> dict:
    group = f"g{index}.throttling.example.com"
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"things.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "things", "singular": "thing", "kind": "Thing", "listKind": "ThingList"},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
    }


@pytest.mark.timeout(600)
def test_a_klog_throttling_notice_before_a_crd_race_is_retried(
    fake_tools: FakeTools, synthetic_release, tmp_path: Path
) -> None:
    """The real kubectl prints client-go's throttling notice (`I1201 ... "Waited before sending request" ...`) when
    its discovery of a cluster with many API groups waits over a second for its rate limiter (QPS 50, burst 300:
    client-go rest/request.go, kubectl's discovery flags), i.e. on a server without aggregated discovery. Here that
    notice precedes a race kubectl reports in the same run: katib's build has a Profile, whose CRD comes with
    profiles-kfam, built only once katib has failed (a build gate). The notice carries today's date, so from
    October to December this is the bug of klog headers read as `I0`/`W0` only; tests/test_classify.py covers
    every month."""
    gate = tmp_path / "profiles-built"
    fake_tools.set(
        double_args=RACY + " --set aggregated_discovery=false",
        minikube_version="v1.37.0",
        kustomize_build_gate=f"*apps/profiles/base*={gate}",
    )
    started = fake_tools.run("minikube", "start", "-p", "kubeflow", "--kubernetes-version=v1.34.0", "--cpus=4",
                             "--memory=8192")  # fmt: skip
    assert started.returncode == 0, started.stderr
    api = fake_tools.apiserver("kubeflow")
    assert api is not None
    for index in range(600):  # 600 group versions: twice the discovery burst, so the last ones wait seconds
        request = urllib.request.Request(
            f"{api['url']}/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            data=json.dumps(_legacy_discovery_crd(index)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
    profile = "apiVersion: kubeflow.org/v1\nkind: Profile\nmetadata:\n  name: throttled\nspec:\n  owner: {kind: User, name: throttled@example.com}\n"  # noqa: E501
    checkout = _checkout_with_katib_extra(synthetic_release, tmp_path, profile)
    env = isolated_env(fake_tools.env, tmp_path)
    args = ["--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal"]
    command = [sys.executable, "-m", "kfinstall", "up", *args, "--manifests-dir", str(checkout), "--timeout", "300"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        log = Path(env["KFINSTALL_LOG_DIR"]) / "latest.log"
        # in one kubectl run's output (its lines are indented in the log): the notice, then the race
        race = re.compile(r'^ {4}(I\d{4} .*"Waited before sending request".*)\n(?: {4}.*\n)*? {4}(error: )?resource '
                          r'mapping not found.*no matches for kind "Profile"', re.MULTILINE)  # fmt: skip
        deadline = time.monotonic() + 300
        while not (log.is_file() and race.search(log.read_text())) and process.poll() is None:
            assert time.monotonic() < deadline, "katib's apply never met the Profile race"
            time.sleep(0.2)
        gate.touch()  # profiles-kfam may build now: its CRD ends the race
        _, stderr = process.communicate(timeout=300)
    finally:
        gate.touch()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert re.search(r"katib +retrying +CRD not established yet", stderr)
    notice = race.search(log.read_text())
    assert notice is not None
    assert parse_klog(notice.group(1)) is not None  # kubectl's header, of whatever month it is today


def test_a_value_of_a_lone_equals_sign_which_kustomize_prints_unquoted_is_installed_as_that_string(
    fake_tools: FakeTools, env, synthetic_release, tmp_path: Path
) -> None:
    """The Prometheus operator's CRDs list `=` among matcher types; kustomize writes it bare (`- =`), which YAML
    1.1 resolvers (PyYAML's) read as the `tag:yaml.org,2002:value` type and cannot construct."""
    config = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: matchers\n  namespace: kubeflow\n"
        'data:\n  equal: "="\n  regex: "=~"\n'
    )
    checkout = _checkout_with_katib_extra(synthetic_release, tmp_path, config)
    built = subprocess.run(["kubectl", "kustomize", str(checkout / "apps/katib/base")], env=fake_tools.env,
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "  equal: =\n" in built  # the real kustomize output this test is about
    result = up(env, synthetic_release, "--manifests-dir", str(checkout), "--profile", "minimal", "--timeout", "120")
    assert result.returncode == 0, result.stderr
    stored = kubectl_json(fake_tools, "get", "configmap", "matchers", "-n", "kubeflow")
    assert stored["data"] == {"equal": "=", "regex": "=~"}


@pytest.mark.parametrize("spelling", ["1.34.0", "V1.34.0"])
def test_a_rerun_with_the_same_k8s_version_spelt_without_the_v_reuses_the_cluster(
    fake_tools: FakeTools, env, synthetic_release, spelling: str
) -> None:
    """minikube records `--kubernetes-version=1.34.0` as v1.34.0; the identical re-run must not call that another
    version (and suggest deleting a healthy cluster)."""
    first = up(env, synthetic_release, "--profile", "minimal", "--k8s-version", spelling)
    assert first.returncode == 0, first.stderr
    (start,) = [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    assert "--kubernetes-version=v1.34.0" in start
    again = up(env, synthetic_release, "--profile", "minimal", "--k8s-version", spelling)
    assert again.returncode == 0, again.stderr
    assert "runs Kubernetes" not in again.stderr
    assert len([call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]) == 1


def test_a_rerun_with_another_kubernetes_version_is_still_refused(fake_tools: FakeTools, env, synthetic_release):
    assert up(env, synthetic_release, "--profile", "minimal", "--k8s-version", "1.34.0").returncode == 0
    again = up(env, synthetic_release, "--profile", "minimal", "--k8s-version", "1.33.2")
    assert again.returncode == 2
    assert "it runs Kubernetes v1.34.0, not v1.33.2" in again.stderr


def _checkout_with_katib_extra(release: LocalRelease, tmp_path: Path, manifest: str) -> Path:
    """A local checkout of `release` whose katib build also emits `manifest` (for --manifests-dir)."""
    checkout = tmp_path / "manifests"
    subprocess.run(["git", "clone", "--quiet", release.repo_url, str(checkout)], check=True)
    katib = checkout / "apps/katib/base"
    (katib / "extra.yaml").write_text(manifest)
    (katib / "kustomization.yaml").write_text((katib / "kustomization.yaml").read_text() + "- extra.yaml\n")
    return checkout
