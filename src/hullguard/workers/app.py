"""The Celery app: one per broker URL, configured for scans that must not be lost.

- Late acknowledgement and ``reject_on_worker_lost``: a message is acknowledged only after
  its scan finished; a worker killed mid-scan leaves it unacknowledged and the broker hands
  it to another worker (the scan is idempotent, keyed by the image digest).
- One message at a time per worker process (prefetch 1): a long scan does not hold back
  jobs another process could take.
- Queues: ``push`` (webhooks, API), ``rescan`` (fleet-wide and scheduled) and ``dead`` (jobs
  that kept failing). A worker consumes ``push`` and ``rescan`` by default. With prefetch 1
  and late acknowledgement a worker holds no backlog of its own: a process that frees up
  asks the broker for its next message, and the broker chooses the queue. Redis: the
  channel polls its queues in sorted order (``queue_order_strategy="sorted"``; ``push``
  sorts before ``rescan``), so a waiting push job is always taken first. RabbitMQ: the
  broker offers the freed slot to the non-empty queues in random order (its channel
  limiter), so a push job goes next with a chance of about 1/2 per freed slot: it waits
  for the running scans and, on average, one more, not for the backlog. For a hard bound
  run a pool with ``--queues push`` (docs/workers.md, "Separate queues").
- Results: an outcome travels back to the submitter through Celery's result channel
  (``rpc://`` on RabbitMQ, the Redis instance itself on Redis) only to be collected;
  the durable record is the store (PostgreSQL or SQLite), written by the one writer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hullguard.errors import InputError
from hullguard.pipeline.submit import PUSH_QUEUE, QUEUES, RESCAN_QUEUE

if TYPE_CHECKING:
    from celery import Celery

DEAD_QUEUE = "dead"
TASK_NAME = "hullguard.scan_image"
BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss")
CONNECT_TIMEOUT = 5.0  # seconds per attempt to reach the broker


def check_broker(url: str, where: str = "--broker") -> str:
    """The broker URL or one clear error (RabbitMQ ``amqp://`` or Redis ``redis://``)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in BROKER_SCHEMES:
        raise InputError(f"not a broker URL: {url[:200]!r}", where=where,
                         hint="e.g. amqp://guest:guest@127.0.0.1:5672// or "
                              "redis://127.0.0.1:6379/0")
    return url


def result_backend(broker: str) -> str:
    """Where outcomes wait for the submitter: the broker itself (no third service)."""
    return broker if broker.startswith(("redis://", "rediss://")) else "rpc://"


def make_app(broker: str) -> Celery:
    from celery import Celery

    # kombu.entity: kombu 5.7 ships type hints but does not re-export Queue from the package
    from kombu.entity import Queue

    app = Celery("hullguard", broker=check_broker(broker), backend=result_backend(broker))
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        # kombu 5.7's Queue() is unannotated; 5.6 has no hints at all (then nothing to ignore)
        task_queues=[Queue(name) for name in (  # type: ignore[no-untyped-call,unused-ignore]
            PUSH_QUEUE, RESCAN_QUEUE, DEAD_QUEUE)],
        task_default_queue=PUSH_QUEUE, task_track_started=True,
        broker_connection_timeout=CONNECT_TIMEOUT, broker_connection_retry_on_startup=True,
        # Redis: an unacknowledged message returns to the queue after this long (a worker
        # killed mid-scan); longer than the longest scan, or a slow scan runs twice.
        # Redis: poll queues in sorted order, "push" before "rescan" (the default round robin
        # would alternate); RabbitMQ ignores this option.
        broker_transport_options={"visibility_timeout": 3600,
                                  "queue_order_strategy": "sorted"},
        result_expires=24 * 3600, worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False)
    from hullguard.workers.tasks import register

    register(app)
    return app


__all__ = ["DEAD_QUEUE", "QUEUES", "TASK_NAME", "check_broker", "make_app"]
