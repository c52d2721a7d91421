"""The scan task: one image job per message, idempotent, retried for registry errors only.

- Idempotent: a job that names its digest and finds an SBOM stored for it by this release
  (the store's ``tool_version``, i.e. the same catalogers) is answered from the store, with
  no image I/O; a job without a digest still reuses the stored SBOM (worker._stored_sbom)
  after reading the manifest, so the layers are walked once per digest.
- Retries: a registry failure (unreachable, 5xx, rate limited) is retried with exponential
  backoff; other failures (a broken image, a bad reference) fail at once: retrying them would
  give the same answer. A job that fails every retry goes to the dead-letter queue.
- Recording: with ``record`` (jobs from :class:`~.client.CelerySubmitter`) the worker writes
  the scan to the store; a fleet run through :class:`~.client.CeleryExecutor` records in the
  submitting process instead (the one writer of its run).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from hullguard.model.problem import Problem
from hullguard.pipeline.jobs import ImageJob, ImageOutcome
from hullguard.pipeline.worker import run_image_job, worker_context
from hullguard.respond.model import ImageResult
from hullguard.workers.limits import registry_slot

if TYPE_CHECKING:
    from celery import Celery

# Failures worth another attempt: the registry, not the image (AuthError is not: wrong
# credentials do not heal with time).
RETRYABLE = frozenset({"RegistryError", "RateLimited"})


def _int_env(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


def max_retries() -> int:
    return _int_env("HULLGUARD_WORKER_MAX_RETRIES", 5)


def backoff(retries: int) -> float:
    """Seconds before attempt ``retries + 1``: base * 2**retries, capped at 10 minutes."""
    base = _int_env("HULLGUARD_WORKER_RETRY_DELAY", 10)
    return float(min(600, base * 2 ** retries))


def register(app: Celery) -> None:
    from hullguard.workers.app import TASK_NAME

    def scan_image(self: Any, job_json: str, record: bool = False,
                   submission: str = "") -> str:
        return run_task(self, job_json, record, submission)

    # max_retries=None: run_task counts the attempts itself (then the dead-letter queue)
    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True,
             max_retries=None)(scan_image)


def run_task(task: Any, job_json: str, record: bool, submission: str = "") -> str:
    """Scan one job; ``submission``: the service's row for it (``serve --broker``), moved to
    running now and to done or failed when the outcome is final (not before a retry)."""
    job = ImageJob.from_json(job_json)
    job = local_paths(job, str(task.app.conf.get("hullguard_store") or ""))
    mark(job, submission, "running")
    outcome = reused_outcome(job)
    if outcome is None:
        with registry_slot(job.source):
            outcome = run_image_job(job)
    problem = outcome.result.problem
    scan_id = None
    if problem is not None and problem.kind in RETRYABLE:
        if task.request.retries < max_retries():
            mark(job, submission, "queued")
            raise task.retry(countdown=backoff(task.request.retries))
        dead_letter(task.app, job_json, problem, task.request.retries)
    # a service's submission gets a scan row even when answered from the store (as the
    # in-process submitter records every scan): its done row points at current findings
    elif record and outcome.result.sbom is not None and (submission
                                                          or not outcome.result.reused):
        scan_id = record_outcome(job, outcome)
    finish(job, submission, outcome, scan_id)
    return outcome.to_json()


def mark(job: ImageJob, submission: str, status: str, *, scan_id: int | None = None,
         error: str = "") -> None:
    """Move the service's submission row, if the job has one and the store is reachable."""
    engine = worker_context(job.options).store() if submission else None
    if engine is None:
        return
    from hullguard.store.service import set_status

    set_status(engine, submission, status, scan_id=scan_id, error=error)


def finish(job: ImageJob, submission: str, outcome: ImageOutcome,
           scan_id: int | None) -> None:
    problem = outcome.result.problem
    if problem is not None or outcome.result.sbom is None:
        why = f"{problem.kind}: {problem.message}" if problem else "no SBOM"
        mark(job, submission, "failed", error=why)
    else:
        mark(job, submission, "done", scan_id=scan_id)


def local_paths(job: ImageJob, store: str) -> ImageJob:
    """The worker's own store (``--store``) for jobs naming none, and its advisory database
    (``$HULLGUARD_DB``) when the job's path does not exist on this machine."""
    options = job.options
    if store and not options.store_url:
        options = replace(options, store_url=store)
    own_db = os.environ.get("HULLGUARD_DB", "")
    if own_db and (not options.db_path or not os.path.exists(options.db_path)):
        options = replace(options, db_path=own_db)
    return replace(job, options=options)


def reused_outcome(job: ImageJob) -> ImageOutcome | None:
    """The stored scan of ``job.digest`` by this release, matched again now; None to scan."""
    if not job.digest or not job.options.store_url:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from hullguard import __version__
    from hullguard.errors import HullguardError
    from hullguard.store.scans import load_sbom_from

    context = worker_context(job.options)
    engine = context.store()
    try:
        sbom = load_sbom_from(engine, job.digest) if engine is not None else None
    except (HullguardError, SQLAlchemyError, OSError):
        return None  # an unusable store costs the reuse, never the scan
    if sbom is None or sbom.tool_version != __version__:
        return None
    db = context.db()
    from hullguard.vuln.scan import scan_sbom

    findings = scan_sbom(sbom, db).findings if db is not None else ()
    return ImageOutcome(ImageResult(job.reference, job.source, job.origin, sbom, findings,
                                    reused=True))


def record_outcome(job: ImageJob, outcome: ImageOutcome) -> int | None:
    """One scan row (image under the job's name too, SBOM, findings, lineage index entry)
    in one transaction; the scan id."""
    from hullguard.pipeline.jobs import named_sbom
    from hullguard.store.runs import record_image

    engine = worker_context(job.options).store()
    result = outcome.result
    if engine is None or result.sbom is None:
        return None
    label = job.options.db_path or "no advisory database (not matched)"
    return record_image(engine, named_sbom(result.sbom, job), result.findings, label)


def dead_letter(app: Celery, job_json: str, problem: Problem, attempts: int) -> None:
    """Park the job on the dead-letter queue with why it failed (for an operator to look at
    and resubmit); the task itself ends with the failed outcome."""
    from hullguard.workers.app import DEAD_QUEUE

    body = json.dumps({"job": json.loads(job_json), "attempts": attempts + 1,
                       "problem": {"kind": problem.kind, "where": problem.where,
                                   "message": problem.message}})
    with app.producer_or_acquire() as producer:
        producer.publish(body, routing_key=DEAD_QUEUE, exchange="", serializer=None,
                         content_type="application/json", content_encoding="utf-8",
                         declare=[app.amqp.queues[DEAD_QUEUE]], retry=True)
