"""The one seam between kfinstall and external programs (minikube, kubectl, kustomize, git, docker, ...).

Nothing else in kfinstall starts processes. Keeping every call here gives three things in one place:
tool-path overrides (`KFINSTALL_KUBECTL=/opt/kubectl-1.19/kubectl`, ...), the `--verbose` echo of each command,
and a log file that records every command with its full output, which is what a user attaches to a bug report.

It is also the one place that knows which processes are running, so it is the one place that stops them. Every
child starts in a session of its own (`setsid`; it is then the leader of its own process group), so a Ctrl-C in
the terminal, or the SIGHUP of a closed one, reaches kfinstall alone: kfinstall, not the terminal, decides how its
children end. On SIGINT, SIGTERM or SIGHUP (`interrupts`, installed by the CLI for every command) the children
running at that moment get SIGTERM, then SIGKILL after `STOP_GRACE` seconds, each to its whole process group
(git's helpers, a shell's children), from a thread of their own, while the main thread unwinds (an exception
path that waits for a worker thread would otherwise wait for the very process it should stop). After an interrupt
only the main thread may start processes (its cleanup: the install record's last write); in any other thread
`run` and `start` raise `Interrupted`, so no retry loop restarts what was just stopped.
What cannot be handled is SIGKILL of kfinstall itself: its children then run to their own end.

A `run` past its `timeout` is stopped the same way, as a whole group: SIGTERM, then SIGKILL after `STOP_GRACE`.
The group, because the program may have children of its own holding the same pipes and doing the work (git's
remote helpers, minikube's ssh and docker children, a shell's commands); sh's own `_timeout` kills the direct
child only, which left them running on, racing the retry. SIGTERM first, because some of those programs clean
up on it and not on SIGKILL: git removes its `*.lock` files on SIGTERM (git/git tempfile.c: `activate_tempfile`
-> `sigchain_push_common(remove_tempfiles_on_signal)`), and a stale `shallow.lock` or `index.lock` would fail the
retry of a timed-out fetch; kubectl (Go's default: SIGTERM ends the process at once) loses nothing by it. The
timer stops nothing once an interrupt was signalled (the interrupt stops the children then, and they count as
interrupted, not timed out), and it is a daemon thread cancelled when `run` returns, so it never holds up the
exit of an interrupted kfinstall. The output a timed-out program printed until then is kept: it says where it hung.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from kfinstall.errors import Interrupted, ToolNotFoundError

log = logging.getLogger("kfinstall.runner")

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
    stdout_to: os.PathLike[str] | None = None,
) -> Result:
    """Run `tool args...` to completion and return its exit code and output; never raises for a non-zero exit.

    `env` adds to (does not replace) the current environment. `log_input=False` keeps `input` out of the log
    file (it may hold a secret). A command past its `timeout` is stopped with its whole process group (see the
    module's docstring) and reported with exit code 124, its output so far and "timed out after Ns" in stderr.
    `stdout_to` writes stdout, byte for byte, into that file (created or truncated) instead of the result and the
    log, which names the file and its size only: a database dump is data, not a log line, and may be large.
    """
    import sh  # imported here: `kfinstall --help` must not pay for it

    path = require(tool)
    argv = (path, *args)
    _announce(tool, args)
    started = time.monotonic()
    full_env = {**os.environ, **env} if env else None
    sink = open(stdout_to, "wb") if stdout_to is not None else None  # noqa: SIM115 (closed below)
    child = _spawn(
        tool,
        lambda: sh.Command(path)(
            *args,
            **({"_out": sink} if sink is not None else {}),
            _in=input,
            _env=full_env,
            _cwd=os.fspath(cwd) if cwd is not None else None,
            _ok_code=list(range(256)),
            _bg=True,
            _bg_exc=False,
            _err_to_out=False,
            _tty_out=False,
            _encoding="utf-8",
            _decode_errors="replace",
            _new_session=True,
        ),
        waited=True,
    )
    timer = None
    if timeout is not None:
        timer = threading.Timer(timeout, _children.expire, args=(child, timeout))
        timer.daemon = True  # an interrupted kfinstall must not wait at its exit for a timer nobody cancelled
        timer.start()
    try:
        try:
            proc = child.proc.wait()  # type: ignore[attr-defined]
            result = Result(argv, proc.exit_code, _text(proc.stdout), _text(proc.stderr), time.monotonic() - started)
        except sh.SignalException as exc:
            result = Result(
                argv, 128 + abs(exc.exit_code), _text(exc.stdout), _text(exc.stderr), time.monotonic() - started
            )
    except BaseException:  # the main thread's KeyboardInterrupt: the child must not outlive it
        if timer is not None:
            timer.cancel()
        _children.stop_own(child)
        raise
    finally:
        if timer is not None:
            timer.cancel()
        if sink is not None:
            sink.close()
    if child.timed_out:  # however it ended (SIGTERM, SIGKILL, its own handler's exit code): its timeout ended it
        note = f"timed out after {timeout:g}s"
        stderr = result.stderr.rstrip("\n") + "\n" + note if result.stderr.strip() else note
        result = Result(argv, TIMEOUT_EXIT_CODE, result.stdout, stderr, result.duration)
    if stdout_to is not None:
        result = Result(argv, result.exit_code, "", result.stderr, result.duration)
        log.info("  stdout: %d bytes written to %s (not logged)", os.path.getsize(stdout_to), os.fspath(stdout_to))
    _record(result, input if log_input else (None if input is None else f"<{len(input)} bytes not logged>"))
    _children.forget(child)  # after its record: an interrupt's last log line comes after those it stopped
    if _children.signum is not None and threading.current_thread() is not threading.main_thread():
        raise _children.refusal()  # its end was the interrupt's doing: no retry, no "kubectl was killed"
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
    _child: _Child = field(repr=False)

    @property
    def pid(self) -> int:
        return self._child.pid

    def is_alive(self) -> bool:
        return self._child.is_alive()

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code once the process has ended, or None if it is still running after `timeout`."""
        code = self._child.wait(timeout)
        if code is not None:
            _children.forget(self._child)
        return code

    def stop(self, grace: float = 3.0) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after `grace` seconds) and reap the process."""
        self._child.stop(grace)
        _children.forget(self._child)


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

    child = _spawn(
        tool,
        lambda: sh.Command(path)(
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
        ),
        waited=False,
    )
    return Background((path, *args), child)


# Children and interrupts -------------------------------------------------------------------------------------

#: Seconds a child has to end after SIGTERM before it gets SIGKILL.
STOP_GRACE = 3.0
#: The signals that interrupt kfinstall: Ctrl-C, `kill`, a closed terminal. Each ends it with exit code 128 + N.
INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Child:
    """One started process (an sh RunningCommand): the leader of its own process group."""

    def __init__(self, tool: str, proc: object, waited: bool) -> None:
        self.tool = tool
        #: Whether a thread waits for it to end (`run`), rather than a `Background` handle.
        self.waited = waited
        self.proc = proc
        self.pid = int(proc.pid)  # type: ignore[attr-defined]
        #: Whether `run`'s timeout stopped it (set once, under the children's lock, before it is signalled).
        self.timed_out = False

    def is_alive(self) -> bool:
        return bool(self.proc.is_alive())  # type: ignore[attr-defined]

    def wait(self, timeout: float | None = None) -> int | None:
        import sh

        try:
            self.proc.wait(timeout=timeout)  # type: ignore[attr-defined]
        except sh.TimeoutException:
            return None
        except (sh.ErrorReturnCode, sh.SignalException):
            pass
        return int(self.proc.exit_code)  # type: ignore[attr-defined]

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM to the group, SIGKILL after `grace` seconds if the leader still runs, then reap it.

        A leader that ended by itself long ago is only reaped: its pid (so its group's id) may be another's now."""
        if self.is_alive():
            self.signal_group(signal.SIGTERM)
            self.wait(grace)
            self.signal_group(signal.SIGKILL)  # the leader if it is still running, and what it left in its group
        self.wait(grace)


