"""Submitting to the workers: :class:`CelerySubmitter` (fire and forget, the worker records
the scan) and :class:`CeleryExecutor` (a fleet run waits for every outcome and records them
itself, like the local executors)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hullguard.errors import HullguardError
from hullguard.model.problem import Problem
from hullguard.pipeline.jobs import ImageJob, ImageOutcome
from hullguard.pipeline.submit import PUSH_QUEUE, QUEUES, RESCAN_QUEUE
from hullguard.respond.model import ImageResult
from hullguard.workers.app import TASK_NAME, make_app

if TYPE_CHECKING:
    from celery import Celery
    from sqlalchemy import Engine

BROKER_WAIT = 30.0  # seconds a submission waits for an unreachable broker before failing
DEPTH_TIMEOUT = 2.0  # seconds a queue-depth reading may take (connect, then each answer)
POLL = 0.2  # seconds between looks at unfinished results


class BrokerUnreachable(HullguardError):
    """The broker did not answer within the bound: nothing was submitted after that point."""


def _hint() -> str:
    return ("start RabbitMQ or Redis there, or check --broker; jobs already submitted "
            "stay queued on the broker")


class _Client:
    def __init__(self, broker: str, *, wait: float = BROKER_WAIT,
                 app: Celery | None = None) -> None:
        self.broker = broker
        self.wait = wait
        self.app = app or make_app(broker)

    def check_broker(self) -> None:
        """Connect within :attr:`wait` seconds or raise :class:`BrokerUnreachable`."""
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=None, interval_start=0.5,
                                             interval_step=0.5, interval_max=2.0,
                                             timeout=self.wait)
        except Exception as error:  # kombu raises the transport's own errors
            raise BrokerUnreachable(
                f"broker unreachable after {self.wait:g} s: {type(error).__name__}: "
                f"{str(error)[:200]}", where=_safe(self.broker), hint=_hint()) from None

    def send(self, job: ImageJob, queue: str, record: bool, submission: str = "") -> Any:
        if queue not in QUEUES:
            raise HullguardError(f"unknown queue {queue!r}", where="queue",
                                 hint=f"one of {', '.join(QUEUES)}")
        self.check_broker()
        try:
            return self.app.send_task(TASK_NAME, args=(job.to_json(), record, submission),
                                      task_id=submission or None, queue=queue,
                                      retry=True, retry_policy={
                                          "max_retries": 3, "interval_start": 0.5,
                                          "interval_step": 1.0, "interval_max": 2.0})
        except Exception as error:
            raise BrokerUnreachable(f"submission failed: {type(error).__name__}: "
                                    f"{str(error)[:200]}", where=_safe(self.broker),
                                    hint=_hint()) from None


class CelerySubmitter(_Client):
    """:class:`~hullguard.pipeline.submit.Submitter` on Celery: the worker scans and records
    in the store named by the job (or the worker's ``--store``).

    With ``engine`` (``hullguard serve --broker``) each submission is also a row in that
    store, deduplicated by digest like the in-process submitter's; its id is the Celery task
    id, and the worker moves the row to running, done or failed."""

    def __init__(self, broker: str, *, engine: Engine | None = None,
                 wait: float = BROKER_WAIT, app: Celery | None = None) -> None:
        super().__init__(broker, wait=wait, app=app)
        self.engine = engine

    def submit(self, job: ImageJob, *, queue: str = PUSH_QUEUE, trigger: str = "api",
               digest: str = "") -> str:
        if self.engine is None:
            return str(self.send(job, queue, record=True).id)
        from hullguard.store.service import Submission, add_submission, set_status

        wanted = Submission(uuid.uuid4().hex, job.reference, digest or job.digest, queue,
                            trigger, "queued", datetime.now(UTC))
        recorded = add_submission(self.engine, wanted)
        if recorded.id != wanted.id:
            return recorded.id  # the same digest is queued or running already
        try:
            self.send(job, queue, record=True, submission=wanted.id)
        except HullguardError as error:
            set_status(self.engine, wanted.id, "failed", error=error.message)
            raise
        return wanted.id


class CeleryExecutor(_Client):
    """:class:`~hullguard.pipeline.executors.Executor` on Celery: submits every job, then
    yields each outcome as it arrives (the caller records them, as with local executors)."""

    def __init__(self, broker: str, *, queue: str = RESCAN_QUEUE, wait: float = BROKER_WAIT,
                 app: Celery | None = None) -> None:
        super().__init__(broker, wait=wait, app=app)
        self.queue = queue

    def run(self, jobs: Sequence[ImageJob]) -> Iterator[tuple[ImageJob, ImageOutcome]]:
        if not jobs:
            return
        pending = {self.send(job, self.queue, record=False): job for job in jobs}
        yield from self._collect(pending)

    def _collect(self, pending: dict[Any, ImageJob]) -> Iterator[tuple[ImageJob, ImageOutcome]]:
        unreachable_since: float | None = None
        while pending:
            try:
                done = [r for r in list(pending) if r.ready()]
                unreachable_since = None
            except Exception as error:  # the result channel is the broker: it went away
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since > self.wait:
                    raise BrokerUnreachable(
                        f"lost the broker while waiting for {len(pending)} scans: "
                        f"{type(error).__name__}", where=_safe(self.broker),
                        hint=_hint()) from None
                done = []
            for result in done:
                job = pending.pop(result)
                yield job, _outcome(job, result)
            if not done:
                time.sleep(POLL)


def _outcome(job: ImageJob, result: Any) -> ImageOutcome:
    value = result.get(propagate=False, disable_sync_subtasks=False)
    if result.successful() and isinstance(value, str):
        try:
            return ImageOutcome.from_json(value)
        except HullguardError as error:
            value = error
    problem = Problem("internal", message=f"worker task failed: {type(value).__name__}: "
                                          f"{str(value)[:300]}")
    return ImageOutcome(ImageResult(job.reference, job.source, job.origin, problem=problem))


def queue_depths(broker: str, queues: Sequence[str], *,
                 timeout: float = DEPTH_TIMEOUT) -> dict[str, int]:
    """Messages waiting on each queue as the broker counts them (not those a worker holds):
    RabbitMQ's answer to a passive ``queue.declare``, Redis's ``LLEN`` of the lists Celery
    uses (kombu sums its priority lists). A queue the broker does not have (RabbitMQ before
    the first message or worker; Redis drops an empty list) holds nothing. Raises
    :class:`BrokerUnreachable` when the broker does not answer within ``timeout``."""
    from kombu import Connection

    try:
        with Connection(broker, connect_timeout=timeout,
                        transport_options=_timeouts(broker, timeout)) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            return {name: _depth(connection, name) for name in queues}
    except Exception as error:  # kombu raises the transport's own errors
        raise BrokerUnreachable(f"cannot read the queue depth: {type(error).__name__}: "
                                f"{str(error)[:200]}", where=_safe(broker),
                                hint=_hint()) from None


def _timeouts(broker: str, timeout: float) -> dict[str, float]:
    """Each transport's own names for its socket bounds (unknown ones are errors)."""
    if broker.startswith(("redis://", "rediss://")):
        return {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    return {"read_timeout": timeout, "write_timeout": timeout}


def _depth(connection: Any, queue: str) -> int:
    from kombu.exceptions import ChannelError as KombuChannelError

    channel = connection.channel()  # a fresh channel: AMQP closes one on a 404
    try:
        return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except KombuChannelError as error:  # the virtual transports (Redis) say 404 this way
        if "NOT_FOUND" not in str(error):
            raise
        return 0
    except Exception as error:
        if getattr(error, "code", None) != 404:  # py-amqp's NotFound: no such queue
            raise
        return 0
    finally:
        with contextlib.suppress(Exception):
            channel.close()


def _safe(url: str) -> str:
    """The broker URL without its password (it ends up in messages and logs)."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"


__all__ = ["BrokerUnreachable", "CeleryExecutor", "CelerySubmitter", "queue_depths"]
