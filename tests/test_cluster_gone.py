"""The cluster deleted while `up` waits: noticed and said at once, not retried as a restart until the timeout.

Through the real CLI on the fake minikube: `up` waits for a slow webhook (the double's `ready_delays`), the test
runs `minikube delete -p kubeflow` (the fake removes the double and the kubeconfig context, as minikube does), and
`up` must stop promptly, naming the deleted cluster, after a bounded number of kubectl calls (it made 1,382 in 5
minutes before). A re-run creates the cluster again and installs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

QUICK = "--set crd_establish_delay=0.1 --set ready_delay=[0.1,0.3] --set seed=11"
#: cert-manager's webhook late, and every workload slow, so that `up` is only waiting (for the webhook and rollouts)
#: when the cluster goes: the waits, not a next apply, must notice it.
SLOW_WEBHOOK = '--set \'ready_delays={"cert-manager/cert-manager-webhook":20,"*":15}\''


def kubectl_calls(log: str) -> int:
    return sum(1 for line in log.splitlines() if re.search(r"\$ \S*kubectl\b", line))


def test_a_cluster_deleted_while_up_waits_for_a_webhook_stops_up_at_once_naming_it(
    fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    fake_tools.set(double_args=f"{QUICK} {SLOW_WEBHOOK}", minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)
    argv = [sys.executable, "-m", "kfinstall", "up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes",
            "--profile", "minimal", "--timeout", "90"]  # fmt: skip
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    log = Path(env["KFINSTALL_LOG_DIR"]) / "latest.log"
    logged_before_delete: list[int] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "webhook not serving yet" in line and not logged_before_delete:
                deleted = fake_tools.run("minikube", "delete", "-p", "kubeflow")
                assert deleted.returncode == 0, deleted.stderr
                logged_before_delete.append(len(log.read_text()))

    reader = threading.Thread(target=read)
    reader.start()
    process.wait(timeout=200)
    reader.join(timeout=10)
    output = "".join(lines)
    assert logged_before_delete, f"up never waited for the webhook: {output}"
    assert process.returncode == 1, output
    assert "error: the cluster is gone: minikube profile 'kubeflow' no longer exists" in output, output
    assert "hint: it was deleted while kfinstall ran: run the same `kfinstall up` again" in output
    assert "log: " in output and "Traceback" not in output
    after = kubectl_calls(log.read_text()[logged_before_delete[0] :])
    assert after <= 30, f"{after} kubectl calls after the cluster was deleted"

    again = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal",
                      env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "Kubeflow v0.1.0 is ready" in again.stdout + again.stderr
