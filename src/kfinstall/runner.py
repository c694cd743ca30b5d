"""The one seam between kfinstall and external programs (minikube, kubectl, kustomize, git, docker, ...).

Nothing else in kfinstall starts processes. Keeping every call here gives three things in one place:
tool-path overrides (`KFINSTALL_KUBECTL=/opt/kubectl-1.19/kubectl`, ...), the `--verbose` echo of each command,
and a log file that records every command with its full output, which is what a user attaches to a bug report.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kfinstall.errors import ToolNotFoundError

log = logging.getLogger("kfinstall.commands")

#: Where to download each tool, for the "not installed" hint.
INSTALL_HINTS: dict[str, str] = {
    "kubectl": "install kubectl: https://kubernetes.io/docs/tasks/tools/",
    "kustomize": "install kustomize: https://kubectl.docs.kubernetes.io/installation/kustomize/",
    "minikube": "install minikube: https://minikube.sigs.k8s.io/docs/start/",
    "docker": "install Docker: https://docs.docker.com/engine/install/",
    "git": "install git: https://git-scm.com/downloads",
    "nvidia-smi": "install the NVIDIA driver: https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/",
}

_echo: Callable[[str], None] | None = None


def set_echo(echo: Callable[[str], None] | None) -> None:
    """Show each command line through `echo` before it runs (`--verbose`); None turns it off."""
    global _echo
    _echo = echo


def env_var_for(tool: str) -> str:
    """The environment variable that overrides a tool's path: kubectl -> KFINSTALL_KUBECTL."""
    return "KFINSTALL_" + tool.upper().replace("-", "_")


def tool_path(tool: str) -> str | None:
    """The executable for `tool`: the KFINSTALL_<TOOL> override if set, else the first one on PATH."""
    override = os.environ.get(env_var_for(tool))
    if override:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    return shutil.which(tool)


def require(tool: str) -> str:
    """Like `tool_path`, but a missing tool is a `ToolNotFoundError` with a download hint."""
    path = tool_path(tool)
    if path is None:
        override = os.environ.get(env_var_for(tool))
        where = f"{env_var_for(tool)}={override} is not an executable file" if override else "not found on PATH"
        raise ToolNotFoundError(f"{tool} is not installed ({where})", INSTALL_HINTS.get(tool))
    return path


@dataclass(frozen=True)
class Result:
    """What one finished command did."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def command_line(self) -> str:
        return shlex.join(self.argv)

    @property
    def output(self) -> str:
        """stderr and stdout together, for error messages (tools disagree on where errors go)."""
        return "\n".join(part for part in (self.stderr.strip(), self.stdout.strip()) if part)


#: Exit code reported when a command was killed for running past its timeout (like coreutils' `timeout`).
TIMEOUT_EXIT_CODE = 124


def run(
    tool: str,
    *args: str,
    input: str | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    log_input: bool = True,
) -> Result:
    """Run `tool args...` to completion and return its exit code and output; never raises for a non-zero exit.

    `env` adds to (does not replace) the current environment. `log_input=False` keeps `input` out of the log
    file (it may hold a secret). A command past its `timeout` is killed and reported with exit code 124.
    """
    import sh  # imported here: `kfinstall --help` must not pay for it

    path = require(tool)
    argv = (path, *args)
    _announce(tool, args)
    started = time.monotonic()
    full_env = {**os.environ, **env} if env else None
    try:
        proc = sh.Command(path)(
            *args,
            _in=input,
            _env=full_env,
            _cwd=os.fspath(cwd) if cwd is not None else None,
            _timeout=timeout,
            _ok_code=list(range(256)),
            _return_cmd=True,
            _err_to_out=False,
            _tty_out=False,
            _encoding="utf-8",
            _decode_errors="replace",
        )
        result = Result(argv, proc.exit_code, _text(proc.stdout), _text(proc.stderr), time.monotonic() - started)
    except sh.TimeoutException:
        result = Result(
            argv,
            TIMEOUT_EXIT_CODE,
            "",
            f"timed out after {timeout:g}s",
            time.monotonic() - started,
        )
    except sh.SignalException as exc:
        result = Result(argv, 128 + abs(exc.exit_code), _text(exc.stdout), _text(exc.stderr), 0.0)
    _record(result, input if log_input else (None if input is None else f"<{len(input)} bytes not logged>"))
    return result


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


@dataclass
class Background:
    """A long-running external command (e.g. `kubectl port-forward`) whose output lines arrive as they come."""

    argv: tuple[str, ...]
    _proc: object = field(repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def pid(self) -> int:
        return int(self._proc.pid)  # type: ignore[attr-defined]

    def is_alive(self) -> bool:
        return bool(self._proc.is_alive())  # type: ignore[attr-defined]

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code once the process has ended, or None if it is still running after `timeout`."""
        import sh

        try:
            self._proc.wait(timeout=timeout)  # type: ignore[attr-defined]
        except sh.TimeoutException:
            return None
        except (sh.ErrorReturnCode, sh.SignalException):
            pass
        return int(self._proc.exit_code)  # type: ignore[attr-defined]

    def stop(self, grace: float = 3.0) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after `grace` seconds) and reap it."""
        if not self.is_alive():
            self.wait(0.1)
            return
        with contextlib.suppress(ProcessLookupError):
            self._proc.terminate()  # type: ignore[attr-defined]
        if self.wait(grace) is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()  # type: ignore[attr-defined]
            self.wait(grace)


def start(
    tool: str,
    *args: str,
    on_line: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> Background:
    """Start `tool args...` in the background; each line it prints (stdout or stderr) goes to `on_line`."""
    import sh

    path = require(tool)
    _announce(tool, args)
    log.info("$ %s  (background)", shlex.join((path, *args)))

    def deliver(line: str) -> None:
        text = line.rstrip("\n")
        log.info("  | %s", text)
        on_line(text)

    proc = sh.Command(path)(
        *args,
        _bg=True,
        _bg_exc=False,
        _out=deliver,
        _err=deliver,
        _env={**os.environ, **env} if env else None,
        _ok_code=list(range(256)),
        _encoding="utf-8",
        _decode_errors="replace",
        _new_session=True,
    )
    return Background((path, *args), proc)


def _announce(tool: str, args: Sequence[str]) -> None:
    if _echo is not None:
        _echo("$ " + shlex.join((tool, *args)))


def _record(result: Result, input: str | None) -> None:
    log.info("$ %s", result.command_line)
    if input is not None:
        log.debug("  stdin: %s", input if len(input) < 4000 else f"<{len(input)} bytes>")
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        if text.strip():
            log.info("  %s:\n%s", name, _indent(text))
    log.info("  exit %d in %.2fs", result.exit_code, result.duration)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").splitlines())
