"""`kfinstall up -k NEWER` over an install of the real releases on the double: an upgrade in place.

v1.10.2 -> v1.11.0 (Kubernetes v1.32.0 -> v1.34.0, upgraded in place by minikube) and v1.11.0 -> 26.03, minimal
profile: each ends all-ready; no object kfinstall applied for the old release remains unless the new build has it
(or it holds data); the user's Profile, Notebook, PodDefault and claim survive with their uids and were saved as
YAML first; a downgrade is refused with exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT, needs_bundle
from tests.releases import release_tools, unready_workloads

RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"
USER_NAMESPACE = "kubeflow-user-example-com"

USER_OBJECTS = f"""apiVersion: kubeflow.org/v1
kind: Profile
metadata: {{name: team-a}}
spec: {{owner: {{kind: User, name: alice@example.com}}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: workspace-nb, namespace: {USER_NAMESPACE}}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 5Gi}}}}}}
---
apiVersion: kubeflow.org/v1
kind: Notebook
metadata: {{name: nb, namespace: {USER_NAMESPACE}}}
spec:
  template:
    spec:
      containers: [{{name: nb, image: kubeflownotebookswg/jupyter-scipy:v1.10.0}}]
      volumes: [{{name: workspace, persistentVolumeClaim: {{claimName: workspace-nb}}}}]
