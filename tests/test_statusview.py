"""What the status screen says, from StatusReports built by hand (pure: no cluster)."""

from __future__ import annotations

from rich.text import Text

from kfinstall.commands.status import StatusReport
from kfinstall.kube.health import ComponentHealth, NodeUsage
from kfinstall.kube.readiness import PodProblem
from kfinstall.kube.record import ComponentRecord, InstallRecord
from kfinstall.ui.status_screen import screen

GPU_NODE = NodeUsage("minikube", 8, 16 * 2**30, 2.5, 4 * 2**30, 1, 1, ("team/train-0",))
RECORD = InstallRecord("v1.4.0", "50c66cdf50ef0e7cf416bffd49e73db471fd37a8", "minimal", "0.1.0", "T0", "T1",
                       components={"katib": ComponentRecord("h", "T0", "T1")})  # fmt: skip
PULL = PodProblem("kubeflow", "katib-mysql-0", "ImagePullBackOff", "image mysql:8.0.26", "the image cannot be pulled")


def text(report: StatusReport) -> str:
    """The screen as the user reads it (markup rendered away)."""
    return "\n".join(Text.from_markup(line).plain for line in screen(report))


def test_the_cluster_line_has_requests_against_capacity_and_who_holds_the_gpus() -> None:
    report = StatusReport("running", "kubeflow", "v1.19.3", RECORD, (), (GPU_NODE,), minikube_profile="kubeflow")
    line = text(report).splitlines()[0]
    assert "minikube profile 'kubeflow'" in line and "Kubernetes v1.19.3" in line
    assert "CPU 2.5/8 requested" in line and "memory 4 GB/16 GB requested" in line
    assert "GPUs 1/1 in use (team/train-0)" in line


def test_the_install_line_names_release_commit_profile_and_version() -> None:
    report = StatusReport("running", "kubeflow", None, RECORD, (ComponentHealth("katib", "ready", 3, 3),))
    assert "v1.4.0 (commit 50c66cdf50ef) · profile minimal · installed T1 · kfinstall 0.1.0" in text(report)


def test_a_changed_password_is_not_warned_about() -> None:
    changed = InstallRecord("v1.4.0", None, "minimal", "0.1.0", "T0", "T1", default_password=False)
    assert "default login" not in text(StatusReport("running", "kubeflow", None, changed))


def test_a_failing_component_lists_its_pod_reason_and_hint() -> None:
    report = StatusReport("running", "kubeflow", None, RECORD, (ComponentHealth("katib", "failing", 2, 3, (PULL,)),))
    assert "kubeflow/katib-mysql-0: ImagePullBackOff: image mysql:8.0.26" in text(report)
    assert "hint: the image cannot be pulled" in text(report)
    assert report.exit_code == 1


def test_an_unfinished_up_is_not_ready_even_when_every_component_is() -> None:
    unfinished = InstallRecord("v1.4.0", None, "minimal", "0.1.0", "T0", None)
    report = StatusReport("running", "kubeflow", None, unfinished, (ComponentHealth("katib", "ready", 3, 3),))
    assert report.exit_code == 1
    assert "has not finished" in text(report) and "Run the same `kfinstall up` again" in text(report)


def test_a_stopped_cluster_is_exit_3_with_its_message() -> None:
    report = StatusReport("stopped", "kubeflow", message="minikube profile 'kubeflow' is stopped: start it")
    assert report.exit_code == 3  # errors.py EXIT_NOT_INSTALLED: nothing installed, or no cluster running
    assert "minikube profile 'kubeflow' is stopped" in text(report)
