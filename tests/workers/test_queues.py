"""A full rescan does not starve push-triggered scans, on real brokers and real workers.

A backlog of rescan jobs (images pulled through a throttled proxy, so each scan takes a
couple of seconds) is queued on ``rescan``; once the worker is busy with the first, one job
is submitted on ``push``. The push job must finish while most of the backlog still waits:

- one worker consuming both queues (``push,rescan``, one process): on Redis the push job is
  taken as soon as the running scan ends (the channel polls ``push`` first); on RabbitMQ
  each freed slot goes to ``push`` with a chance of about 1/2 (the broker's channel limiter
  picks among the waiting queues at random), so it waits for the running scan and on
  average one more (measured: after 1, 1, 1, 2, 4, 5 of 30): the test allows half (a
  chance of about 2^-14 to fail by bad luck at 1/2, 0.05 % even at the 0.42 measured);
- a dedicated ``--queues push`` worker beside a ``--queues rescan`` one (RabbitMQ): the
  push job never waits behind a rescan at all.

Each run prints the measured numbers (when the push job finished against the backlog).
"""

from __future__ import annotations

import gc
import statistics
import time
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from typing import Any

from hullguard.pipeline.jobs import ImageJob, ImageOutcome, JobOptions
from hullguard.pipeline.submit import PUSH_QUEUE, QUEUES, RESCAN_QUEUE
from hullguard.workers.client import CelerySubmitter
from tests.support.brokers import Broker, start_worker
from tests.support.registry import Pushed, RegistryServer
from tests.workers.test_faults import slow_proxy

BACKLOG = 30
RATE = 2 << 20  # bytes/s through the proxy: an Alpine image takes about 1.5 s to pull
TIMEOUT = 600.0


def job(image: Pushed, db: Path) -> ImageJob:
    """A job scanned from the registry every time: no store to reuse, no layer cache."""
    return ImageJob(image.by_digest, image.by_digest, digest=str(image.digest),
                    options=JobOptions(str(db), False, "", layer_cache="off"))


def finish_times(pending: list[Any], deadline: float) -> list[float]:
    """When each result arrived (time.monotonic()), in the order given."""
    done: dict[int, float] = {}
    while len(done) < len(pending) and time.monotonic() < deadline:
        for index, result in enumerate(pending):
            if index not in done and result.ready():
                done[index] = time.monotonic()
        time.sleep(0.05)
    assert len(done) == len(pending), f"{len(pending) - len(done)} jobs never finished"
    return [done[index] for index in range(len(pending))]


def test_push_sorts_before_rescan() -> None:
    # Redis polls the queues in sorted order (workers.app: queue_order_strategy="sorted")
    assert sorted(QUEUES) == [PUSH_QUEUE, RESCAN_QUEUE]


def test_a_push_job_overtakes_a_rescan_backlog_on_a_shared_worker(
        broker: Broker, worker_registry: RegistryServer, fleet: list[Pushed],
        fleet_db: Path, tmp_path: Path) -> None:
    before = overtake(broker, ["push,rescan"], worker_registry, fleet, fleet_db, tmp_path)
    assert before <= (2 if broker.kind == "redis" else BACKLOG // 2), before


def test_a_dedicated_push_worker_never_waits_for_the_backlog(
        rabbitmq: Broker, worker_registry: RegistryServer, fleet: list[Pushed],
        fleet_db: Path, tmp_path: Path) -> None:
    before = overtake(rabbitmq, ["push", "rescan"], worker_registry, fleet, fleet_db,
                      tmp_path)
    assert before <= 1, before


def overtake(broker: Broker, pools: list[str], registry: RegistryServer,
             fleet: list[Pushed], db: Path, tmp: Path) -> int:
    """Queue the backlog, then the push job once a rescan runs; how many rescans finished
    before the push job did (and the measured numbers, printed)."""
    submitter = CelerySubmitter(broker.url, wait=10)
    with ExitStack() as stack:
        proxy = stack.enter_context(slow_proxy(registry, RATE))
        for queues in pools:
            stack.enter_context(start_worker(broker.url, tmp / f"{queues}.log",
                                             queues=queues))
        slow = [Pushed(proxy.host, i.repository, i.tag, i.digest) for i in fleet[:2]]
        started = time.monotonic()
        backlog = [submitter.send(job(slow[n % 2], db), RESCAN_QUEUE, record=False)
                   for n in range(BACKLOG)]
        while proxy.forwarded == 0 and time.monotonic() - started < 60:
            time.sleep(0.05)  # the worker is busy with the first rescan
        submitted = time.monotonic()
        push = submitter.send(job(fleet[2], db), PUSH_QUEUE, record=False)
        times = finish_times([*backlog, push], started + TIMEOUT)
    rescans, pushed = sorted(times[:-1]), times[-1]
    outcome = ImageOutcome.from_json(push.get(timeout=10))
    assert outcome.result.problem is None and outcome.result.sbom is not None
    before = sum(1 for t in rescans if t < pushed)
    scan = statistics.median(b - a for a, b in pairwise(rescans))
    print(f"\n{broker.kind} {'+'.join(pools)}: push done {pushed - submitted:.1f} s after "
          f"its submission, after {before} of {BACKLOG} rescans (a rescan: {scan:.1f} s; "
          f"the backlog drained {rescans[-1] - started:.1f} s after it was queued)")
    assert rescans[-1] > pushed  # the backlog was still there when the push job finished
    del backlog, push
    gc.collect()  # results let go while their broker runs (a late one would reconnect)
    return before
