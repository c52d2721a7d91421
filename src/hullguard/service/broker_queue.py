"""The queue of ``hullguard serve --broker``: it lives on the broker, so its depth is read
there (:func:`~hullguard.workers.client.queue_depths`), cached for a few seconds so neither
Prometheus scrapes nor a burst of webhooks hammer the broker.

:class:`BrokerDepths` is that cached reading; :class:`BoundedBrokerSubmitter` refuses a
submission (:class:`~hullguard.service.submitter.QueueFull`, HTTP 503) when the queue it goes
to already holds ``queue_size`` messages. A reading that failed is kept as a failure: the
metrics then say the broker is down instead of showing a depth nobody saw."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hullguard.errors import HullguardError
from hullguard.pipeline.jobs import ImageJob
from hullguard.pipeline.submit import PUSH_QUEUE, QUEUES
from hullguard.service.submitter import QueueFull

if TYPE_CHECKING:
    from hullguard.workers.client import CelerySubmitter

log = logging.getLogger("hullguard.service")
DEPTH_TTL = 5.0  # seconds a depth reading is reused (scrapes, submissions)
DEPTH_QUEUES = (*QUEUES, "dead")  # hullguard.workers.app.DEAD_QUEUE, without importing Celery


@dataclass(frozen=True)
class Reading:
    """Messages waiting per queue as the broker answered (None: it did not; ``problem``
    says why), when that was (``time.monotonic()``), and how many submissions this process
    sent since (they are on the broker but not in ``depths``)."""

    depths: Mapping[str, int] | None
    read_at: float
    sent_since: int = 0
    problem: str = ""

    @property
    def age(self) -> float:
        return max(0.0, time.monotonic() - self.read_at)


class BrokerDepths:
    def __init__(self, broker: str, *, ttl: float = DEPTH_TTL,
                 read: Callable[[str, Sequence[str]], dict[str, int]] | None = None) -> None:
        self.broker, self.ttl = broker, ttl
        self._read = read or _read_depths
        self._lock = threading.Lock()  # one reading at a time: concurrent scrapes share it
        self._last: Reading | None = None

    def reading(self) -> Reading:
        """The last reading if younger than ``ttl``, else a new one (bounded by the
        helper's timeout)."""
        with self._lock:
            if self._last is None or self._last.age >= self.ttl:
                self._last = self._fresh()
            return self._last

    def note_sent(self) -> None:
        """One more message put on the broker since the last reading."""
        with self._lock:
            if self._last is not None:
                last = self._last
                self._last = Reading(last.depths, last.read_at, last.sent_since + 1,
                                     last.problem)

    def _fresh(self) -> Reading:
        started = time.monotonic()
        try:
            return Reading(self._read(self.broker, DEPTH_QUEUES), started)
        except HullguardError as error:
            if self._last is None or self._last.depths is not None:  # once per outage
                log.warning("%s (%s)", error.message, error.where)  # where: no password
            return Reading(None, started, problem=error.message)


def _read_depths(broker: str, queues: Sequence[str]) -> dict[str, int]:
    from hullguard.workers.client import queue_depths

    return queue_depths(broker, queues)


class BoundedBrokerSubmitter:
    """The Celery submitter with the service's ``--queue-size`` applied to the broker's
    queue: a submission to a queue already holding ``queue_size`` messages (as last read,
    plus what this process sent since) is refused. Only the queue the submission goes to
    counts: a deep ``rescan`` backlog must not shut out pushes. An unreadable depth refuses
    nothing: the submission then waits for the broker and fails as it always did."""

    def __init__(self, inner: CelerySubmitter, depths: BrokerDepths, queue_size: int) -> None:
        self.inner, self.depths, self.queue_size = inner, depths, queue_size

    def submit(self, job: ImageJob, *, queue: str = PUSH_QUEUE, trigger: str = "api",
               digest: str = "") -> str:
        reading = self.depths.reading()
        if reading.depths is not None:
            waiting = reading.depths.get(queue, 0) + reading.sent_since
            if waiting >= self.queue_size:
                raise QueueFull(f"{waiting} scans are waiting on the broker's {queue} queue, "
                                f"the most this service queues (--queue-size "
                                f"{self.queue_size})", where="queue",
                                hint="retry later, or add workers")
        submission = self.inner.submit(job, queue=queue, trigger=trigger, digest=digest)
        self.depths.note_sent()
        return submission


__all__ = ["DEPTH_QUEUES", "BoundedBrokerSubmitter", "BrokerDepths", "Reading"]
