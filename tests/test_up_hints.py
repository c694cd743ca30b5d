"""`up` that times out on a component with two pods failing for different reasons gives both pods' hints, not
only the first's. The real CLI on the fakes and the cluster double."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

BROKEN = (
    "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3 "
    "--set 'crash_loop=[\"docker.io/kfsynthetic/katib-ui:*\"]' "
    "--set 'image_pull_backoff=[\"docker.io/kfsynthetic/mysql:*\"]'"
)


def test_a_timeout_with_two_failing_pods_gives_each_pods_hint(
    fake_tools: FakeTools, tmp_path: Path, synthetic_release: LocalRelease
) -> None:
    fake_tools.set(double_args=BROKEN, minikube_version="v1.37.0")
    env = isolated_env(fake_tools.env, tmp_path)
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "--yes", "--profile", "minimal",
                       "--timeout", "8", env=env)  # fmt: skip
    assert result.returncode == 1, result.stderr
    said = " ".join(result.stderr.split())
    assert "katib: not ready after 8s" in said
    hint = said[said.index("hint: ") :]
    assert "the container keeps crashing: read its log with `kubectl logs -n kubeflow katib-ui" in hint
    assert "the registry no longer serves this image" in hint
