"""pytest plugin: no test writes into the user's home, kfinstall's cache or log directory, ~/.kube or ~/.minikube.

How: before collection, HOME points at an empty directory of this session and the variables that would lead
elsewhere (XDG_*_HOME, KFINSTALL_CACHE_DIR/KFINSTALL_LOG_DIR, KUBECONFIG, MINIKUBE_HOME) are removed, so every test
and every process it starts resolves "home" there (platformdirs, Path.home(), Go's os.UserHomeDir all read HOME).
After each test that directory must still be empty: anything in it is a write that would have gone into the
user's home (a test that forgot `isolated_env`, a default path the product should not touch), and the test errors
naming the files; the directory is then emptied for the next test. The real directories are checked too (their
listing with sizes and mtimes, before and after each test), for a process that finds the home some other way.

Another process of the same user may write into the real directories meanwhile: an engineer running kfinstall by
hand beside the suite. kfinstall names each log after the process that writes it (`TIME-COMMAND-PID.log`,
src/kfinstall/logfile.py), so a change to the real log directory that consists only of the logs of processes that
were never this test session's (`LogWriters`: a /proc watch of which processes carry the session's marker or descend
from this pytest), with the `latest.log` link and the pruning of old logs that such a run does, is another
process's and not an error; any other change, or a log whose writer was not seen at all, still is.

Why not make the real directories unwritable instead: the suite runs as root in CI and in the workplace, and root
writes through any permission bits, so that guard would not guard. Scanning one normally empty directory and four
usually absent ones after each test costs microseconds.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import processes

#: What leads a process to a home of its own choosing instead of HOME's (removed for the session).
_REDIRECTS = (
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "KFINSTALL_CACHE_DIR",
    "KFINSTALL_LOG_DIR",
    "KUBECONFIG",
    "MINIKUBE_HOME",
)

#: Toolchains installed in the real home that the build of the package (tests/test_package.py) finds through HOME:
#: kept where they are, or rustup writes a settings file of its own into the session's home.
_TOOLCHAINS = {"RUSTUP_HOME": ".rustup", "CARGO_HOME": ".cargo"}

#: The real directories, as the first pytest process of a run found them (for its worker processes).
_REAL_DIRS = "KFINSTALL_TESTS_REAL_DIRS"

_state: dict[str, object] = {}

#: kfinstall's log names (src/kfinstall/logfile.py `_LOG_NAME`): the writer's pid is the last part.
_LOG_NAME = re.compile(r"^\d{8}-\d{6}-[a-z0-9-]+-(?P<pid>\d+)\.log$")
_LATEST = "latest.log"


class LogWriters:
    """Which processes are this session's, for telling its kfinstall logs from another process's.

    A thread lists /proc every `interval` seconds; each process it has not seen yet is this session's when its
    environment carries the session's marker (tests/leaks.py) or its parent is this pytest or one of the session's
    processes. A kfinstall run lasts far longer than the interval (its Python start alone does), so every writer of a
    log is seen; one that was not counts as the session's (the strict answer).
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.ours: set[int] = {os.getpid()}
        self.others: set[int] = set()
        self._alive: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._watch, name="home-guard-log-writers", daemon=True)

    def start(self) -> LogWriters:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.look()
            self._stop.wait(self._interval)

    def look(self) -> None:
        """Classify the processes started since the last look (pids in ascending order: parents mostly first)."""
        try:
            pids = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        except OSError:
            return
        from tests.leaks import MARKER  # here, not at import: tests.leaks is a plugin pytest loads (and rewrites) later

        marker = f"{MARKER}={os.environ.get(MARKER, '')}".encode()
        with self._lock:
            for pid in sorted(pids - self._alive):
                self._classify(pid, marker)
            self._alive = pids

    def _classify(self, pid: int, marker: bytes) -> None:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return  # ended already, or not ours to read: not seen, so a log it wrote counts as the session's
        if (marker.split(b"=", 1)[1] and marker in environ) or parent in self.ours:
            self.ours.add(pid)
        else:
            self.others.add(pid)

    def another_process_wrote(self, pid: int) -> bool:
        """Whether `pid` was seen, and only ever as a process that is not the session's."""
        self.look()
        with self._lock:
            return pid in self.others and pid not in self.ours


