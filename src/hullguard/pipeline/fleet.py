"""Scan a fleet: every distinct image through an :class:`Executor`, resumable through the
journal, one bad image never stops the rest (it is reported as not scanned, with why)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from time import perf_counter

from hullguard.pipeline.executors import Executor, default_executor
from hullguard.pipeline.jobs import ImageJob, ImageOutcome
from hullguard.pipeline.timing import Timings
from hullguard.respond.journal import Journal, JournalEntry
from hullguard.respond.model import ImageResult


def scan_fleet(jobs: Sequence[ImageJob], *, workers: int = 0, journal: Journal | None = None,
               on_done: Callable[[ImageResult], None] | None = None,
               executor: Executor | None = None,
               on_outcome: Callable[[ImageJob, ImageOutcome], None] | None = None
               ) -> list[ImageResult]:
    """Scan all jobs (by ``executor``; default: ``workers`` local processes, 0 = one per
    CPU). Workers read the journal; this process alone writes it, as each image finishes, so
    an interrupted run keeps them. Results come back in the order of ``jobs``;
    ``on_outcome`` hears each outcome with its timings, the journal write included."""
    if journal is not None:
        jobs = [replace(job, options=replace(job.options, journal=str(journal.root)))
                for job in jobs]
    executor = executor or default_executor(workers or os.cpu_count() or 1, len(jobs))
    results: dict[str, ImageResult] = {}
    for job, outcome in executor.run(jobs):
        outcome = _journaled(journal, outcome) if journal is not None else outcome
        results[job.reference] = outcome.result
        if on_outcome:
            on_outcome(job, outcome)
        if on_done:
            on_done(outcome.result)
    return [results[job.reference] for job in jobs]


def _journaled(journal: Journal, outcome: ImageOutcome) -> ImageOutcome:
    """Journal a fresh scan's SBOM and secrets; the time it took is the outcome's write time."""
    result = outcome.result
    if not outcome.journal_key or result.sbom is None:
        return outcome
    started = perf_counter()
    journal.save(outcome.journal_key, JournalEntry(result.sbom, result.secrets))
    written = Timings(write_s=perf_counter() - started)
    return replace(outcome, timings=outcome.timings.plus(written))
