"""Independent runs (training stages, evaluations) spread over worker processes."""

from __future__ import annotations

__all__ = ["in_processes"]


def in_processes(function, tasks, jobs):
    """Yield ``function(task)`` for every task, in order, computed in up to ``jobs`` worker processes.

    Results come as soon as they and those before them are done (for
    progress messages). Workers are spawned (not forked), so each starts with
    a fresh PyTorch; ``function`` must be a module-level function and the
    tasks picklable. With one job, or one task, everything runs in this
    process.
    """
    tasks = list(tasks)
    if jobs <= 1 or len(tasks) <= 1:
        yield from map(function, tasks)
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=get_context("spawn")) as pool:
        yield from pool.map(function, tasks)
