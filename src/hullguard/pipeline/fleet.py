"""Scan a fleet: every distinct image through an :class:`Executor`, resumable through the
journal, one bad image never stops the rest (it is reported as not scanned, with why)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace

from hullguard.pipeline.executors import Executor, default_executor
from hullguard.pipeline.jobs import ImageJob
from hullguard.respond.journal import Journal, JournalEntry
from hullguard.respond.model import ImageResult


def scan_fleet(jobs: Sequence[ImageJob], *, workers: int = 0, journal: Journal | None = None,
               on_done: Callable[[ImageResult], None] | None = None,
               executor: Executor | None = None) -> list[ImageResult]:
    """Scan all jobs (by ``executor``; default: ``workers`` local processes, 0 = one per
    CPU). Workers read the journal; this process alone writes it, as each image finishes, so
    an interrupted run keeps them. Results come back in the order of ``jobs``."""
    if journal is not None:
        jobs = [replace(job, options=replace(job.options, journal=str(journal.root)))
                for job in jobs]
    executor = executor or default_executor(workers or os.cpu_count() or 1, len(jobs))
    results: dict[str, ImageResult] = {}
    for job, outcome in executor.run(jobs):
        result = outcome.result
        if journal is not None and outcome.journal_key and result.sbom is not None:
            journal.save(outcome.journal_key, JournalEntry(result.sbom, result.secrets))
        results[job.reference] = result
        if on_done:
            on_done(result)
    return [results[job.reference] for job in jobs]
