"""pytest plugin: no test writes into the user's home, kfinstall's cache or log directory, ~/.kube or ~/.minikube.

How: before collection, HOME points at an empty directory of this session and the variables that would lead
elsewhere (XDG_*_HOME, KFINSTALL_CACHE_DIR/KFINSTALL_LOG_DIR, KUBECONFIG, MINIKUBE_HOME) are removed, so every test
and every process it starts resolves "home" there (platformdirs, Path.home(), Go's os.UserHomeDir all read HOME).
After each test that directory must still be empty: anything in it is a write that would have gone into the
user's home (a test that forgot `isolated_env`, a default path the product should not touch), and the test errors
naming the files; the directory is then emptied for the next test. The real directories are checked too (their
listing with sizes and mtimes, before and after each test), for a process that finds the home some other way.

Why not make the real directories unwritable instead: the suite runs as root in CI and in the workplace, and root
writes through any permission bits, so that guard would not guard. Scanning one normally empty directory and four
usually absent ones after each test costs microseconds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def pytest_unconfigure(config: pytest.Config) -> None:
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
            problems.append(f"{directory} changed during the test (the user's own directory)")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)
