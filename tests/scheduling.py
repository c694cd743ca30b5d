"""pytest plugin: under `make test` (`-n 3 --dist loadfile`) the costliest work starts first, so no worker idles at
the end while the other finishes a long file.

pytest-xdist's loadfile hands out whole files, one at a time, to whichever worker has little left; by default it
hands them out in the order of how many tests each file has (its `loadscope-reorder`), which puts a file of five
real-release installs (minutes) after every file of many quick unit tests. Here instead:

* each worker sorts the collected files by an estimated cost (below), costliest first, keeping the order of the
  tests inside a file; xdist hands the files out in that collection order (the scheduler below does not re-sort);
* each test of the files in `EACH_TEST_ALONE` (one real release per test, no module fixtures) is a unit of its own,
  so their installs spread over both workers instead of queueing on one.

A file's cost is the seconds its tests took in the last run that ran it (the controller keeps them in pytest's cache,
`.pytest_cache`, key `kfinstall/file-seconds`); a file that has not run yet (a fresh checkout, CI) is estimated
from what its tests' fixtures start: a real release installed on the fake minikube costs most, then a real
release's builds, a fake tool, a bare cluster double. It only orders the run: which tests run, and how each runs,
is unchanged, and a serial `pytest` keeps pytest's own order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

#: Files whose tests are scheduled one by one (each installs a real release of its own). They may not use module,
#: class or package fixtures: split over the workers, those would be built on each.
EACH_TEST_ALONE = frozenset(
    {
        "tests/test_releases_on_the_double.py",
        "tests/test_verify_releases.py",
        "tests/test_verify_pins.py",
        "tests/test_upgrade_releases.py",  # three real-release upgrades, the longest tests: on one worker in a row
    }
)

#: A test's estimated cost by the costliest fixture it uses (relative units, roughly seconds on two busy cores).
_COSTS = (
    (frozenset({"bundle_releases"}), frozenset({"fake_tools"}), 60.0),  # a real release on the fake minikube
    (frozenset({"bundle_releases"}), frozenset(), 15.0),  # builds of a real release
    (frozenset({"fake_tools", "synthetic_release"}), frozenset(), 8.0),  # fake tools: usually a synthetic install
    (frozenset({"cluster", "make_cluster"}), frozenset(), 2.0),  # a bare double
)


def estimated_cost(fixturenames: set[str]) -> float:
    """The estimated cost of a test that uses these fixtures."""
    for any_of, also, cost in _COSTS:
        if fixturenames & any_of and also <= fixturenames:
            return cost
    return 0.2


#: The pytest cache key of the seconds each file's tests took when it last ran.
CACHE_KEY = "kfinstall/file-seconds"


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def costliest_first(files: list[tuple[str, float]]) -> list[str]:
    """File names by cost, costliest first; files of equal cost keep their order."""
    cost = dict(files)
    position = {name: i for i, name in enumerate(cost)}
    return sorted(cost, key=lambda name: (-cost[name], position[name]))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: the order stays pytest's
        return
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    measured = cache.get(CACHE_KEY, {}) if cache is not None else {}
    measured = measured if isinstance(measured, dict) else {}
    costs: dict[str, float] = defaultdict(float)
    for item in items:
        costs[_file(item.nodeid)] += estimated_cost(set(getattr(item, "fixturenames", ())))
        if _file(item.nodeid) in EACH_TEST_ALONE:
            _refuse_shared_fixtures(item)
    for name in costs:
        if isinstance(measured.get(name), (int, float)):
            costs[name] = float(measured[name])
    rank = {name: i for i, name in enumerate(costliest_first(list(costs.items())))}
    items.sort(key=lambda item: rank[_file(item.nodeid)])


class _FileSeconds:
    """On the xdist controller: adds up each file's test durations (setup, call, teardown) as the reports arrive."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[_file(report.nodeid)] += report.duration


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no":
        config.pluginmanager.register(_FileSeconds(), "kfinstall-file-seconds")


def pytest_sessionfinish(session: pytest.Session) -> None:
    recorder = session.config.pluginmanager.get_plugin("kfinstall-file-seconds")
    cache = getattr(session.config, "cache", None)
    if recorder is None or cache is None or not recorder.seconds:
        return
    known = cache.get(CACHE_KEY, {})
    known = known if isinstance(known, dict) else {}
    known.update({name: round(seconds, 1) for name, seconds in recorder.seconds.items()})
    cache.set(CACHE_KEY, known)


def _refuse_shared_fixtures(item: pytest.Item) -> None:
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(info, "names_closure", ()):
        for definition in (info.name2fixturedefs.get(name) or ()) if info else ():
            if definition.scope in ("module", "class", "package"):
                raise pytest.UsageError(
                    f"{item.nodeid} uses the {definition.scope} fixture {name!r}, but its file is in "
                    "tests/scheduling.py EACH_TEST_ALONE (its tests run on either worker): drop it from there"
                )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist", "no") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class CostlyFirstFileScheduling(LoadFileScheduling):
        """loadfile, in the workers' collection order, with EACH_TEST_ALONE's tests as units of their own."""

        _ordered = False

        def _split_scope(self, nodeid: str) -> str:
            return nodeid if _file(nodeid) in EACH_TEST_ALONE else _file(nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if not self._ordered:  # xdist queued the units by test count; put them back in collection order
                first: dict[str, int] = {}
                for nodeid in self.collection:
                    first.setdefault(self._split_scope(nodeid), len(first))
                for scope in sorted(self.workqueue, key=first.__getitem__):
                    self.workqueue.move_to_end(scope)
                self._ordered = True
            super()._assign_work_unit(node)

    return CostlyFirstFileScheduling(config, log)
