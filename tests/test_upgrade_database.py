"""Before an upgrade, Pipelines' MySQL database is dumped beside the saved resources (`dump-database`).

The synthetic release (always available) installed with Pipelines, whose `mysql` Deployment is upstream's shape (the
pins' `database`: kubeflow/mysql, container mysql, mysql-secret); the double runs `kubectl exec ... mysqldump` in it
(tests/double/podexec.py) over what its `mysql_databases` knob puts on the claim `mysql-pv-claim`: here a run and an
experiment of the user's. `up --without pipelines` is an upgrade of the component set that removes Pipelines, the
case where the dump matters most; a release upgrade takes the same step (install/steps.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"
USERS_RUNS = {"kubeflow/mysql-pv-claim": {
    "mlpipeline": {"run_details": [{"UUID": "7e1c", "DisplayName": "my-training-run", "Namespace": "team-a"}],
                   "experiments": [{"UUID": "e-1", "Name": "my-experiment"}]},
    "cachedb": {}, "metadb": {}}}  # fmt: skip


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0")
    return {**isolated_env(fake_tools.env, tmp_path), "KFINSTALL_STATE_DIR": str(tmp_path / "state")}


def kubectl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--context", "kubeflow", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip


def set_knob(fake_tools: FakeTools, knob: str, value: object) -> None:
    """Change a scenario knob of the double behind the fake minikube profile `kubeflow`."""
    state_dir = str(fake_tools.double_dir("kubeflow"))
    subprocess.run([sys.executable, "-m", "tests.double", "knobs", "--state-dir", state_dir,
                    f"{knob}={json.dumps(value)}"], check=True, capture_output=True)  # fmt: skip


def install(env: dict[str, str], release: LocalRelease, profile: str) -> None:
    done = kfinstall("up", "--pins", str(release.pins), "-k", release.tag, "--yes", "--profile", profile,
                     "--memory", "12288", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_an_upgrade_dumps_the_pipelines_database_with_the_users_runs_and_says_where(
    env: dict[str, str], synthetic_release: LocalRelease, fake_tools: FakeTools, tmp_path: Path
) -> None:
    install(env, synthetic_release, "standard")
    set_knob(fake_tools, "mysql_databases", USERS_RUNS)  # the user ran a pipeline
    plan = kfinstall("plan", "--pins", str(synthetic_release.pins), "--without", "pipelines", env=env)
    assert plan.returncode == 0, plan.stderr
    assert "dump-database" in plan.stdout
    assert "pipelines's mlpipeline, cachedb, metadb (MySQL in kubeflow/mysql) dumped" in plan.stdout

    done = kfinstall("up", "--pins", str(synthetic_release.pins), "--without", "pipelines", "--yes", env=env)

    assert done.returncode == 0, done.stderr
    dumps = list((tmp_path / "state").glob("backups/kubeflow/*-v0.1.0-to-v0.1.0/pipelines-mysql.sql"))
    assert len(dumps) == 1, list((tmp_path / "state").rglob("*"))
    dump = dumps[0].read_text()
    for database in ("mlpipeline", "cachedb", "metadb"):
        assert f"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{database}`" in dump and f"USE `{database}`;" in dump
    assert "INSERT INTO `run_details` VALUES ('7e1c','my-training-run','team-a');" in dump
    assert "INSERT INTO `experiments` VALUES ('e-1','my-experiment');" in dump
    announced = " ".join(done.stderr.split())
    assert "dumped the pipelines database (mlpipeline, cachedb, metadb) from pod kubeflow/mysql-" in announced
    assert f"to {dumps[0]} (" in announced
    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert "--defaults-extra-file=/dev/stdin --single-transaction --databases mlpipeline cachedb metadb" in logs
    assert "my-training-run" not in logs and "written to" in logs  # the dump went to its file, not the log
    readme = (dumps[0].parent / "README.txt").read_text()
    assert "mysql -u root < FILE.sql" in readme
    assert kubectl(env, "get", "deployment", "mysql", "-n", "kubeflow").returncode == 1  # then Pipelines went


def test_an_upgrade_of_an_install_without_pipelines_has_no_dump_step(
    env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    install(env, synthetic_release, "minimal")
    plan = kfinstall("plan", "--pins", str(synthetic_release.pins), "--without", "katib", "--json", env=env)
    assert plan.returncode == 0, plan.stderr
    document = json.loads(plan.stdout)
    steps = [step["name"] for step in document["steps"]]
    assert "backup-user-data" in steps and "dump-database" not in steps
    assert document["upgrade"]["database_dumps"] == []


def test_a_failing_dump_stops_the_upgrade_before_anything_changes_with_the_reason_and_a_hint(
    env: dict[str, str], synthetic_release: LocalRelease, fake_tools: FakeTools
) -> None:
    install(env, synthetic_release, "standard")
    set_knob(fake_tools, "image_pull_backoff", ["docker.io/kfsynthetic/mysql:*"])
    assert kubectl(env, "delete", "pod", "-n", "kubeflow", "-l", "app=mysql", "--wait=false").returncode == 0

    done = kfinstall("up", "--pins", str(synthetic_release.pins), "--without", "pipelines", "--yes", env=env)

    assert done.returncode == 1, done.stderr
    said = " ".join(done.stderr.split())
    assert "cannot dump the pipelines database (mlpipeline, cachedb, metadb) (pod kubeflow/mysql-" in said
    assert 'unable to upgrade connection: container not found ("mysql")' in said
    assert "nothing was changed: make the mysql pod in kubeflow run" in said
    assert "log:" in said and "Traceback" not in said
    assert kubectl(env, "get", "deployment", "ml-pipeline", "-n", "kubeflow", "-o", "name").returncode == 0
    record = kubectl(env, "get", "configmap", "kfinstall-install", "-n", "kube-system", "-o",
                     "jsonpath={.data.install\\.json}")  # fmt: skip
    assert json.loads(record.stdout)["upgrading_from"] is None  # not even on record as an upgrade yet


def give_mysql_a_password(env: dict[str, str], password: str) -> None:
    """The user gave MySQL a root password, and the Pipelines servers the same (its Secret)."""
    add_env = [{"op": "add", "path": "/spec/template/spec/containers/0/env/-",
                "value": {"name": "MYSQL_ROOT_PASSWORD", "value": password}}]  # fmt: skip
    env_added = kubectl(env, "patch", "deployment", "mysql", "-n", "kubeflow", "--type=json", "-p", json.dumps(add_env))
    assert env_added.returncode == 0, env_added.stderr
    patched = kubectl(env, "patch", "secret", "mysql-secret", "-n", "kubeflow", "--type=merge", "-p",
                      json.dumps({"stringData": {"password": password}}))  # fmt: skip
    assert patched.returncode == 0, patched.stderr
    assert kubectl(env, "rollout", "status", "deployment/mysql", "-n", "kubeflow", "--timeout=60s").returncode == 0


def test_the_dump_logs_in_with_the_password_of_mysql_secret_on_no_command_line_and_the_log_never_shows_it(
    env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path, fake_tools: FakeTools
) -> None:
    install(env, synthetic_release, "standard")
    password = "s3cret-db-pass"
    give_mysql_a_password(env, password)

    done = kfinstall("up", "--pins", str(synthetic_release.pins), "--without", "pipelines", "--yes", env=env)

    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "state").glob("backups/kubeflow/*/pipelines-mysql.sql"))
    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert "--defaults-extra-file=/dev/stdin" in logs and "bytes not logged>" in logs
    assert password not in logs and password not in done.stderr
    requests = (fake_tools.double_dir("kubeflow") / "requests.jsonl").read_text()
    assert "/exec" in requests and "command=mysqldump" in requests
    assert password not in requests  # the exec's command line: what `ps` shows on the host and in the pod


def test_a_password_with_quotes_a_hash_and_backslashes_logs_in_as_it_is(
    env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    """An option file reads `#` outside quotes as a comment and undoes escapes (tests/double/podexec.py has the
    source): kfinstall's file must carry any password through unchanged."""
    install(env, synthetic_release, "standard")
    give_mysql_a_password(env, "p#ss \"w\\s'd\\")

    done = kfinstall("up", "--pins", str(synthetic_release.pins), "--without", "pipelines", "--yes", env=env)

    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "state").glob("backups/kubeflow/*/pipelines-mysql.sql"))
