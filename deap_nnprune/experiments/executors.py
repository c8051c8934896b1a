"""Where a run's tasks execute: this process, a process pool, SCOOP or Dask.

A task is one trial (or, with ``run.batch_trials``, all coevolution trials as
one population), run by :func:`~.trial.run_task`, which writes its own files.
Every random draw comes from the trial's seed and the training engine gives
a network the same bits whatever it is trained with, so every executor
writes the tables the serial run writes, byte for byte. What an executor
must give a worker for that: one torch thread and MKL's alignment-independent
mode (:func:`deap_nnprune._reproducible.worker_environment`).

* ``serial``: this process, in order;
* ``processes``: a ``concurrent.futures.ProcessPoolExecutor`` of
  ``workers`` spawned processes;
* ``scoop``: SCOOP's ``futures.map``; the run must be started by
  ``python -m scoop [-n N] [--hostfile FILE] $(which deap-nnprune) run ...``;
* ``dask``: a ``distributed.Client`` joined to ``scheduler`` (an address such
  as ``tcp://host:8786``, for instance a dask-jobqueue SLURM cluster), or to
  a ``LocalCluster`` of ``workers`` worker processes started for the run. A
  task whose worker dies is rescheduled by Dask and resumes from the trial's
  last checkpoint.
* ``auto`` (default): ``scoop`` under ``python -m scoop``, else ``serial``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from .._optional import require
from .._reproducible import worker_environment

__all__ = ["EXECUTORS", "resolve_executor", "executor_map", "under_scoop"]

EXECUTORS = ("auto", "serial", "processes", "scoop", "dask")


def under_scoop() -> bool:
    """Whether this process was started by ``python -m scoop``."""
    try:
        import scoop
    except ImportError:
        return False
    return bool(getattr(scoop, "IS_RUNNING", False))


def resolve_executor(name: str) -> str:
    """The executor *name* means here (``auto`` → ``scoop`` or ``serial``); refuse one that cannot run.

    >>> resolve_executor("serial")
    'serial'
    """
    if name == "auto":
        return "scoop" if under_scoop() else "serial"
    if name == "scoop" and not under_scoop():
        raise ValueError(
            "run.executor = scoop needs the run started by SCOOP: python -m scoop -n N $(which deap-nnprune) run ..."
        )
    if name == "dask":
        require("distributed", "dask", "run.executor = dask")
    return name


def default_workers() -> int:
    """Worker processes when ``run.workers`` is 0: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(environment: dict[str, str]) -> None:
    os.environ.update(environment)
    import torch

    torch.set_num_threads(1)


@contextlib.contextmanager
def executor_map(
    name: str, workers: int = 0, scheduler: str | None = None
) -> Iterator[Callable[[Callable, Sequence], Iterable]]:
    """A ``map(function, tasks)`` for executor *name*; results come back as tasks finish (any order).

    The executor is started on entry and shut down on exit.

    >>> with executor_map("serial") as run_all:
    ...     sorted(run_all(abs, [-2, 1]))
    [1, 2]
    """
    name = resolve_executor(name)
    workers = workers or default_workers()
    if name == "serial":
        yield map
    elif name == "scoop":
        from scoop import futures

        yield futures.map
    elif name == "processes":
        import multiprocessing

        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(worker_environment(),),
        )
        try:
            yield lambda function, tasks: (f.result() for f in as_completed([pool.submit(function, t) for t in tasks]))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield from _dask_map(workers, scheduler)


def _dask_map(workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed
    from distributed.diagnostics.plugin import WorkerPlugin

    class _Reproducible(WorkerPlugin):  # every worker, also one that joins later (e.g. a scaled SLURM cluster)
        def __init__(self, environment: dict[str, str]) -> None:
            self.environment = environment

        def setup(self, worker) -> None:
            _init_worker(self.environment)

    environment = worker_environment()
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)  # inherited by the LocalCluster's worker processes, restored below
    try:
        if scheduler:
            cluster, client = None, Client(scheduler)
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=40,
            )
            client = Client(cluster)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        client.register_plugin(_Reproducible(environment))

        def run_all(function, tasks):
            # No retries: Dask reschedules a task whose worker died by itself; a task that raises is an error.
            futures = client.map(function, list(tasks), pure=False)
            return (future.result() for future in dask_completed(futures))

        yield run_all
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
