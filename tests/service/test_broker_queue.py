"""``serve --broker``: the queue is the broker's, so /metrics reads its depth there and
``--queue-size`` bounds it. Real RabbitMQ and Redis (private instances on free ports,
tests/support/brokers.py) and no worker, so what is submitted stays on the broker; /metrics
is parsed with prometheus_client's own parser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hullguard.service.app import create_app
from hullguard.service.settings import Settings
from tests.service.serving import token, wait_for
from tests.support.brokers import Broker, start_broker

TTL = 0.3  # seconds a depth reading is reused here (5 s by default)


@pytest.fixture(params=["rabbitmq", "redis"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test's own: the tests stop it and fill its queues."""
    with start_broker(request.param, tmp_path / request.param) as started:
        yield started


def _service(tmp_path: Path, broker: Broker, queue_size: int = 100) -> TestClient:
    settings = Settings(f"sqlite:///{tmp_path / 'store.sqlite'}", broker=broker.url,
                        queue_size=queue_size, broker_depth_ttl=TTL)
    return TestClient(create_app(settings))


def _metrics(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, labels), as Prometheus would read it."""
    from prometheus_client.parser import text_string_to_metric_families

    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def _depths(client: TestClient) -> dict[str, float]:
    return {dict(labels)["queue"]: value for (name, labels), value in _metrics(client).items()
            if name == "hullguard_queue_depth"}


def _submit(client: TestClient, headers: dict[str, str], n: int) -> int:
    answer = client.post("/api/v1/scans", headers=headers,
                         json={"references": [f"registry.example.test/shop/app:{n}"]})
    return answer.status_code


def _dead_letter(broker: Broker) -> None:
    """One job parked on the dead-letter queue, the way a worker parks it."""
    from hullguard.model.problem import Problem
    from hullguard.pipeline.jobs import ImageJob
    from hullguard.workers.app import make_app
    from hullguard.workers.tasks import dead_letter

    job = ImageJob("registry.example.test/shop/dead:1", "registry.example.test/shop/dead:1")
    dead_letter(make_app(broker.url), job.to_json(), Problem("registry", message="gone"), 5)


def test_metrics_show_the_brokers_depth_and_the_queue_size_bounds_it(
        broker: Broker, tmp_path: Path) -> None:
    with _service(tmp_path, broker, queue_size=3) as client:
        headers = {"Authorization": f"Bearer {token(client.app, 'scan')}"}
        assert _depths(client) == {"push": 0, "rescan": 0, "dead": 0}
        assert [_submit(client, headers, n) for n in range(3)] == [202, 202, 202]
        _dead_letter(broker)
        time.sleep(TTL)
        samples = _metrics(client)
        assert samples[("hullguard_broker_up", ())] == 1
        assert _depths(client) == {"push": 3, "rescan": 0, "dead": 1}
        assert samples[("hullguard_submissions", (("status", "queued"),))] == 3
        refused = client.post("/api/v1/scans", headers=headers,
                              json={"references": ["registry.example.test/shop/app:9"]})
        assert refused.status_code == 503 and refused.headers["retry-after"]
        assert "--queue-size 3" in refused.json()["detail"]
        assert len(client.get("/api/v1/scans", headers=headers).json()) == 3  # not recorded
    # A new service process has sent nothing itself: the bound comes from the broker.
    with _service(tmp_path, broker, queue_size=3) as client:
        headers = {"Authorization": f"Bearer {token(client.app, 'scan')}"}
        assert _submit(client, headers, 10) == 503
    with _service(tmp_path, broker, queue_size=4) as client:
        headers = {"Authorization": f"Bearer {token(client.app, 'scan')}"}
        assert [_submit(client, headers, n) for n in (11, 12)] == [202, 503]


def test_a_burst_within_one_reading_is_bounded_too(broker: Broker, tmp_path: Path) -> None:
    """Submissions sent since the last reading count: a burst cannot overshoot the bound
    while the cached reading still says the queue is empty."""
    settings = Settings(f"sqlite:///{tmp_path / 'store.sqlite'}", broker=broker.url,
                        queue_size=2, broker_depth_ttl=60)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {token(client.app, 'scan')}"}
        assert [_submit(client, headers, n) for n in range(4)] == [202, 202, 503, 503]


def test_a_stopped_broker_is_reported_down_never_as_an_empty_queue(
        broker: Broker, tmp_path: Path) -> None:
    with _service(tmp_path, broker) as client:
        headers = {"Authorization": f"Bearer {token(client.app, 'scan')}"}
        assert [_submit(client, headers, n) for n in range(2)] == [202, 202]
        broker.stop()
        time.sleep(TTL)
        started = time.monotonic()
        samples = _metrics(client)
        assert time.monotonic() - started < 10  # the reading is bounded
        assert samples[("hullguard_broker_up", ())] == 0
        assert not [key for key in samples if key[0].startswith("hullguard_queue_depth")]
        assert samples[("hullguard_submissions", (("status", "queued"),))] == 2  # the store
        broker.start()  # durable queues / append-only file: the two jobs are still there
        wait_for(lambda: _depths(client).get("push") == 2, timeout=30, every=TTL)
        assert _metrics(client)[("hullguard_broker_up", ())] == 1
