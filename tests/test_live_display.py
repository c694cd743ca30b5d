"""`kfinstall up`'s live display in a pseudo-terminal: the real CLI, the fake minikube, the double, the real kubectl.

The terminal is a real pty of a given size (`TIOCSWINSZ`); what kfinstall writes to it is read as it comes and cut
into lines (ANSI control sequences removed: each redraw of the live table is a new run of lines, a frame). Nothing
is timed: a test waits (with a generous limit) until the frames show what it expects, and compares frames, e.g. two
different elapsed times on the same line while minikube's start is held by the fake's gate.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_helpers import isolated_env, kfinstall
from tests.fakes.fixtures import FakeTools
from tests.releases import LocalRelease

#: Short but real races, as tests/test_up.py has them.
RACY = "--set crd_establish_delay=0.4 --set ready_delay=[0.2,1.0] --set seed=7"
#: katib's database image cannot be pulled: its pod waits in ErrImagePull / ImagePullBackOff.
MYSQL_REFUSED = RACY + " --set 'image_pull_backoff=[\"docker.io/kfsynthetic/mysql:*\"]'"
#: CSI and other escape sequences (cursor moves, erase line, colours, cursor show/hide).
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
#: A long step's line: its spinner, its elapsed time (`0s`, `12s`, `1m02s`), what it does.
_TASK = re.compile(r"^ (\S) +(\d+m\d{2}s|\d+s) (.*)$")
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
#: How long a test waits for what it expects before it fails (a loaded machine is slow; nothing is timed).
PATIENCE = 240.0


class Terminal:
    """`kfinstall ARGS` on a pseudo-terminal of `columns` x `rows`; its output collected as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], *, columns: int = 80, rows: int = 40) -> None:
        controller, terminal = os.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        environment = {key: value for key, value in env.items() if key not in ("COLUMNS", "LINES", "NO_COLOR")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kfinstall", *args],
            env={**environment, "TERM": "xterm-256color"},
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            start_new_session=True,  # the pty is its controlling terminal, as in a user's shell
        )
        os.close(terminal)
        self.columns = columns
        self._controller = controller
        self._raw = b""
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._controller, 65536)
            except OSError:  # EIO: every writer closed the terminal
                chunk = b""
            with self._changed:
                if not chunk:
                    self._changed.notify_all()
                    return
                self._raw += chunk
                self._changed.notify_all()

    def lines(self) -> list[str]:
        """Everything written so far, as lines without control sequences (a redraw repeats the table's lines)."""
        with self._changed:
            text = self._raw.decode("utf-8", "replace")
        return [line.rstrip() for line in re.split(r"\r\n|\n|\r", _ANSI.sub("", text))]

    def wait_for(self, what: str, found: Callable[[list[str]], bool]) -> list[str]:
        """The lines, once `found` says they show `what`; fails after PATIENCE seconds or when kfinstall ends first."""
        limit = time.monotonic() + PATIENCE
        while True:
            lines = self.lines()
            if found(lines):
                return lines
            ended = self.process.poll() is not None and not self._reader.is_alive()
            assert not ended and time.monotonic() < limit, f"never saw {what}:\n" + "\n".join(lines[-60:])
            with self._changed:
                self._changed.wait(0.2)

    def finish(self) -> int:
        """Wait for kfinstall to end; its exit code."""
        code = self.process.wait(timeout=PATIENCE)
        self._reader.join(timeout=30)
        os.close(self._controller)
        return code

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *_: object) -> None:
        """A test that failed half-way leaves no kfinstall behind (its children are in its process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.finish()

    def interrupt(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's foreground process group
        return self.finish()


@pytest.fixture
def env(fake_tools: FakeTools, tmp_path: Path) -> dict[str, str]:
    fake_tools.set(double_args=RACY, minikube_version="v1.37.0")
    return isolated_env(fake_tools.env, tmp_path)


def up_args(release: LocalRelease, *args: str) -> list[str]:
    return ["up", "--pins", str(release.pins), "-k", release.tag, "--yes", *args]


def elapsed_on(lines: list[str], words: str) -> set[str]:
    """The elapsed times shown on the lines of the long step that does `words`."""
    return {match.group(2) for line in lines if (match := _TASK.match(line)) and words in match.group(3)}


def display_lines(lines: list[str]) -> list[str]:
    """The lines of the live display: not the checks' warnings before it (`   ! ...`) nor the error after it (both
    printed whole, for copying)."""
    end = next((index for index, line in enumerate(lines) if line.startswith("error: ")), len(lines))
    return [line for line in lines[:end] if not line.startswith("   ! ")]


def spinner_frames_on(lines: list[str], words: str) -> set[str]:
    return {match.group(1) for line in lines if (match := _TASK.match(line)) and words in match.group(3)}


def katib_pull_problem(lines: list[str]) -> bool:
    """katib's row, and under it its pod's problem with the image."""
    return any(
        re.match(r"^ \S katib\s", line) and after.startswith("     ImagePullBackOff: image docker.io/kfsynthetic/mysql")
        for line, after in itertools.pairwise(lines)
    )


def test_the_timer_and_spinner_move_while_minikube_starts_and_nothing_else_happens(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    gate = tmp_path / "start-gate"
    fake_tools.set(minikube_start_gate=str(gate))
    with Terminal(up_args(synthetic_release), env | fake_tools.env) as terminal:
        try:
            starting = "starting minikube profile 'kubeflow'"
            lines = terminal.wait_for(
                "two elapsed times on the minikube line", lambda lines: len(elapsed_on(lines, starting)) >= 2
            )
            assert Path(f"{gate}.waiting").exists()  # minikube really is held: nothing else moved the display
            spinner = spinner_frames_on(lines, starting)
            assert len(spinner) >= 2 and spinner <= set(_SPINNER)
            assert any("built 17 components (" in line for line in lines)
        finally:
            gate.touch()
        assert terminal.finish() == 0, "\n".join(terminal.lines()[-40:])
    lines = terminal.lines()
    assert any("✓ started minikube profile 'kubeflow'" in line for line in lines)
    assert any(re.search(r"17/17 ready · \d", line) for line in lines)
    assert max(len(line) for line in display_lines(lines)) <= 80


def test_a_pods_image_pull_problem_shows_on_its_row_before_the_deadline_and_the_row_ends_failed(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    fake_tools.set(double_args=MYSQL_REFUSED)
    args = up_args(synthetic_release, "--profile", "minimal", "--timeout", "30")
    with Terminal(args, env | fake_tools.env) as terminal:
        lines = terminal.wait_for("katib's row with ImagePullBackOff under it", katib_pull_problem)
        assert not any("not ready after" in line for line in lines)  # the reason came long before the deadline
        assert any(re.search(r"\d+/13 ready · 1 problem · \d", line) for line in lines)
        # the rows that waited for others said for which
        assert any(re.match(r"^ · \S+\s+pending\s+waiting for [a-z]", line) for line in lines)
        assert terminal.finish() == 1
    lines = terminal.lines()
    assert any(re.match(r"^ ✗ katib\s+failed\s.*not ready after 30s", line) for line in lines)
    assert max(len(line) for line in display_lines(lines)) <= 80


def test_in_a_short_terminal_finished_rows_fold_into_one_line(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    fake_tools.set(double_args=MYSQL_REFUSED)
    with Terminal(up_args(synthetic_release, "--timeout", "600"), env | fake_tools.env, rows=12) as terminal:
        lines = terminal.wait_for(
            "the finished rows folded while katib waits",
            lambda lines: katib_pull_problem(lines) and any(re.match(r"^ ✓ \d+ components ready$", x) for x in lines),
        )
        assert terminal.interrupt() == 130
    folded = [index for index, line in enumerate(lines) if re.match(r"^ ✓ \d+ components ready$", line)]
    frame = lines[folded[-1] :]
    assert not any(re.match(r"^ ✓ istio\s", line) for line in frame)  # istio is ready: counted, not shown
    assert any(re.match(r"^ \S katib\s", line) for line in frame)


def test_json_lines_carry_the_problem_with_its_hint_and_what_pending_rows_wait_for(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    fake_tools.set(double_args=MYSQL_REFUSED)
    command = [sys.executable, "-m", "kfinstall", *up_args(synthetic_release, "--profile", "minimal", "--json")]
    process = subprocess.Popen(command, env=env | fake_tools.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)  # fmt: skip
    events = []
    assert process.stdout is not None
    for line in process.stdout:
        events.append(json.loads(line))
        if events[-1]["phase"] == "problem" and events[-1].get("component") == "katib":
            break
    os.killpg(process.pid, signal.SIGINT)
    process.communicate(timeout=PATIENCE)
    problem = events[-1]
    assert "ImagePullBackOff" in problem["message"] and "docker.io/kfsynthetic/mysql:8.0.26" in problem["message"]
    assert "the image cannot be pulled" in problem["hint"] or "registry" in problem["hint"]
    pending = {event["component"]: event for event in events if event["phase"] == "pending"}
    assert pending["katib"]["depends_on"] and pending["katib"]["message"].startswith("waiting for ")
    assert {"begin", "step"} <= {event["phase"] for event in events if event.get("task") == "minikube"}
    assert process.returncode == 130


def test_piped_progress_has_no_control_sequences_and_one_line_per_problem(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease
) -> None:
    fake_tools.set(double_args=MYSQL_REFUSED)
    result = kfinstall(*up_args(synthetic_release, "--profile", "minimal", "--timeout", "20"), env=env | fake_tools.env)
    assert result.returncode == 1
    assert "\x1b[" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if re.match(r"^ ! katib\s+problem\s", line)]
    assert problems and all("docker.io/kfsynthetic/mysql:8.0.26" in line for line in problems)
    assert all(before != after for before, after in itertools.pairwise(problems))  # a line per change, no repeats
    assert any(re.match(r"^ ✗ katib\s+failed\s", line) for line in result.stderr.splitlines())
    assert not any(char in result.stderr for char in _SPINNER)


def test_the_timer_and_spinner_move_on_the_builds_line_while_a_build_is_held(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    """katib's build waits on a gate (the fake kustomize's `kustomize_build_gate`): the builds' line keeps its
    spinner turning and its time counting until the builds end."""
    gate = tmp_path / "build-gate"
    fake_tools.set(kustomize_build_gate=f"*katib*={gate}")
    with Terminal(up_args(synthetic_release, "--profile", "minimal"), env | fake_tools.env) as terminal:
        try:
            lines = terminal.wait_for(
                "two elapsed times on the builds' line", lambda lines: len(elapsed_on(lines, "building")) >= 2
            )
            spinner = spinner_frames_on(lines, "building")
            assert len(spinner) >= 2 and spinner <= set(_SPINNER)
            assert not any(re.search(r"built \d+ components", line) for line in lines)  # the gate holds them
        finally:
            gate.touch()
        assert terminal.finish() == 0, "\n".join(terminal.lines()[-40:])
    assert any(re.search(r"✓ built \d+ components \(", line) for line in terminal.lines())


def clone_gate_env(gate: Path, hooks: Path) -> dict[str, str]:
    """Environment that holds every `git clone` at its checkout until `gate` exists, with real git.

    git runs the `post-checkout` hook after a clone's checkout (githooks(5): "also run after git-clone, unless
    --no-checkout"); `core.hooksPath` given as command-scope configuration through GIT_CONFIG_COUNT/KEY/VALUE
    (git-config(1) ENVIRONMENT) reaches the repository the clone creates. The hook says it is waiting, as the fakes'
    gates do (`GATE.waiting`). Nothing of kfinstall is replaced: the clone is real git's, held at a process boundary.
    """
    hooks.mkdir()
    hook = hooks / "post-checkout"
    hook.write_text(f'#!/bin/sh\ntouch "{gate}.waiting"\nwhile [ ! -e "{gate}" ]; do sleep 0.1; done\n')
    hook.chmod(0o755)
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.hooksPath", "GIT_CONFIG_VALUE_0": str(hooks)}


def test_the_timer_and_spinner_move_on_the_clone_line_while_the_clone_is_held(
    fake_tools: FakeTools, env: dict[str, str], synthetic_release: LocalRelease, tmp_path: Path
) -> None:
    """A first clone can take minutes on a slow link: its line keeps its spinner turning and its time counting."""
    gate = tmp_path / "clone-gate"
    held = env | fake_tools.env | clone_gate_env(gate, tmp_path / "hooks")
    with Terminal(up_args(synthetic_release, "--profile", "minimal"), held) as terminal:
        try:
            lines = terminal.wait_for(
                "two elapsed times on the clone's line", lambda lines: len(elapsed_on(lines, "cloning")) >= 2
            )
            assert Path(f"{gate}.waiting").exists()  # git really is held in its checkout
            spinner = spinner_frames_on(lines, "cloning")
            assert len(spinner) >= 2 and spinner <= set(_SPINNER)
            assert not any("built" in line for line in lines)  # nothing is built before the manifests are there
        finally:
            gate.touch()
        assert terminal.finish() == 0, "\n".join(terminal.lines()[-40:])
    assert any(line.startswith(f" ✓ manifests {synthetic_release.tag} at") for line in terminal.lines())