class _Children:
    """The processes kfinstall is running, and the interrupt that stops them (one per process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[int, _Child] = {}
        self.signum: int | None = None
        self.stopped: list[str] = []
        #: The children already counted in `stopped` (the stopper and a child's own thread may both see it).
        self.counted: set[int] = set()
        self.done = threading.Event()
        self.wake: tuple[int, int] | None = None

    def forget(self, child: _Child) -> None:
        with self.lock:
            self.running.pop(id(child), None)

    def refusal(self) -> Interrupted:
        return Interrupted(self.signum or signal.SIGINT, list(self.stopped))

    def _count(self, children: list[_Child]) -> None:
        """Note these children as stopped by the interrupt, each once (the caller holds the lock)."""
        for child in children:
            if id(child) not in self.counted:
                self.counted.add(id(child))
                self.stopped.append(child.tool)

    def expire(self, child: _Child, timeout: float) -> None:
        """`run`'s timer: stop `child`'s whole group for running past `timeout`, unless it has ended (or been
        forgotten) meanwhile, or an interrupt was signalled: then the interrupt stops it, and it is interrupted,
        not timed out (a worker's `run` raises `Interrupted` for it, with no "timed out" retry)."""
        with self.lock:
            if self.signum is not None or id(child) not in self.running or not child.is_alive():
                return
            child.timed_out = True
            log.info("timeout: stopping pid %d (%s) after %gs, with its process group", child.pid, child.tool, timeout)
        child.stop()

    def stop_own(self, child: _Child) -> None:
        """The thread that waited for `child` stops it itself (the main thread's KeyboardInterrupt unwinds `run`):
        it counts as stopped by the interrupt, whether or not the stopper thread saw it first."""
        with self.lock:
            if self.signum is not None and child.is_alive():
                self._count([child])
        child.stop()
        self.forget(child)

    def stop_all(self, urgent: bool = False) -> None:
        """Stop every child running now (all at once, each with the grace unless `urgent`)."""
        with self.lock:
            targets = list(self.running.values())
            alive = [child for child in targets if child.is_alive()]
            if not urgent:
                self._count(alive)
        name = signal.Signals(self.signum or signal.SIGINT).name
        for child in alive:
            log.info("%s: stopping pid %d (%s)%s", name, child.pid, child.tool, " at once" if urgent else "")
        stoppers = [
            threading.Thread(target=child.stop, args=(0.05 if urgent else STOP_GRACE,), daemon=True)
            for child in targets
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        deadline = time.monotonic() + STOP_GRACE  # the threads that ran them record how they ended
        while any(child.waited and id(child) in self.running for child in alive) and time.monotonic() < deadline:
            time.sleep(0.02)

    def watch(self, read_fd: int) -> None:
        """The stopping thread: one byte per signal; the first stops the children, a second one hurries it."""
        first = True
        while True:
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:
                return
            for _ in data:
                if first:
                    first = False
                    threading.Thread(target=self._stop_first, daemon=True, name="stop-children-grace").start()
                else:
                    self.stop_all(urgent=True)

    def _stop_first(self) -> None:
        self.stop_all()
        self.done.set()

    def handle(self, signum: int, frame: object) -> None:
        """The Python-level signal handler (main thread): note the signal, wake the stopper, unwind once."""
        first = self.signum is None
        if first:
            self.signum = signum
        if self.wake is not None:
            with contextlib.suppress(OSError):
                os.write(self.wake[1], bytes([signum]))
        if first:
            raise KeyboardInterrupt


_children = _Children()


def _spawn(tool: str, make: Callable[[], object], *, waited: bool) -> _Child:
    """Start a process with `make` and track it; after an interrupt only the main thread may start one.

    The process is started and registered under the children's lock, which `stop_all` takes to see what runs:
    a signal that comes while a thread is starting one (sh forks, then sets up its I/O threads) waits for it to be
    registered and stops it, instead of missing it and leaving it behind."""
    with _children.lock:
        if _children.signum is not None and threading.current_thread() is not threading.main_thread():
            raise _children.refusal()
        child = _Child(tool, make(), waited)
        _children.running[id(child)] = child
    return child


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP as KeyboardInterrupt in the main thread, once; the children stopped meanwhile.

    Later signals do not unwind again (the cleanup runs to its end: nothing half-written); they cut the children's
    grace short instead. `interruption()` then says what happened; the CLI exits with its exit code."""
    read_fd, write_fd = os.pipe()
    _children.wake = (read_fd, write_fd)
    threading.Thread(target=_children.watch, args=(read_fd,), daemon=True, name="stop-children").start()
    previous = {signum: signal.signal(signum, _children.handle) for signum in INTERRUPT_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def interrupted_by() -> int | None:
    """The signal that interrupted kfinstall, if one did."""
    return _children.signum


def interruption(hint: str | None = None) -> Interrupted:
    """The error to end an interrupted command with, once every child running at the interrupt has ended."""
    if _children.signum is None:  # a KeyboardInterrupt nobody signalled (raised by code): stop what runs
        _children.signum = signal.SIGINT
        _children.stop_all()
        _children.done.set()
    elif _children.wake is not None:
        _children.done.wait(STOP_GRACE * 4)
    error = Interrupted(_children.signum, list(_children.stopped), hint)
    log.info("%s", error.message)
    return error


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
