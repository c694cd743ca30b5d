"""The dependency-graph scheduler: each component starts the moment the components it depends on are done.

Among the components free to go, those with the longest chain of dependents go first (`chain_lengths`): they are
the ones the rest of the install waits for. A build that fails stops the schedule as soon as it fails, not when
its component's turn comes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

from kfinstall.install.work import Work
from kfinstall.release.selection import chain_lengths


def run_in_order(works: Sequence[Work], install: Callable[[Work], None], pool: Executor, done: Collection[str]) -> None:
    """Run `install` for each of `works` not in `done`, in dependency order and in parallel where the graph allows
    (one pool thread per component in flight); raise the first failure, a build's failure included.

    A dependency that is not among `works` (left out of the install) counts as done.
    """
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
                dep in finished_ids or (dep not in pending and dep not in running.values()) for dep in work.depends_on
            ):
                del pending[work_id]
                running[pool.submit(install, work)] = work_id
        if not running:
            break
        finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
        for future in finished:
            work_id = running.pop(future)
            error = future.exception()
            if error is None:
                finished_ids.add(work_id)
            elif failure is None:
                failure = error
    if failure is not None:
        raise failure
