"""ui/progress.Display without a cluster: the rows it draws from events, as a terminal of a given size shows them.

The pseudo-terminal tests (tests/test_live_display.py) see the same display through the real CLI; these pin down
what each row says, fast and without timing.
"""

from __future__ import annotations

import io

from rich.console import Console

from kfinstall.install.events import Event
from kfinstall.ui.progress import Display

COMPONENTS = ["istio", "cert-manager", "dex", "katib", "pipelines", "central-dashboard", "notebooks", "tensorboard"]


def frame(display: Display, *, width: int = 80, height: int = 40) -> list[str]:
    """The live table as a terminal of `width` x `height` would show it now."""
    out = io.StringIO()
    Console(file=out, width=width, height=height, color_system=None, legacy_windows=False).print(display)
    return out.getvalue().splitlines()


def plain(display: Display) -> io.StringIO:
    """Where `display`'s plain lines go (as in a pipe)."""
    out = io.StringIO()
    display.console = Console(file=out, width=80, color_system=None)
    return out


def test_a_pending_row_names_only_the_dependencies_not_ready_yet() -> None:
    display = Display(live=False)
    display.start_components(COMPONENTS)
    display(Event("pending", "waiting for istio, cert-manager", "dex", depends_on=("istio", "cert-manager")))
    display(Event("ready", "", "istio"))
    (dex,) = [line for line in frame(display) if " dex " in line]
    assert dex.split()[1:] == ["dex", "pending", "waiting", "for", "cert-manager"]


def test_a_pods_problem_shows_under_its_row_cut_at_the_terminals_width() -> None:
    display = Display(live=False)
    display.start_components(COMPONENTS)
    display(Event("waiting", "deployment/katib-mysql -n kubeflow: 0/1 replicas available", "katib", 2, 3))
    display(Event("problem", "ImagePullBackOff: image docker.io/kfsynthetic/mysql:8.0.26: pull access denied "
                             "for kfsynthetic/mysql (pod kubeflow/katib-mysql-x)", "katib", hint="h"))  # fmt: skip
    lines = frame(display)
    katib = next(index for index, line in enumerate(lines) if " katib " in line)
    assert "2/3 workloads    0s deployment/katib-mysql" in lines[katib]
    problem = lines[katib + 1]  # under the row, where the whole width leaves room for the image
    assert problem.startswith("     ImagePullBackOff: image docker.io/kfsynthetic/mysql:8.0.26: pull access")
    assert len(problem) == 80 and problem.endswith("…")


def test_in_a_short_terminal_finished_rows_fold_into_one_line_and_the_overall_line_counts_them() -> None:
    display = Display(live=False)
    display.start_components(COMPONENTS)
    for component in COMPONENTS[:6]:
        display(Event("ready", "", component))
    lines = frame(display, height=6)
    assert lines[0] == " ✓ 6 components ready"
    assert [line.split()[1] for line in lines[1:3]] == ["notebooks", "tensorboard"]
    assert lines[-1].startswith(" 6/8 ready · ")


def test_the_last_frame_shows_every_row_and_a_failed_one_with_its_reason() -> None:
    display = Display(live=False)
    display.start_components(COMPONENTS)
    display(Event("waiting", "", "katib", 2, 3))
    display(Event("failed", "not ready after 30s", "katib"))
    display(Event("waiting", "", "pipelines", 1, 5))
    display.stop()
    lines = frame(display, height=6)
    assert len([line for line in lines if line.split()[1] in COMPONENTS]) == len(COMPONENTS)
    (katib,) = [line for line in lines if " katib " in line]
    assert katib.split()[:3] == ["✗", "katib", "failed"] and katib.endswith("not ready after 30s")
    (pipelines,) = [line for line in lines if " pipelines " in line]
    assert pipelines.split()[:3] == ["-", "pipelines", "stopped"]
    assert "1 failed" in lines[-1]


def test_piped_a_problem_is_one_line_per_change_and_a_task_one_line_when_it_begins() -> None:
    display = Display(live=False)
    out = plain(display)
    display(Event("begin", "starting minikube profile 'kubeflow'", task="minikube"))
    display(Event("step", "started minikube profile 'kubeflow'", task="minikube"))
    display.start_components(["katib"])
    for message in ("ErrImagePull: image mysql", "ErrImagePull: image mysql", "ImagePullBackOff: image mysql"):
        display(Event("problem", message, "katib"))
    lines = out.getvalue().splitlines()
    assert lines[:2] == [" … starting minikube profile 'kubeflow'", " ✓ started minikube profile 'kubeflow'"]
    assert [line.split("problem")[1].strip() for line in lines[2:]] == [
        "ErrImagePull: image mysql",
        "ImagePullBackOff: image mysql",
    ]


def test_a_restart_is_a_line_of_its_own_and_leaves_its_rows_state() -> None:
    display = Display(live=False)
    out = plain(display)
    display.start_components(COMPONENTS)
    display(Event("waiting", "deployment/ml-pipeline -n kubeflow: 0/1 replicas available", "pipelines", 3, 5))
    display(Event("restarted", "restarted ml-pipeline-x: mysql is ready, skipping 2m40s of back-off", "pipelines"))

    (pipelines,) = [line for line in frame(display) if " pipelines " in line]
    assert "3/5 workloads" in pipelines
    printed = out.getvalue()
    assert "↻ pipelines" in printed and "restarted ml-pipeline-x: mysql is ready, skipping 2m40s" in printed
