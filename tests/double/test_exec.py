"""`kubectl exec` against the double (tests/double/podexec.py): the real kubectl, over WebSocket v5.

A MySQL container runs a fake `mysqldump` whose output is what the double's `mysql_databases` knob puts on the
container's volume; everything else is refused with the apiserver's, the kubelet's or the runtime's words.
"""

from __future__ import annotations

from tests.double.fixtures import ClusterHandle
from tests.double.test_api import apply

DB = """
apiVersion: v1
kind: Namespace
metadata: {name: kubeflow}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: mysql-pv-claim, namespace: kubeflow}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 20Gi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: mysql, namespace: kubeflow}
spec:
  selector: {matchLabels: {app: mysql}}
  template:
    metadata: {labels: {app: mysql}}
    spec:
      containers:
      - name: mysql
        image: mysql:8.4
        env: [{name: MYSQL_ALLOW_EMPTY_PASSWORD, value: "true"}]
        volumeMounts: [{name: data, mountPath: /var/lib/mysql}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: mysql-pv-claim}}]
"""
RUNS = {"kubeflow/mysql-pv-claim": {"mlpipeline": {"run_details": [{"UUID": "r-1", "DisplayName": "it's mine"}]},
                                    "cachedb": {}, "metadb": {}}}  # fmt: skip


def running_pod(cluster: ClusterHandle) -> str:
    apply(cluster, DB)
    waited = cluster.kubectl("wait", "--for=condition=Available", "-n", "kubeflow", "deployment/mysql",
                             "--timeout=30s")  # fmt: skip
    assert waited.returncode == 0, waited.stderr
    return next(p["metadata"]["name"] for p in cluster.objects("Pod", "kubeflow"))


def test_mysqldump_in_a_mysql_container_prints_the_databases_of_its_volume(make_cluster) -> None:
    cluster = make_cluster(mysql_databases=RUNS)
    pod = running_pod(cluster)
    dumped = cluster.kubectl("exec", "-n", "kubeflow", pod, "-c", "mysql", "--", "mysqldump", "--single-transaction",
                             "--databases", "mlpipeline", "cachedb", "metadb", "--user=root")  # fmt: skip
    assert dumped.returncode == 0, dumped.stderr
    assert "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `mlpipeline`" in dumped.stdout
    assert "INSERT INTO `run_details` VALUES ('r-1','it\\'s mine');" in dumped.stdout
    assert "USE `metadb`;" in dumped.stdout
    exec_requests = [r for r in cluster.requests() if r["path"].endswith(f"/pods/{pod}/exec")]
    assert [(r["method"], r["status"]) for r in exec_requests] == [("GET", 101)]  # WebSocket, no SPDY fallback


def test_a_failing_command_ends_kubectl_with_its_exit_code_and_its_stderr(make_cluster) -> None:
    cluster = make_cluster()
    pod = running_pod(cluster)
    dumped = cluster.kubectl("exec", "-n", "kubeflow", pod, "-c", "mysql", "--", "mysqldump", "--databases", "nope")
    assert dumped.returncode == 2
    assert "mysqldump: Got error: 1049: Unknown database 'nope' when selecting the database" in dumped.stderr
    assert "command terminated with exit code 2" in dumped.stderr


def test_a_wrong_password_is_refused_as_mysql_refuses_it(make_cluster) -> None:
    cluster = make_cluster()
    pod = running_pod(cluster)
    dumped = cluster.kubectl("exec", "-n", "kubeflow", pod, "--", "mysqldump", "--password=guess", "mlpipeline")
    assert dumped.returncode == 2
    assert "Access denied for user 'root'@'localhost' (using password: YES)" in dumped.stderr


def test_a_program_the_image_lacks_is_the_runtimes_exit_126(make_cluster) -> None:
    cluster = make_cluster()
    pod = running_pod(cluster)
    result = cluster.kubectl("exec", "-n", "kubeflow", pod, "--", "psql")
    assert result.returncode == 126
    assert 'exec: "psql": executable file not found in $PATH' in result.stderr