---
apiVersion: kubeflow.org/v1alpha1
kind: PodDefault
metadata: {{name: add-secret, namespace: {USER_NAMESPACE}}}
spec: {{desc: mine, selector: {{matchLabels: {{add-secret: "true"}}}}}}
"""
USER_KINDS = [("profile", "team-a", None), ("pvc", "workspace-nb", USER_NAMESPACE),
              ("notebook", "nb", USER_NAMESPACE), ("poddefault", "add-secret", USER_NAMESPACE)]  # fmt: skip


def kubectl(fake_tools: FakeTools, *args: str, stdin: str | None = None) -> str:
    import subprocess

    result = subprocess.run(["kubectl", "--context", "kubeflow", *args], input=stdin, env=fake_tools.env,
                            capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def uids(fake_tools: FakeTools) -> dict[str, str]:
    found = {}
    for kind, name, namespace in USER_KINDS:
        where = ("-n", namespace) if namespace else ()
        found[f"{kind}/{name}"] = kubectl(fake_tools, "get", kind, name, *where, "-o", "jsonpath={.metadata.uid}")
    return found


def labelled(fake_tools: FakeTools) -> list[dict]:
    types = kubectl(fake_tools, "api-resources", "--verbs=list", "-o", "name").split()
    types = [t for t in types if not t.startswith("events")]
    listing = kubectl(fake_tools, "get", ",".join(types), "-A", "-l", "kfinstall.dev/component", "-o", "json")
    return [o for o in json.loads(listing)["items"] if not o["metadata"].get("ownerReferences")]


def unready(fake_tools: FakeTools) -> list[str]:
    items = json.loads(kubectl(fake_tools, "get", "deployments,statefulsets,daemonsets", "-A", "-o", "json"))["items"]
    return unready_workloads(items)


def install(fake_tools: FakeTools, env: dict[str, str], pins: Path, tag: str, *extra: str) -> None:
    done = kfinstall("up", "--pins", str(pins), "-k", tag, "--yes", "--timeout", "400", *extra, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    assert f"Kubeflow {tag} is ready" in done.stderr


def interrupt_once_installing(fake_tools: FakeTools, env: dict[str, str], pins: Path, new: str) -> None:
    """`up -k NEW` stopped by Ctrl-C while it applies the new release (Katib held unready meanwhile): the record
    still says it upgrades, so the next `up` resumes the upgrade rather than taking it as done."""
    import signal
    import subprocess
    import sys
    import time

    knobs = [sys.executable, "-m", "tests.double", "knobs", "--state-dir", str(fake_tools.double_dir("kubeflow"))]
    subprocess.run([*knobs, 'ready_delays={"kubeflow/katib-*": 600}'], check=True, capture_output=True, cwd=REPO_ROOT)
    output = Path(env["KFINSTALL_LOG_DIR"]).parent / "interrupted.txt"
    with output.open("w") as out:
        run = subprocess.Popen([sys.executable, "-m", "kfinstall", "up", "--pins", str(pins), "-k", new, "--yes"],
                               env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip

    def katib_applied_anew() -> bool:  # the new release's Katib is applied and held unready: mid-install
        found = subprocess.run(["kubectl", "--context", "kubeflow", "get", "deployment", "katib-controller", "-n",
                                "kubeflow", "-o", "jsonpath={.metadata.labels.kfinstall\\.dev/release}"],
                               env=env, capture_output=True, text=True, check=False)  # fmt: skip
        return found.stdout == new

    deadline = time.monotonic() + 600
    while not katib_applied_anew():
        assert run.poll() is None, output.read_text()
        assert time.monotonic() < deadline, "the upgrade never reached install-components"
        time.sleep(0.1)
    run.send_signal(signal.SIGINT)
    assert run.wait(timeout=120) == 130, output.read_text()
    record = json.loads(kubectl(fake_tools, "get", "configmap", "kfinstall-install", "-n", "kube-system",
                                "-o", "jsonpath={.data.install\\.json}"))  # fmt: skip
    assert record["release"] == new and record["upgrading_from"]
    subprocess.run([*knobs, "ready_delays={}"], check=True, capture_output=True, cwd=REPO_ROOT)


def upgrade_and_check(
    fake_tools: FakeTools, env: dict[str, str], pins: Path, old: str, new: str, tmp_path: Path,
    interrupted: bool = False, profile: str = "minimal", without: tuple[str, ...] = (),
    old_without: tuple[str, ...] = (),
) -> str:  # fmt: skip
    """Install `old` (`old_without`: its components left out), add the user's objects, upgrade to `new`
    (`interrupted`: first an upgrade stopped half-way); the checks every upgrade must pass. Returns the (last)
    upgrade's stderr."""
    install(fake_tools, env, pins, old, "--profile", profile, *old_without)
    kubectl(fake_tools, "apply", "--server-side", "-f", "-", stdin=USER_OBJECTS)
    before = uids(fake_tools)
    old_objects = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in labelled(fake_tools)}

    asked = kfinstall(
        "up", "--pins", str(pins), "-k", new, *without, env=env
    )  # no terminal, no --yes: refused, unchanged
    assert asked.returncode == 2, asked.stderr
    assert "upgrades the install (it deletes objects) and there is no terminal to ask on" in asked.stderr

    plan = kfinstall("plan", "--pins", str(pins), "-k", new, *without, env=env)
    assert plan.returncode == 0, plan.stderr
    assert f"Upgrade from {old} to {new}" in plan.stdout
    assert "backup-user-data" in plan.stdout and "prune" in plan.stdout
    assert "to prune (kfinstall's labels, absent from the new build): " in plan.stdout
    listed = kfinstall("plan", "--pins", str(pins), "-k", new, *without, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    to_prune = json.loads(listed.stdout)["upgrade_plan"]["prune"]
    assert to_prune  # each release drops objects of the one before
    if interrupted:
        interrupt_once_installing(fake_tools, env, pins, new)

    done = kfinstall("up", "--pins", str(pins), "-k", new, *without, "--yes", "--timeout", "400", env=env,
                     timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert f"Kubeflow {new} is ready" in done.stderr
    assert not unready(fake_tools)
    assert uids(fake_tools) == before  # the user's objects were never deleted
    after = labelled(fake_tools)
    stale = [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in after
        if o["metadata"]["labels"].get("kfinstall.dev/release") != new
        and o["kind"] not in ("PersistentVolumeClaim", "Namespace")  # kept: they may hold the user's data
    ]
    assert not stale, stale
    gone = old_objects - {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in after}
    pruned = {entry.split("/", 1)[1].split(" -n ")[0] for entry in to_prune}
    assert pruned <= {name for _, _, name in gone}, pruned - {name for _, _, name in gone}  # as plan listed

    saved = sorted((Path(env["KFINSTALL_STATE_DIR"]) / "backups" / "kubeflow").iterdir())[-1]
    assert saved.name.endswith(f"-{old}-to-{new}")
    files = {path.name: yaml.safe_load(path.read_text()) for path in saved.glob("*.yaml")}
    names = {(item["kind"], item["metadata"]["name"]) for doc in files.values() for item in doc["items"]}
    assert {("Profile", "team-a"), ("Notebook", "nb"), ("PodDefault", "add-secret"),
            ("PersistentVolumeClaim", "workspace-nb")} <= names  # fmt: skip
    assert not any("uid" in item["metadata"] for doc in files.values() for item in doc["items"])
    assert "saved " in done.stderr and str(saved) in done.stderr
    return done.stderr


@needs_bundle
@pytest.mark.timeout(1500)
def test_v1_10_2_upgrades_to_v1_11_0_in_place_with_kubernetes_and_the_users_objects(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path
) -> None:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0", **release_tools("v1.11.0"))
    env = {
        **isolated_env(fake_tools.env, tmp_path, builds=shared_builds),
        "KFINSTALL_STATE_DIR": str(tmp_path / "state"),
    }
    pins = bundle_releases["v1.11.0"].pins

    said = upgrade_and_check(fake_tools, env, pins, "v1.10.2", "v1.11.0", tmp_path)

    starts = [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    assert [next(a for a in s if a.startswith("--kubernetes-version=")) for s in starts] == [
        "--kubernetes-version=v1.32.0", "--kubernetes-version=v1.34.0"]  # fmt: skip
    assert json.loads(kubectl(fake_tools, "get", "--raw", "/version"))["gitVersion"] == "v1.34.0"
    assert "upgraded minikube profile 'kubeflow' in place to Kubernetes v1.34.0" in said
    assert "upgrade note: Pipelines: minio is replaced by seaweedfs" in said

    back = kfinstall("up", "--pins", str(pins), "-k", "v1.10.2", "--yes", env=env)
    assert back.returncode == 2
    assert "holds Kubeflow v1.11.0; v1.10.2 is older, and kfinstall does not downgrade" in back.stderr


@needs_bundle
@pytest.mark.timeout(1500)
def test_v1_11_0_upgrades_to_26_03_and_an_interrupted_upgrade_resumes(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path
) -> None:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0", **release_tools("26.03"))
    env = {
        **isolated_env(fake_tools.env, tmp_path, builds=shared_builds),
        "KFINSTALL_STATE_DIR": str(tmp_path / "state"),
    }
    pins = bundle_releases["26.03"].pins

    said = upgrade_and_check(fake_tools, env, pins, "v1.11.0", "26.03", tmp_path, interrupted=True)

    assert "pruning" in said  # the resumed run still pruned what v1.11.0 had and 26.03 has not
    starts = [call for call in fake_tools.calls("minikube") if call[:1] == ["start"]]
    assert len(starts) == 1  # both releases run on Kubernetes v1.34.0: no upgrade of the cluster
    record = json.loads(kubectl(fake_tools, "get", "configmap", "kfinstall-install", "-n", "kube-system",
                                "-o", "jsonpath={.data.install\\.json}"))  # fmt: skip
    assert record["release"] == "26.03" and record["upgrading_from"] is None


@needs_bundle
@pytest.mark.timeout(1500)
def test_v1_10_2_standard_upgrades_to_v1_11_0_deleting_minio_and_keeping_the_pipelines_volumes(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path
) -> None:
    """v1.11.0's Pipelines and Trainer need the network to build: the offline standard profile leaves them out,
    so Pipelines (with minio, which v1.11.0's notes delete) and the Training Operator are removed."""
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0", **release_tools("v1.11.0"))
    env = {
        **isolated_env(fake_tools.env, tmp_path, builds=shared_builds),
        "KFINSTALL_STATE_DIR": str(tmp_path / "state"),
    }
    pins = bundle_releases["v1.11.0"].pins
    without = ("--profile", "standard", "--without", "pipelines", "--without", "trainer")

    said = upgrade_and_check(fake_tools, env, pins, "v1.10.2", "v1.11.0", tmp_path, profile="standard", without=without)

    assert (
        "deleting deployment.apps/minio -n kubeflow: Pipelines' artifact store minio is replaced by seaweedfs" in said
    )
    assert "kept persistentvolumeclaim/minio-pvc -n kubeflow" in said  # the artifacts, for the user to copy
    assert "kept persistentvolumeclaim/mysql-pv-claim -n kubeflow" in said  # KFP's database
    for kind, name in [("deployment", "minio"), ("deployment", "ml-pipeline"), ("deployment", "training-operator")]:
        shown = kubectl(fake_tools, "get", kind, "-n", "kubeflow", "-o", "jsonpath={.items[*].metadata.name}")
        assert name not in shown.split(), name
    claims = kubectl(fake_tools, "get", "pvc", "-n", "kubeflow", "-o", "jsonpath={.items[*].metadata.name}").split()
    assert {"minio-pvc", "mysql-pv-claim"} <= set(claims)
    # before Pipelines went, its database was dumped beside the saved resources (the pins' database of v1.10.2)
    saved = sorted((Path(env["KFINSTALL_STATE_DIR"]) / "backups" / "kubeflow").iterdir())[-1]
    dump = (saved / "pipelines-mysql.sql").read_text()
    assert all(f"USE `{database}`;" in dump for database in ("mlpipeline", "cachedb", "metadb"))
    assert "Distrib 8.0.26" in dump  # mysqldump of v1.10.2's gcr.io/ml-pipeline/mysql:8.0.26 container
    announced = " ".join(said.split())
    assert "dumped the pipelines database (mlpipeline, cachedb, metadb) from pod kubeflow/mysql-" in announced


@needs_bundle
@pytest.mark.timeout(1500)
def test_v1_11_0_standard_upgrades_to_26_03_with_the_offline_buildable_standard_components(
    fake_tools: FakeTools, bundle_releases, shared_builds: Path, tmp_path: Path
) -> None:
    """Both releases' Pipelines and Trainer need the network to build: the offline standard set leaves them out
    of both installs (#17: "minimal and the offline-buildable standard components")."""
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0", **release_tools("26.03"))
    env = {
        **isolated_env(fake_tools.env, tmp_path, builds=shared_builds),
        "KFINSTALL_STATE_DIR": str(tmp_path / "state"),
    }
    pins = bundle_releases["26.03"].pins
    offline = ("--without", "pipelines", "--without", "trainer")

    said = upgrade_and_check(fake_tools, env, pins, "v1.11.0", "26.03", tmp_path, profile="standard",
                             without=("--profile", "standard", *offline), old_without=offline)  # fmt: skip

    assert "upgrade note: Profiles + KFAM move to applications/profiles/pss" in " ".join(said.split())
    assert "dumped the" not in said  # no Pipelines installed: no database to dump
    for component in ("katib", "tensorboard", "volumes-web-app"):
        shown = kubectl(fake_tools, "get", "deployments", "-A", "-l", f"kfinstall.dev/component={component}", "-o",
                        "jsonpath={.items[*].metadata.labels.kfinstall\\.dev/release}")  # fmt: skip
        assert shown.split() and set(shown.split()) == {"26.03"}, (component, shown)
