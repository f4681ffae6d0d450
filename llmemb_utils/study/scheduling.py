"""Independent jobs in parallel worker processes, each started once the jobs it needs are done.

Each worker gets an equal share of the CPU threads (on a 2-core CPU two 1-thread runs finish
about 1.5x sooner than one after the other with 2 threads). Workers are spawned, not forked:
a fork after OpenMP use can deadlock.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TypeVar

Job = TypeVar("Job", bound=Hashable)
Result = TypeVar("Result")


def default_workers() -> int:
    """Parallel runs: one per core up to four on a CPU, one on a GPU."""
    import torch

    return 1 if torch.cuda.is_available() else max(1, min(4, os.cpu_count() or 1))


def schedule(train: Callable[[Job], Result], jobs: list[Job], needs: dict[Job, set[Job]],
             workers: int, cost: Callable[[Job], float] | None = None,
             ) -> Iterator[tuple[Job, Result]]:
    """Run ``train`` on ``jobs`` with up to ``workers`` processes, each once the jobs it needs
    are done: needed jobs first, then the costliest, so that the workers finish close
    together. With one worker, ``jobs`` run here in their order, which must respect ``needs``.
    """
    if workers <= 1:
        yield from ((job, train(job)) for job in jobs)
        return
    import torch

    needed = set().union(*needs.values())
    order = sorted(jobs, key=lambda job: (job not in needed, -(cost or _unit)(job)))
    threads = max(1, torch.get_num_threads() // workers)
    context = multiprocessing.get_context("spawn")
    done: set[Job] = set()
    earlier_children = set(multiprocessing.active_children())
    with _environment(TQDM_DISABLE="1"), _terminate_as_exit(), ProcessPoolExecutor(
            workers, mp_context=context, initializer=torch.set_num_threads,  # env inherited
            initargs=(threads,)) as pool:
        running: dict[Future, Job] = {}
        try:
            while order or running:
                for job in [j for j in order if needs[j] <= done][:workers - len(running)]:
                    order.remove(job)
                    running[pool.submit(train, job)] = job
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = running.pop(future)
                    done.add(job)
                    yield job, future.result()
        except BaseException:  # an error, an interrupted notebook cell, a closed generator
            _stop_workers(pool, earlier_children)
            raise


def _unit(job: Hashable) -> float:
    return 1.0


def _stop_workers(pool: ProcessPoolExecutor, earlier_children: set) -> None:
    """Cancel what has not started and terminate the workers (rather than letting them finish
    their runs, which resume from their checkpoints next time)."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in set(multiprocessing.active_children()) - earlier_children:
        process.terminate()


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """While workers run, SIGTERM (``kill``) raises SystemExit here, so that the workers are
    stopped with the study instead of training on without it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
