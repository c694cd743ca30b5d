"""The fault matrix: `kfinstall up` against the faults a real install meets, one case per fault.

Each case runs the real CLI on the fake minikube, the cluster double and the real kubectl, injects one fault, and
ends either with every component ready (`Kubeflow v0.1.0 is ready`) or with a precise failure: the exit code,
the message that names what failed and why, and the hint. Case 7 (SIGINT during the waits, then a re-run that
resumes) lives in tests/test_up.py: `test_an_interrupted_up_stops_cleanly_and_a_rerun_resumes`.
docs/reliability.md lists each case with what the user sees.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env
from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT
from tests.releases import LocalRelease

#: Quick controllers: the faults, not the simulated delays, decide how long a case takes.
QUICK = "--set crd_establish_delay=0.1 --set ready_delay=[0.1,0.3] --set seed=11"
READY = "Kubeflow v0.1.0 is ready"


@dataclass
class Case:
    """One row of the matrix: the scenario, what to do once `up` reaches `trigger`, and what the user must see."""

    double_args: str = ""
    args: tuple[str, ...] = ()
    trigger: str | None = None  # a line of up's output after which `action` runs
    action: Callable[[FakeTools, dict[str, str]], None] | None = None
    exit_code: int = 0
    shows: tuple[str, ...] = (READY,)
    log_shows: tuple[str, ...] = ()
    env: Callable[[FakeTools, Path], dict[str, str]] | None = None
    pinned_commit: str | None = None  # pin the release to this commit instead of its tag's


def double(fake_tools: FakeTools, *args: str) -> None:
    """`python -m tests.double ARGS --state-dir` the running double of the `kubeflow` profile."""
    command, *rest = args
    subprocess.run(
        [sys.executable, "-m", "tests.double", command, "--state-dir", str(fake_tools.double_dir("kubeflow")), *rest],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=30,
    )


def shrink_node(fake_tools: FakeTools, memory: str) -> None:
    """Leave the node `memory` for pods (a smaller machine than the default minikube asks for)."""
    patch = f'{{"status":{{"allocatable":{{"memory":"{memory}"}},"capacity":{{"memory":"{memory}"}}}}}}'
    result = fake_tools.run(
        "kubectl", "--context", "kubeflow", "patch", "node", "kubeflow", "--subresource=status", "--type=merge",
        "-p", patch,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def kubectl_killed_on_third_apply(fake_tools: FakeTools, root: Path) -> dict[str, str]:
    """kubectl whose third `apply` is SIGKILLed 0.3 s in, as the OOM killer would."""
    counter = root / "applies"
    wrapper = root / "kubectl"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" apply "*)\n'
        f'  n=$(($(cat "{counter}" 2>/dev/null || echo 0) + 1)); echo $n > "{counter}"\n'
        f'  if [ "$n" = 3 ]; then exec 3<&0; "{fake_tools.kubectl}" "$@" <&3 & pid=$!\n'
        "    sleep 0.3; kill -9 $pid 2>/dev/null; wait $pid; exit $?; fi;;\n"
        "esac\n"
        f'exec "{fake_tools.kubectl}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return {"KFINSTALL_KUBECTL": str(wrapper)}


def git_failing(times: int, message: str) -> Callable[[FakeTools, Path], dict[str, str]]:
    """git whose first `times` clones fail with `message` (then the real git runs)."""

    def make(fake_tools: FakeTools, root: Path) -> dict[str, str]:
        counter, wrapper = root / "clones", root / "git"
        real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
        wrapper.write_text(
            "#!/bin/sh\n"
            'if [ "$1" = clone ]; then\n'
            f'  n=$(($(cat "{counter}" 2>/dev/null || echo 0) + 1)); echo $n > "{counter}"\n'
            f'  if [ "$n" -le {times} ]; then echo "{message}" >&2; exit 128; fi\n'
            "fi\n"
            f'exec "{real}" "$@"\n'
        )
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        return {"KFINSTALL_GIT": str(wrapper)}

    return make


RESOLVE = "fatal: unable to access 'https://github.com/kubeflow/manifests/': Could not resolve host: github.com"
FORGED = "0123456789abcdef0123456789abcdef01234567"
NOT_FOUND = "fatal: Remote branch v0.1.0 not found in upstream origin"

CASES: dict[str, Case] = {
    "crd-established-late": Case(double_args="--set crd_establish_delay=3"),
    "webhook-not-serving-for-a-while": Case(
        double_args='--set \'ready_delays={"cert-manager/cert-manager-webhook":4,"istio-system/istiod":4}\''
    ),
    # The synthetic set builds objects before their namespace (see its README); the installer applies a stream
    # in order with Namespaces first, and retries `namespaces "x" not found` should one race anyway.
    "namespace-created-after-objects": Case(),
    "apiserver-503-for-20-percent-for-a-while": Case(
        trigger="applying",
        action=lambda tools, env: double(tools, "fault", "--error-rate", "0.2", "--error-code", "503", "--duration=6"),
    ),
    "apiserver-down-mid-apply": Case(
        trigger="applying", action=lambda tools, env: double(tools, "fault", "--restart", "3")
    ),
    "kubectl-killed-mid-apply": Case(env=kubectl_killed_on_third_apply),
    "workload-never-ready": Case(
        double_args="--set 'crash_loop=[\"docker.io/kfsynthetic/katib-ui:*\"]'",
        args=("--timeout", "8"),
        exit_code=1,
        shows=("katib: not ready after 8s", "katib-ui", "CrashLoopBackOff", "log: "),
        log_shows=("CrashLoopBackOff",),
    ),
    "image-pull-back-off": Case(
        double_args="--set 'image_pull_backoff=[\"docker.io/kfsynthetic/mysql:*\"]'",
        args=("--timeout", "8"),
        exit_code=1,
        shows=("katib: not ready after 8s", "ImagePullBackOff", "docker.io/kfsynthetic/mysql:8.0.26"),
        log_shows=("ImagePullBackOff",),
    ),
    "pending-for-insufficient-memory": Case(
        trigger="started minikube",  # the node shrinks under the install (minikube refuses so small a --memory)
        action=lambda tools, env: shrink_node(tools, "300Mi"),
        args=("--timeout", "8"),
        exit_code=1,
        shows=("Insufficient memory", "--memory"),
    ),
    "git-clone-fails-once": Case(env=git_failing(1, RESOLVE)),
    "git-clone-fails-for-good": Case(
        env=git_failing(9, NOT_FOUND),
        exit_code=1,
        shows=("could not clone", "Remote branch v0.1.0 not found", "--manifests-repo"),
    ),
    "manifests-tag-moved": Case(
        pinned_commit=FORGED,
        exit_code=1,
        shows=(f"at commit {{tag}}, but the pins say {FORGED}: refusing to install it", "the tag was moved"),
    ),
    "minikube-start-fails": Case(
        args=("--k8s-version", "v1.19.3", "--skip-checks"),
        exit_code=1,
        shows=(
            "minikube start failed (exit code 106)",
            "X Exiting due to K8S_OLD_UNSUPPORTED: Kubernetes 1.19.3 is not supported by this release of minikube",
            "! You can force an unsupported Kubernetes version via the --force flag",
        ),
    ),
    "minikube-start-fails-docker-down": Case(
        env=lambda tools, root: {"FAKE_DOCKER": "down"},
        args=("--skip-checks",),
        exit_code=1,
        shows=("minikube start failed (exit code 63)", "PROVIDER_DOCKER_NOT_RUNNING", "Start the Docker service"),
    ),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(CASES))
def test_fault(name: str, fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path: Path) -> None:
    case = CASES[name]
    fake_tools.set(double_args=f"{QUICK} {case.double_args}".strip(), minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)
    if case.env is not None:
        env.update(case.env(fake_tools, tmp_path))
    pins = synthetic_release.pins
    if case.pinned_commit is not None:  # the tag now points elsewhere than the pins say (moved, or a forged mirror)
        pins = tmp_path / "pins.yaml"
        pins.write_text(synthetic_release.pins.read_text().replace(synthetic_release.commit, case.pinned_commit))
    argv = [sys.executable, "-m", "kfinstall", "up", "--pins", str(pins), "-k", "v0.1.0"]
    argv += ["--yes", "--profile", "minimal", *case.args]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    injected = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if case.trigger and case.trigger in line and not injected.is_set():
                injected.set()
                assert case.action is not None
                case.action(fake_tools, env)

    reader = threading.Thread(target=read)
    reader.start()
    process.wait(timeout=110)
    reader.join(timeout=10)
    output = "".join(lines)
    assert process.returncode == case.exit_code, output
    for text in case.shows:
        assert text.replace("{tag}", synthetic_release.commit) in output
    assert "Traceback" not in output
    if case.trigger:
        assert injected.is_set(), f"the fault was never injected: {case.trigger!r} not in {output}"
    if case.log_shows:
        log = (Path(env["KFINSTALL_LOG_DIR"]) / "latest.log").read_text()
        for text in case.log_shows:
            assert text in log
    if case.exit_code == 0:
        # The fault `up` outlived may still be on (a 6 s window can outlast a quick install): lift it, so the check
        # reads the cluster and not one more injected 503.
        double(fake_tools, "fault", "--error-rate", "0")
        pods = fake_tools.run("kubectl", "--context", "kubeflow", "get", "pods", "-A", "--no-headers").stdout
        assert pods and all("Running" in line for line in pods.splitlines()), pods


def test_the_interrupt_case_is_covered_in_test_up() -> None:
    """Row 7 of the matrix: the SIGINT test lives beside the other `up` end-to-end tests."""
    source = (REPO_ROOT / "tests" / "test_up.py").read_text()
    assert "def test_an_interrupted_up_stops_cleanly_and_a_rerun_resumes(" in source
    assert os.path.exists(REPO_ROOT / "docs" / "reliability.md")
