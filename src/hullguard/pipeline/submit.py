"""Submitting image jobs to run later: the seam between the service and the workers.

A :class:`Submitter` queues an :class:`~hullguard.pipeline.jobs.ImageJob` and returns at once;
whatever runs it stores the outcome (SBOM, scan, findings) in the store named by
``job.options.store_url``. Implementations: an in-process one in :mod:`hullguard.service`
(a background thread, for a single machine) and a Celery one in :mod:`hullguard.workers`.

Queues keep kinds of work apart so a bulk rescan never starves push-triggered scans:
:data:`PUSH_QUEUE` for registry webhooks and API submissions, :data:`RESCAN_QUEUE` for
scheduled and fleet-wide rescans.
"""

from __future__ import annotations

from typing import Protocol

from hullguard.pipeline.jobs import ImageJob

PUSH_QUEUE = "push"
RESCAN_QUEUE = "rescan"
QUEUES = (PUSH_QUEUE, RESCAN_QUEUE)


class Submitter(Protocol):
    def submit(self, job: ImageJob, *, queue: str = PUSH_QUEUE, trigger: str = "api",
               digest: str = "") -> str:
        """Queue one job and return its submission id. A job whose ``digest`` was already
        scanned with the same cataloger versions may be answered from the store instead.
        ``trigger`` says who asked (``api``, ``webhook:harbor``, ...); ``digest`` is what to
        deduplicate on when it is not the job's (a pushed index's digest): a submission of
        a digest still queued or running answers with that one's id."""
        ...


__all__ = ["PUSH_QUEUE", "QUEUES", "RESCAN_QUEUE", "Submitter"]
