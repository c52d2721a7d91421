"""Where image jobs run: the seam between the fleet use case and the machinery.

An :class:`Executor` takes jobs and yields ``(job, outcome)`` pairs as they finish, in any
order. Two exist now: :class:`InProcessExecutor` (this process, one at a time) and
:class:`LocalPoolExecutor` (worker processes, each opening the DB and the store once). A job
queue (Celery) is the third: its task calls :func:`~hullguard.pipeline.worker.run_image_job`
(or ``run_image_job_json``) and its executor yields the outcomes it collects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Protocol

from hullguard.pipeline.jobs import ImageJob, ImageOutcome, JobOptions
from hullguard.pipeline.worker import close_worker_context, init_pool_worker, run_image_job

JobRunner = Callable[[ImageJob], ImageOutcome]


class Executor(Protocol):
    def run(self, jobs: Sequence[ImageJob]) -> Iterator[tuple[ImageJob, ImageOutcome]]:
        """Run every job; yield each with its outcome as it finishes."""
        ...


class InProcessExecutor:
    def __init__(self, runner: JobRunner = run_image_job) -> None:
        self.runner = runner

    def run(self, jobs: Sequence[ImageJob]) -> Iterator[tuple[ImageJob, ImageOutcome]]:
        try:
            for job in jobs:
                yield job, self.runner(job)
        finally:
            close_worker_context()  # this process goes on: do not keep the DB open


class LocalPoolExecutor:
    """``workers`` processes; each runs the pool initializer once (signals, DB, store)."""

    def __init__(self, workers: int, runner: JobRunner = run_image_job) -> None:
        self.workers = workers
        self.runner = runner

    def run(self, jobs: Sequence[ImageJob]) -> Iterator[tuple[ImageJob, ImageOutcome]]:
        if not jobs:
            return
        options = jobs[0].options if len({j.options for j in jobs}) == 1 else JobOptions()
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)),
                                   initializer=init_pool_worker, initargs=(options,))
        try:
            futures: dict[Future[ImageOutcome], ImageJob] = {
                pool.submit(self.runner, job): job for job in jobs}
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            _stop(pool)
            raise
        pool.shutdown(wait=True)


def default_executor(workers: int, jobs: int) -> Executor:
    """In-process for one job or one worker (no process start-up), else a local pool."""
    if workers <= 1 or jobs <= 1:
        return InProcessExecutor()
    return LocalPoolExecutor(workers)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Interrupted (Ctrl-C, an error in this process): queued jobs are dropped and running
    workers are terminated now rather than finishing their images; none is left behind."""
    processes = list((pool._processes or {}).values())  # no public API to stop a running job
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)
