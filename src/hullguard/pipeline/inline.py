"""An in-process :class:`~hullguard.pipeline.submit.Submitter`: the job runs at once, in this
process, and its outcome (SBOM, findings, secret events) is recorded in the job's store.
``hullguard monitor run`` uses it for the tags its registry watch sees move; a queue-backed
submitter (:mod:`hullguard.workers`) takes the same jobs."""

from __future__ import annotations

import itertools

from hullguard.errors import HullguardError
from hullguard.pipeline.jobs import ImageJob
from hullguard.pipeline.submit import PUSH_QUEUE
from hullguard.pipeline.worker import run_image_job, worker_context


# Not service.submitter.InProcessSubmitter, on purpose: that one queues for the API (a
# bounded thread pool, a submission row per job deduplicated by digest, the outcome recorded
# as a scan with its lineage entry, a failure kept as the row's error); this one runs the job
# now for the monitor, raises on a failed scan so the watch retries the tag, and records the
# outcome with monitor events per finding and secret (alerts), with no submission row.
class InlineSubmitter:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.submitted: list[ImageJob] = []

    def submit(self, job: ImageJob, *, queue: str = PUSH_QUEUE) -> str:
        """Scan now and record; a failed scan raises (the watch tries the tag again)."""
        from hullguard.monitor.rematch import record_scanned
        from hullguard.store import open_store

        outcome = run_image_job(job)
        result = outcome.result
        if result.problem is not None or result.sbom is None:
            problem = result.problem
            raise HullguardError(problem.message if problem else "no SBOM",
                                 where=job.source, hint=problem.hint if problem else "")
        with open_store(job.options.store_url) as factory:
            record_scanned(factory, result.sbom, result.findings, result.secrets,
                           worker_context(job.options).db())
        self.submitted.append(job)
        return f"inline-{queue}-{next(self._ids)}"
