"""The errors a user can see.

Every failure the user should understand is a `KfError`: one clear message, a hint that says what to do, and
the process exit code. The CLI turns them into one line each, never a traceback.

The exit codes (`kfinstall --help` and the README list them):

- 0: done (`status`, `verify`: everything ready and working);
- 1 `EXIT_FAILURE`: something failed or is not ready;
- 2 `EXIT_USAGE`: bad input, refused before anything changed (click's own code for a bad option, so one code
  whoever refuses it);
- 3 `EXIT_NOT_INSTALLED`: nothing installed to act on: no minikube profile, or a cluster without kfinstall's
  install record (`status`, `verify`, `port-forward`, `password`, `down` with nothing to delete); for `status`
  also a cluster that is not running (stopped, paused, not answering). Not 2: the
  command line was right, and a script polling `kfinstall status` must tell "not installed yet" from a typo;
  not 1: nothing failed. 3 is what the LSB asks of an init script's `status` for "program is not running"
  (Linux Standard Base Core, "Init Script Actions"), and gh likewise gives a non-failure state its own small
  code (cli.github.com/manual/gh_help_exit-codes: 4 "authentication required"; gh_pr_checks: 8 checks pending)
  instead of minikube's large reason codes (kubernetes/minikube pkg/minikube/reason/exitcodes.go: 85
  ExGuestNotFound), which would read as a failure of minikube;
- 128 + N: interrupted by signal N (`Interrupted`); 130 also for end of input at a prompt.
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_INSTALLED = 3


class KfError(Exception):
    """A failure explained to the user: `message`, optional `hint`, and the exit code to end with."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(KfError):
    """The user asked for something that cannot be (unknown release, bad `--memory`, ...): exit code 2."""

    exit_code = EXIT_USAGE


class NotInstalled(KfError):
    """Nothing is installed to act on (no minikube profile, no install record on the cluster): exit code 3."""

    exit_code = EXIT_NOT_INSTALLED


class Declined(KfError):
    """The user answered no to a confirmation: exit 1 with nothing more to say (they know why)."""

    def __init__(self) -> None:
        super().__init__("declined")


class ToolNotFoundError(KfError):
    """An external program (kubectl, minikube, ...) is not installed or not on PATH."""


class Interrupted(KfError):
    """SIGINT (Ctrl-C), SIGTERM or SIGHUP (a closed terminal) stopped the command, and the processes it ran.

    The exit code is 128 + the signal's number (130, 143, 129), as a shell reports a process the signal killed:
    a script that runs kfinstall sees the same code whether kfinstall handles the signal or not."""

    def __init__(self, signum: int, stopped: list[str], hint: str | None = None) -> None:
        import signal

        self.signum = signum
        self.stopped = stopped
        name = signal.Signals(signum).name
        super().__init__(f"interrupted ({name}): {_stopped(stopped)}", hint, exit_code=128 + signum)


def _stopped(tools: list[str]) -> str:
    """`stopped 3 processes (2 kubectl, kustomize)`, or `no process was running`."""
    if not tools:
        return "no process was running"
    counts: dict[str, int] = {}
    for tool in tools:
        counts[tool] = counts.get(tool, 0) + 1
    names = ", ".join(f"{count} {tool}" if count > 1 else tool for tool, count in sorted(counts.items()))
    return f"stopped {len(tools)} process{'es' if len(tools) > 1 else ''} ({names})"