def test_a_container_the_pod_lacks_is_refused_by_kubectl_and_by_the_apiserver(make_cluster) -> None:
    cluster = make_cluster()
    pod = running_pod(cluster)
    result = cluster.kubectl("exec", "-n", "kubeflow", pod, "-c", "db", "--", "mysqldump")
    assert result.returncode == 1
    assert f"error: container db is not valid for pod {pod} out of: mysql" in result.stderr  # kubectl 1.37's check
    raw = cluster.kubectl("create", "--raw", f"/api/v1/namespaces/kubeflow/pods/{pod}/exec?container=db&command=ls",
                          "-f", "/dev/null")  # fmt: skip
    assert f"container db is not valid for pod {pod}" in raw.stderr  # streamLocation's, for any other client


def test_a_container_that_is_not_running_is_not_found_by_the_kubelet(make_cluster) -> None:
    cluster = make_cluster(image_pull_backoff=["mysql:*"])
    apply(cluster, DB)
    pod = cluster.kubectl("get", "pods", "-n", "kubeflow", "-l", "app=mysql", "-o",
                          "jsonpath={.items[0].metadata.name}")  # fmt: skip
    assert pod.returncode == 0 and pod.stdout, pod.stderr
    waited = cluster.kubectl("wait", "--for=jsonpath={.spec.nodeName}=minikube", "-n", "kubeflow", f"pod/{pod.stdout}",
                             "--timeout=30s")  # fmt: skip
    assert waited.returncode == 0, waited.stderr
    result = cluster.kubectl("exec", "-n", "kubeflow", pod.stdout, "-c", "mysql", "--", "mysqldump", "mlpipeline")
    assert result.returncode == 1
    assert 'error: Internal error occurred: unable to upgrade connection: container not found ("mysql")' in (
        result.stderr
    )


def test_before_kubernetes_1_30_the_websocket_upgrade_fails_and_spdy_is_not_simulated(make_cluster) -> None:
    cluster = make_cluster(k8s_version="v1.29.0")
    pod = running_pod(cluster)
    result = cluster.kubectl("exec", "-n", "kubeflow", pod, "--", "mysqldump", "mlpipeline")
    assert result.returncode == 1
    assert "SPDY/3.1 is not simulated" in result.stderr
    methods = [r["method"] for r in cluster.requests() if r["path"].endswith(f"/pods/{pod}/exec")]
    assert methods == ["GET", "POST"]  # kubectl fell back, as against a real 1.29 apiserver


def test_mysqldump_reads_its_password_from_an_option_file_on_stdin(make_cluster) -> None:
    """`kubectl exec -i` streams stdin over v5 up to its close signal; `--defaults-extra-file=/dev/stdin` reads the
    password from it, as kfinstall passes it (kube/backup.py: never on a command line)."""
    cluster = make_cluster()
    apply(
        cluster,
        DB.replace('{name: MYSQL_ALLOW_EMPTY_PASSWORD, value: "true"}', '{name: MYSQL_ROOT_PASSWORD, value: "s3cr#t"}'),
    )
    waited = cluster.kubectl("wait", "--for=condition=Available", "-n", "kubeflow", "deployment/mysql", "--timeout=30s")
    assert waited.returncode == 0, waited.stderr
    pod = next(p["metadata"]["name"] for p in cluster.objects("Pod", "kubeflow"))
    argv = (
        "exec",
        "-i",
        "-n",
        "kubeflow",
        pod,
        "--",
        "mysqldump",
        "--defaults-extra-file=/dev/stdin",
        "--databases",
        "mlpipeline",
    )

    right = cluster.kubectl(*argv, input='[client]\nuser=root\npassword="s3cr#t"\n')
    wrong = cluster.kubectl(*argv, input="[client]\npassword=guess\n")

    assert right.returncode == 0, right.stderr
    assert "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `mlpipeline`" in right.stdout
    assert wrong.returncode == 2
    assert "Access denied for user 'root'@'localhost' (using password: YES)" in wrong.stderr


def test_an_option_file_named_after_another_option_is_refused_as_mysqldump_refuses_it(make_cluster) -> None:
    cluster = make_cluster()
    pod = running_pod(cluster)
    late = ("--single-transaction", "--defaults-extra-file=/dev/stdin", "mlpipeline")
    dumped = cluster.kubectl("exec", "-i", "-n", "kubeflow", pod, "--", "mysqldump", *late, input="[client]\n")
    assert dumped.returncode == 7
    assert "mysqldump: [ERROR] unknown variable 'defaults-extra-file=/dev/stdin'." in dumped.stderr
