"""`kfinstall port-forward`: `kubectl port-forward` to Kubeflow's gateway, kept alive.

`kubectl port-forward` is fragile on minikube: a pod restart or an idle connection ends it with `lost connection
to pod`, and older kubectl versions print `an error occurred forwarding` and then hang without forwarding.
So kfinstall supervises it: it restarts kubectl with backoff (one line each time), gives up after a few quick
failures in a row with kubectl's own last error, and only announces the URL once the gateway really answers an
HTTP request. An API server that does not answer (connection refused while minikube's API server restarts, tens
of seconds after a laptop resumes: kubernetes/minikube#1981, #21593) is not such a failure: it is waited out with
a longer backoff for up to UNAVAILABLE_LIMIT, saying since when, while permanent errors (no such Service or
namespace, a busy port) still end it at once or after the few quick failures. kubectl runs in its own session
(runner.start), so Ctrl-C reaches kfinstall only, and kfinstall stops kubectl on every way out: nothing is left
listening on the port.
"""

from __future__ import annotations

import contextlib
import http.client
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kfinstall import runner
from kfinstall.errors import KfError, UsageError
from kfinstall.kube import classify, localport
from kfinstall.kube.presence import Presence

SERVICE = "svc/istio-ingressgateway"
NAMESPACE = "istio-system"
DEFAULT_PORT = 8080

#: kubectl lines after which the forward is broken, even if kubectl keeps running.
BROKEN_MARKERS = ("lost connection to pod", "an error occurred forwarding")
#: kubectl errors that restarting cannot fix.
FATAL_MARKERS = ("NotFound", "not found", "does not have any ports", "Unauthorized", "forbidden")
#: Give up after this many failures in a row, each within QUICK_SECONDS of its start.
MAX_QUICK_FAILURES = 4
QUICK_SECONDS = 10.0
#: An API server not answering is waited out this long (seconds since its first refusal) before giving up.
UNAVAILABLE_LIMIT = 180.0
#: How often and how long to ask the gateway whether it answers.
POLL_SECONDS = 0.2
ANSWER_TIMEOUT = 60.0


@dataclass(frozen=True)
class ForwardOptions:
    context: str
    port: int = DEFAULT_PORT
    address: str = "127.0.0.1"
    #: The minikube profile behind `context` (None with `--context`): a deleted profile ends the forward at once.
    minikube_profile: str | None = None

    @property
    def url(self) -> str:
        host = "localhost" if localport.is_loopback(self.address) or self.address == "0.0.0.0" else self.address
        return f"http://{host}:{self.port}"


def backoff(failures: int) -> float:
    """Seconds to wait before restart number `failures` (1, 2, ...): 0.5, 1, 2, 4, capped at 8."""
    return min(0.5 * 2 ** max(failures - 1, 0), 8.0)


def unavailable_backoff(tries: int) -> float:
    """Seconds before try number `tries` (1, 2, ...) while the API server does not answer: 1, 2, 4, capped at 5."""
    return min(2.0 ** max(tries - 1, 0), 5.0)


def api_server_unavailable(output: str) -> bool:
    """Does kubectl's output say only that the API server does not answer (refused, reset, 503), the one failure
    that heals by itself? The words are the apply retry's (classify.py), which knows kubectl's texts."""
    failure = classify.classify_apply_failure(output)
    return failure.retryable and failure.reason == "API server unavailable"


def is_broken(line: str) -> bool:
    return any(marker in line for marker in BROKEN_MARKERS)


def is_error(line: str) -> bool:
    """A kubectl line worth showing when it fails (klog `E1129 ...` lines, `error: ...`, `Unable to ...`)."""
    stripped = line.strip()
    return bool(stripped) and (
        (stripped[:1] == "E" and stripped[1:5].isdigit()) or stripped.lower().startswith(("error", "unable"))
    )


