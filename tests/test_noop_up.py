"""A second `kfinstall up` of what is installed and running changes nothing and asks the tools little: the
profile's state, read once before the steps, is not asked for again when the cluster is reused (each
`minikube status` of a real profile inspects its container and kubelet), nor kubectl's context re-read when
nothing switched it, nor the install record read twice. The real CLI on the fake minikube and the cluster double;
the calls from kfinstall's log."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import commands_logged, isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"


def up_twice(fake_tools: FakeTools, tmp_path: Path, release: LocalRelease) -> tuple[dict[str, str], str]:
    """A first `up`, then the same `up` again with a log directory of its own: its environment and stderr."""
    fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)
    args = ("up", "--pins", str(release.pins), "-k", "v0.1.0", "--yes", "--profile", "minimal")
    first = kfinstall(*args, env=env)
    assert first.returncode == 0, first.stderr
    again_env = {**env, "KFINSTALL_LOG_DIR": str(tmp_path / "logs-again")}
    again = kfinstall(*args, env=again_env)
    assert again.returncode == 0, again.stderr
    return again_env, again.stderr


def test_a_no_op_up_asks_minikube_for_the_profiles_state_once_and_reuses_it(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release: LocalRelease
) -> None:
    again_env, stderr = up_twice(fake_tools, tmp_path, synthetic_release)

    assert "reusing running minikube profile 'kubeflow'" in stderr
    assert "13 unchanged" in stderr
    minikube = commands_logged(again_env, "minikube")
    assert [c for c in minikube if " status " in c] == [minikube[0]], minikube  # read once, before the steps
    assert sum(" profile list " in c for c in minikube) == 1, minikube
    assert len([c for c in commands_logged(again_env, "kubectl") if "config current-context" in c]) == 1


def test_a_no_op_up_reads_the_install_record_once(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release: LocalRelease
) -> None:
    again_env, stderr = up_twice(fake_tools, tmp_path, synthetic_release)

    assert "13 unchanged" in stderr
    kubectl = commands_logged(again_env, "kubectl")
    reads = [c for c in kubectl if " get configmap kfinstall-install " in c]
    assert len(reads) == 1, kubectl  # before the steps (to continue what is installed); read-record reuses it
    assert sum("--field-manager=kfinstall-record" in c for c in kubectl) == 1, kubectl  # written once, at the end