def _another_process_s_logs(directory: Path, before: frozenset | None, after: frozenset | None) -> bool:
    """Whether the change between two snapshots of a real directory is only another process's kfinstall logs."""
    writers = _state.get("writers")
    if not isinstance(writers, LogWriters) or before is None or after is None:
        return False
    changed = {entry[0] for entry in after - before}
    removed = {entry[0] for entry in before - after} - changed
    if not changed - {_LATEST}:
        return False  # only a link moved, or only logs went: nothing names a writer
    for name in changed - {_LATEST}:
        match = _LOG_NAME.match(name)  # directly in the log directory: kfinstall writes no subdirectories there
        if match is None or not writers.another_process_wrote(int(match["pid"])):
            return False
    if _LATEST in changed:
        try:
            if os.readlink(directory / _LATEST) not in changed:
                return False
        except OSError:
            pass  # removed again by then: a later run of the other process
    return all(_LOG_NAME.match(name) for name in removed)  # the pruning such a run does (logfile.py)


def real_directories() -> list[Path]:
    """The user's directories that kfinstall and the tools it runs write to, as the user's environment names them.

    Computed once, by the first pytest process: a worker process (pytest-xdist) inherits the session's HOME, so it
    reads the real directories from `_REAL_DIRS` instead.
    """
    inherited = os.environ.get(_REAL_DIRS)
    if inherited:
        return [Path(p) for p in inherited.split(os.pathsep)]
    import platformdirs

    home = Path.home()
    cache = os.environ.get("KFINSTALL_CACHE_DIR") or platformdirs.user_cache_dir("kfinstall")
    logs = os.environ.get("KFINSTALL_LOG_DIR") or platformdirs.user_log_dir("kfinstall")
    return [Path(cache), Path(logs), home / ".kube", home / ".minikube"]


def snapshot(directory: Path) -> frozenset[tuple[str, int, int]] | None:
    """Every file and directory under `directory` with its size and mtime (None: it does not exist)."""
    if not directory.exists():
        return None
    entries = set()
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = Path(root, name)
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue
            entries.add((str(path.relative_to(directory)), st.st_size, st.st_mtime_ns))
    return frozenset(entries)


def written(home: Path) -> list[str]:
    """What is in the session's home (relative paths, the first few)."""
    found = []
    for root, dirs, files in os.walk(home):
        for name in sorted(files) + sorted(d for d in dirs if not os.listdir(Path(root, d))):
            found.append(str(Path(root, name).relative_to(home)))
    return sorted(found)[:10]


def pytest_configure(config: pytest.Config) -> None:
    real = real_directories()
    _state["real"] = {directory: snapshot(directory) for directory in real}
    _state["saved"] = {name: os.environ.get(name) for name in ("HOME", _REAL_DIRS, *_REDIRECTS, *_TOOLCHAINS)}
    os.environ[_REAL_DIRS] = os.pathsep.join(str(directory) for directory in real)
    home = Path(tempfile.mkdtemp(prefix="kfinstall-tests-home-"))
    _state["home"] = home
    for name, directory in _TOOLCHAINS.items():  # rustup and cargo look for their toolchains under HOME
        if name not in os.environ and (Path.home() / directory).is_dir():
            os.environ[name] = str(Path.home() / directory)
    os.environ["HOME"] = str(home)
    for name in _REDIRECTS:
        os.environ.pop(name, None)
    if processes.supported():
        _state["writers"] = LogWriters().start()


def pytest_unconfigure(config: pytest.Config) -> None:
    writers = _state.pop("writers", None)
    if isinstance(writers, LogWriters):
        writers.stop()
    home = _state.pop("home", None)
    saved = _state.pop("saved", {})
    for name, value in saved.items():  # type: ignore[union-attr]
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if isinstance(home, Path):
        shutil.rmtree(home, ignore_errors=True)


def _empty(home: Path) -> None:
    for entry in home.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def home_guard() -> Iterator[None]:
    """Errors a test after which the session's home is not empty or a real directory of the user changed."""
    home = _state["home"]
    assert isinstance(home, Path)
    yield
    problems = []
    found = written(home)
    if found:
        problems.append(
            f"it wrote into the home directory ({', '.join(found)}): give kfinstall a cache and log directory "
            "of the test's own (tests/cli_helpers.py isolated_env) and tools a KUBECONFIG/MINIKUBE_HOME under tmp_path"
        )
        _empty(home)
    real: dict[Path, object] = _state["real"]  # type: ignore[assignment]
    for directory, before in real.items():
        after = snapshot(directory)
        if after != before:
            real[directory] = after  # reported once, by the test during which it changed
            if _another_process_s_logs(directory, before, after):  # type: ignore[arg-type]
                continue
            problems.append(f"{directory} changed during the test (the user's own directory)")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)
