"""The dependency-graph scheduler: each component starts the moment the components it depends on are done (or,
for the edges the pins mark `after_served`, served: install/installer.py).

Among the components free to go, those with the longest chain of dependents go first (`chain_lengths`): they are
the ones the rest of the install waits for. A build that fails stops the schedule as soon as it fails, not when
its component's turn comes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

from kfinstall.install.work import Work
from kfinstall.release.selection import chain_lengths


def run_in_order(
    works: Sequence[Work],
    install: Callable[[Work], None],
    pool: Executor,
    done: Collection[str],
    served: Collection[str] = (),
    after_served: Mapping[str, Collection[str]] | None = None,
) -> None:
    """Run `install` for each of `works` not in `done`, in dependency order and in parallel where the graph allows
    (one pool thread per component in flight); raise the first failure, a build's failure included.

    A dependency that is not among `works` (left out of the install) counts as done; one that `after_served`
    names for a component counts as done for it once it is in `served` (a live collection the installs fill).
    """
    after_served = after_served or {}
    finished_ids = set(done)
    pending: dict[str, Work] = {work.id: work for work in works if work.id not in finished_ids}
    chain = chain_lengths(works)
    running: dict[Future[None], str] = {}
    failure: BaseException | None = None
    while (pending or running) and failure is None:
        failure = next((error for work in pending.values() if (error := work.build_failure())), None)
        if failure is not None:
            break
        for work_id, work in sorted(pending.items(), key=lambda item: -chain[item[0]]):
            if all(
                dep in finished_ids
                or (dep not in pending and dep not in running.values())
                or (dep in served and dep in after_served.get(work_id, ()))
                for dep in work.depends_on
            ):
                del pending[work_id]
                running[pool.submit(install, work)] = work_id
        if not running:
            break
        # a served milestone is no future's end: look again soon when some component waits for one
        finished, _ = wait(list(running), timeout=0.1 if after_served else 0.5, return_when=FIRST_COMPLETED)
        for future in finished:
            work_id = running.pop(future)
            error = future.exception()
            if error is None:
                finished_ids.add(work_id)
            elif failure is None:
                failure = error
    if failure is not None:
        raise failure
