"""Faults with real parts: a worker killed with SIGKILL mid-scan (RabbitMQ hands the job to
another worker; one outcome, one stored scan), the broker stopped (submissions fail clearly
within their bound; what was queued before is scanned after the restart), a job that keeps
failing on registry errors (retried with backoff, then parked on the dead-letter queue), and
a digest submitted twice (scanned once)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hullguard.images.builder import FileSpec, LayerSpec
from hullguard.pipeline.jobs import ImageJob, ImageOutcome, JobOptions
from hullguard.pipeline.submit import PUSH_QUEUE
from hullguard.workers.client import BrokerUnreachable, CelerySubmitter
from tests.support.brokers import Broker, start_worker
from tests.support.registry import Pushed, RegistryServer, free_port
from tests.workers.conftest import new_store, push_image
from tests.workers.test_fleet import scan_fleet, stored_findings

RESULT_TIMEOUT = 180.0


def wait_outcome(submitter: CelerySubmitter, task_id: str) -> ImageOutcome:
    value = submitter.app.AsyncResult(task_id).get(timeout=RESULT_TIMEOUT)
    return ImageOutcome.from_json(value)


def store_job(image: Pushed, store: str, db: Path) -> ImageJob:
    return ImageJob(image.by_digest, image.by_digest, digest=str(image.digest),
                    options=JobOptions(str(db), True, store))


def scan_count(store: str) -> int:
    return int(next(iter(stored_findings(store)["scans"]))[1])


def test_a_digest_submitted_twice_is_scanned_once(
        redis_broker: Broker, fleet: list[Pushed], fleet_db: Path, tmp_path: Path) -> None:
    store = new_store(tmp_path / "store.sqlite")
    submitter = CelerySubmitter(redis_broker.url, wait=10)
    job = store_job(fleet[2], store, fleet_db)
    with start_worker(redis_broker.url, tmp_path / "worker.log"):
        first = wait_outcome(submitter, submitter.submit(job))
        second = wait_outcome(submitter, submitter.submit(job, queue="rescan"))
    assert first.result.problem is None and not first.result.reused
    assert second.result.reused  # answered from the store: no image I/O
    assert second.result.findings == first.result.findings and first.result.findings
    assert scan_count(store) == 1


class SlowProxy:
    """A TCP proxy to the registry that forwards at most ``rate`` bytes/s, so a scan takes
    long enough to kill its worker in the middle; ``forwarded`` counts what went through."""

    def __init__(self, target: str, rate: int) -> None:
        self.target = target.rsplit(":", 1)
        self.rate = rate
        self.forwarded = 0
        self.server = socket.create_server(("127.0.0.1", free_port()))
        self.host = f"127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.target[0], int(self.target[1])))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, slow: bool) -> None:
        try:
            while data := source.recv(16384):
                sink.sendall(data)
                if slow:
                    self.forwarded += len(data)
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def close(self) -> None:
        self.server.close()


@contextmanager
def slow_proxy(server: RegistryServer, rate: int) -> Iterator[SlowProxy]:
    proxy = SlowProxy(server.host, rate)
    try:
        yield proxy
    finally:
        proxy.close()


def test_a_worker_killed_mid_scan_hands_the_job_to_another(
        rabbitmq: Broker, worker_registry: RegistryServer, fleet_db: Path,
        tmp_path: Path) -> None:
    import os

    from tests.support.env import alpine_tarballs

    big = (LayerSpec((FileSpec("srv/blob.bin", os.urandom(6 << 20)),)),)
    image = push_image(worker_registry, tmp_path, alpine_tarballs()[0], "fault/big", big)
    with slow_proxy(worker_registry, 2 << 20) as proxy:
        slow = Pushed(proxy.host, image.repository, image.tag, image.digest)
        first = start_worker(rabbitmq.url, tmp_path / "first.log")
        victim = first.__enter__()
        try:
            fleet_run = _background_scan_fleet(tmp_path, [slow], fleet_db, rabbitmq.url)
            deadline = time.monotonic() + 60
            while proxy.forwarded < (2 << 20) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proxy.forwarded >= (2 << 20), "the scan never started"
            victim.kill()  # mid-download: most of the 6 MiB layer is still to come
        finally:
            first.__exit__(None, None, None)
        with start_worker(rabbitmq.url, tmp_path / "second.log") as second:
            fleet_run.join(timeout=RESULT_TIMEOUT)
            log = second.text()
    assert not fleet_run.is_alive(), f"scan-fleet still waiting after {RESULT_TIMEOUT} s:\n{log}"
    assert fleet_run.error is None, f"{fleet_run.error}\n{log}"
    assert "Task hullguard.scan_image" in log
    rows, stored = fleet_run.value
    assert [row["scanned"] for row in rows] == [True], rows
    assert stored["scans"] == {("count", "1")}  # one scan, not lost, not duplicated


class _Run(threading.Thread):
    value: tuple[list[dict[str, object]], dict[str, set[tuple[str, str]]]]
    error: BaseException | None = None


def _background_scan_fleet(tmp: Path, images: list[Pushed], db: Path, broker: str) -> _Run:
    run = _Run(daemon=True)

    def target() -> None:
        try:
            run.value = scan_fleet(tmp, "killed", images, db, "--executor", "celery",
                                   "--broker", broker)
        except BaseException as failed:  # reported by the test, not lost in the thread
            run.error = failed

    run.run = target  # type: ignore[method-assign]
    run.start()
    return run


def test_a_stopped_broker_fails_submissions_clearly_and_loses_nothing(
        redis_broker: Broker, fleet: list[Pushed], fleet_db: Path, tmp_path: Path) -> None:
    store = new_store(tmp_path / "store.sqlite")
    submitter = CelerySubmitter(redis_broker.url, wait=3)
    queued = [submitter.submit(store_job(image, store, fleet_db)) for image in fleet[:2]]
    redis_broker.stop()  # no worker has run yet: the two jobs wait on the broker
    try:
        started = time.monotonic()
        with pytest.raises(BrokerUnreachable) as refused:
            submitter.submit(store_job(fleet[2], store, fleet_db))
        assert time.monotonic() - started < 15
        assert "broker unreachable after 3 s" in str(refused.value.diagnostics())
    finally:
        redis_broker.start()
    with start_worker(redis_broker.url, tmp_path / "worker.log"):
        outcomes = [wait_outcome(submitter, task_id) for task_id in queued]
    assert all(o.result.problem is None for o in outcomes)
    assert scan_count(store) == 2


def test_a_job_that_keeps_failing_lands_in_the_dead_letter_queue(
        redis_broker: Broker, tmp_path: Path) -> None:
    from kombu import Connection

    closed = f"127.0.0.1:{free_port()}"  # nothing listens: a registry error every time
    job = ImageJob(f"{closed}/gone/app:1", f"{closed}/gone/app:1")
    broken = ImageJob("broken:1", f"docker-archive:{tmp_path / 'missing.tar'}")
    submitter = CelerySubmitter(redis_broker.url, wait=10)
    env = {"HULLGUARD_WORKER_MAX_RETRIES": "2", "HULLGUARD_WORKER_RETRY_DELAY": "1"}
    with start_worker(redis_broker.url, tmp_path / "worker.log", env=env) as worker:
        failed = wait_outcome(submitter, submitter.submit(job, queue=PUSH_QUEUE))
        not_retried = wait_outcome(submitter, submitter.submit(broken))
    assert failed.result.problem is not None
    assert failed.result.problem.kind == "RegistryError"
    assert not_retried.result.problem is not None
    assert worker.text().count("retry: Retry in") == 2  # backoff: 1 s, then 2 s
    with Connection(redis_broker.url) as connection:
        dead = connection.SimpleQueue("dead")
        message = dead.get(timeout=10)
        body = json.loads(message.body)
        message.ack()
        assert body["job"]["reference"] == job.reference and body["attempts"] == 3
        assert body["problem"]["kind"] == "RegistryError"
        with pytest.raises(dead.Empty):  # the broken archive failed at once: not parked
            dead.get(timeout=1)
        dead.close()