def check_port(options: ForwardOptions) -> None:
    """Fail before starting kubectl when the port cannot be used, naming who holds it when we can tell."""
    if not localport.in_range(options.port):
        raise UsageError(f"--port {options.port} is not a TCP port", "use a port between 1 and 65535, e.g. 8080")
    if localport.is_free(options.address, options.port):
        return
    who = localport.holder(options.port)
    suggestion = localport.next_free(options.address, options.port)
    hint = f"use another port, e.g. `kfinstall port-forward --port {suggestion}`" if suggestion else "use --port"
    if who is not None:
        hint = f"stop it (kill {who.pid}) or {hint}"
    held = f": it is used by {who}" if who else " (in use)"
    raise KfError(f"port {options.port} on {options.address} is not free{held}", hint)


def gateway_answers(options: ForwardOptions) -> bool:
    """Does an HTTP GET on the forwarded port get any HTTP answer (a redirect to the login page counts)?"""
    host = "127.0.0.1" if options.address in ("0.0.0.0", "localhost") else options.address
    connection = http.client.HTTPConnection(host, options.port, timeout=2)
    try:
        connection.request("GET", "/")
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


class _Run:
    """One kubectl process: its lines, whether it reported a broken forward."""

    def __init__(self, options: ForwardOptions) -> None:
        self.lines: list[str] = []
        self.broken = threading.Event()
        self.started = time.monotonic()
        self.process = runner.start(
            "kubectl", "--context", options.context, "port-forward", SERVICE, "-n", NAMESPACE,
            f"{options.port}:80", "--address", options.address, on_line=self._line,
        )  # fmt: skip

    def _line(self, line: str) -> None:
        self.lines.append(line)
        if is_broken(line):
            self.broken.set()

    @property
    def last_error(self) -> str:
        errors = [line for line in self.lines if is_error(line)]
        return "\n".join(errors[-2:]) if errors else "\n".join(self.lines[-2:])


class Supervisor:
    """Keeps one `kubectl port-forward` alive; `run` returns only by raising (KfError, KeyboardInterrupt) or after
    `close`."""

    def __init__(
        self,
        options: ForwardOptions,
        say: Callable[[str], None],
        on_ready: Callable[[], None],
        interrupts: _Interrupts | None = None,
    ) -> None:
        self.interrupts = interrupts or _Interrupts()
        self.options = options
        self.say = say
        self.on_ready = on_ready
        self.current: _Run | None = None
        self.announced = False
        #: Set by `close`: `run` then returns instead of restarting kubectl.
        self.closing = threading.Event()
        #: A cluster deleted under the forward (`minikube delete`, the context removed) is said at once, not waited
        #: out as a restarting API server for UNAVAILABLE_LIMIT seconds (kube/presence.py).
        self.presence = Presence(
            options.context, options.minikube_profile, hint="create it again with `kfinstall up`, then forward"
        )

    def run(self) -> None:
        failures = 0
        down_since: float | None = None  # when the API server stopped answering (monotonic), None while it does
        down_tries = 0
        while not self.closing.is_set():  # closed during a backoff: no new kubectl
            with self.interrupts.held():
                run = self.current = _Run(self.options)
            answered = self._watch(run)
            exit_code = run.process.wait(0)
            with self.interrupts.held():
                self.stop()
            if self.closing.is_set():
                return
            why = run.last_error or f"kubectl exited with code {exit_code}"
            if not answered and api_server_unavailable(why):  # its own backoff; not one of the quick failures
                self.presence.check()
                down_since = run.started if down_since is None else down_since
                down_tries += 1
                waited = time.monotonic() - down_since
                if waited > UNAVAILABLE_LIMIT:
                    raise KfError(
                        f"the API server has not answered for {waited:.0f}s: {_first_line(why)}",
                        "is the cluster running? `minikube status`, `kfinstall status`",
                    )
                self.say(f"API server not answering, retrying ({waited:.0f}s)…")
                time.sleep(unavailable_backoff(down_tries))
                continue
            down_since, down_tries = None, 0
            quick = time.monotonic() - run.started < QUICK_SECONDS
            failures = failures + 1 if quick else 1
            fatal = not answered and any(marker in why for marker in FATAL_MARKERS)
            if fatal or failures >= MAX_QUICK_FAILURES:
                raise KfError(
                    f"kubectl port-forward failed{'' if fatal else f' {failures} times in a row'}: {why}",
                    "is Kubeflow running and ready? see `kfinstall status`",
                )
            delay = backoff(failures)
            what = "lost the connection" if run.broken.is_set() else f"exited (code {exit_code})"
            self.say(f"kubectl port-forward {what}: {_first_line(why)}; restarting in {delay:g}s")
            time.sleep(delay)

    def _watch(self, run: _Run) -> bool:
        """Until kubectl ends or reports a broken forward; True if the gateway answered meanwhile."""
        answered = False
        asked_since = time.monotonic()
        while run.process.is_alive() and not run.broken.is_set() and not self.closing.is_set():
            if not answered and gateway_answers(self.options):
                answered = True
                if not self.announced:
                    self.announced = True
                    self.on_ready()
                else:
                    self.say(f"forwarding again on {self.options.url}")
            elif not answered and time.monotonic() - asked_since > ANSWER_TIMEOUT:
                self.say("kubectl is running but the gateway does not answer yet: see `kfinstall status`")
                asked_since = time.monotonic()
            time.sleep(POLL_SECONDS)
        return answered

    def stop(self) -> None:
        if self.current is not None:
            self.current.process.stop()

    def close(self) -> None:
        """End `run` (from another thread): no restart, kubectl stopped."""
        self.closing.set()
        self.stop()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


