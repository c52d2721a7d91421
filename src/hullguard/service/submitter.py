"""The in-process submitter: a small bounded thread pool running pipeline's
:func:`~hullguard.pipeline.worker.run_image_job` and recording each outcome in the store.

It implements :class:`~hullguard.pipeline.submit.Submitter` (the Celery one plugs into the
same seam). Submissions are rows in the store (queued, running, done, failed): a second
submission of a digest still queued or running gets the first one's id (dedup by digest);
more than ``queue_size`` waiting scans is a :class:`QueueFull` (the API answers 503)."""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hullguard.errors import HullguardError
from hullguard.pipeline.jobs import ImageJob, ImageOutcome, named_sbom
from hullguard.pipeline.submit import PUSH_QUEUE
from hullguard.pipeline.worker import run_image_job

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

log = logging.getLogger("hullguard.service")


class QueueFull(HullguardError):
    """The service has as many scans waiting as it may hold."""


# Not pipeline.inline.InlineSubmitter, on purpose: that one scans synchronously for the
# monitor (a failed scan raises so the watch retries the tag; the outcome is recorded with
# monitor events per finding and secret, no submission row); this one queues for the API
# (bounded, returns at once, one submission row per job deduplicated by digest, the outcome
# recorded as a scan with its lineage entry and no events, a failure kept as the row's error).
class InProcessSubmitter:
    def __init__(self, engine: Engine, *, workers: int = 2, queue_size: int = 100,
                 runner: Callable[[ImageJob], ImageOutcome] = run_image_job) -> None:
        self.engine = engine
        self.queue_size = queue_size
        self.runner = runner
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                        thread_name_prefix="hullguard-scan")
        self._lock = threading.Lock()
        self._pending = 0  # queued or running in this process
        self.trigger = "api"

    @property
    def depth(self) -> int:
        return self._pending

    def submit(self, job: ImageJob, *, queue: str = PUSH_QUEUE, trigger: str = "api",
               digest: str = "") -> str:
        """Queue ``job``; its submission id (an earlier one's for a digest already queued).
        ``digest``: what to deduplicate on (the pushed digest; default the job's)."""
        from hullguard.store.service import Submission, add_submission

        with self._lock:
            if self._pending >= self.queue_size:
                raise QueueFull(f"{self._pending} scans are waiting, the most this service "
                                "holds", where="queue", hint="retry later")
            wanted = Submission(uuid.uuid4().hex, job.reference, digest or job.digest, queue,
                                trigger, "queued", datetime.now(UTC))
            recorded = add_submission(self.engine, wanted)
            if recorded.id != wanted.id:
                return recorded.id  # the same digest is queued or running already
            self._pending += 1
        self._pool.submit(self._run, wanted.id, job)
        return wanted.id

    def _run(self, submission_id: str, job: ImageJob) -> None:
        from hullguard.store.service import set_status

        try:
            set_status(self.engine, submission_id, "running")
            scan_id, error = self._scan(job)
            set_status(self.engine, submission_id, "done" if scan_id else "failed",
                       scan_id=scan_id, error=error)
        except Exception as failure:  # a store failure: keep the thread, say so once
            log.error("submission %s failed: %s: %s", submission_id, type(failure).__name__,
                      str(failure).splitlines()[0][:300] if str(failure) else "")
        finally:
            with self._lock:
                self._pending -= 1

    def _scan(self, job: ImageJob) -> tuple[int | None, str]:
        """Run the job and record its outcome; (scan id, "") or (None, why not)."""
        from hullguard.store.runs import record_image

        result = self.runner(job).result
        if result.problem is not None or result.sbom is None:
            problem = result.problem
            return None, f"{problem.kind}: {problem.message}" if problem else "no SBOM"
        label = job.options.db_path or "none"
        return record_image(self.engine, named_sbom(result.sbom, job), result.findings, label), ""

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