class _Interrupts:
    """Ctrl-C, SIGTERM and SIGHUP (terminal closed) as KeyboardInterrupt, held back while kubectl is started or
    stopped: an interrupt there must neither leave a started kubectl unknown to `stop` nor cut a stop short."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.holding = 0
        self.pending = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self, deliver: bool = True) -> Iterator[None]:
        self.holding += 1
        try:
            yield
        finally:
            self.holding -= 1
            if deliver and not self.holding and self.pending:
                self.pending = False
                raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self) for sig in self.SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def forward(options: ForwardOptions, say: Callable[[str], None], on_ready: Callable[[], None]) -> None:
    """Check the port, then supervise kubectl until Ctrl-C (returns) or repeated failure (KfError)."""
    check_port(options)
    interrupts = _Interrupts()
    supervisor = Supervisor(options, say, on_ready, interrupts)
    with interrupts.installed():
        try:
            supervisor.run()
        except KeyboardInterrupt:
            pass
        finally:
            with interrupts.held(deliver=False):
                supervisor.stop()


@contextlib.contextmanager
def forwarding(options: ForwardOptions, say: Callable[[str], None], timeout: float = ANSWER_TIMEOUT) -> Iterator[str]:
    """A supervised forward for the length of a `with` block (a command that needs the gateway for a while, like
    `verify`): yields the URL once the gateway answers; kubectl is stopped on the way out, whatever happens.
    The supervisor runs in a thread; Ctrl-C reaches the main thread, whose `runner.interrupts` stops kubectl."""
    check_port(options)
    ready = threading.Event()
    failure: list[BaseException] = []
    supervisor = Supervisor(options, say, ready.set)

    def supervise() -> None:
        try:
            supervisor.run()
        except BaseException as error:  # handed to the waiting thread
            failure.append(error)
        finally:
            ready.set()

    thread = threading.Thread(target=supervise, name="port-forward", daemon=True)
    thread.start()
    try:
        if not ready.wait(timeout) or failure:
            if failure:
                raise failure[0]
            message = f"the gateway did not answer on {options.url} within {timeout:.0f}s"
            raise KfError(message, "see `kfinstall status`")
        yield options.url
    finally:
        supervisor.close()
        thread.join(10)
