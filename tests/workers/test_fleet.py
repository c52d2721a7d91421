"""``scan-fleet --executor celery`` through real ``hullguard worker`` processes on a real
RabbitMQ and a real Redis gives the same results and stored findings as the in-process
executor, over images pulled from a real docker-registry on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.brokers import Broker, start_worker
from tests.support.cli import run_hullguard
from tests.support.registry import Pushed
from tests.workers.conftest import compose_file, new_store

StoredFindings = dict[str, set[tuple[str, str]]]


def stored_findings(url: str) -> StoredFindings:
    """Per image digest, the (advisory, package) pairs of its scans in the store."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT images.digest, findings.vuln_id, findings.package_key FROM findings "
                "JOIN scans ON scans.id = findings.scan_id "
                "JOIN images ON images.id = scans.image_id")).all()
            scans = conn.execute(text("SELECT COUNT(*) FROM scans")).scalar_one()
    finally:
        engine.dispose()
    found: StoredFindings = {"scans": {("count", str(scans))}}
    for digest, vuln, package in rows:
        found.setdefault(str(digest), set()).add((str(vuln), str(package)))
    return found


def scan_fleet(tmp: Path, name: str, fleet: list[Pushed], db: Path,
               *executor: str) -> tuple[list[dict[str, object]], StoredFindings]:
    store = new_store(tmp / f"{name}.sqlite")
    done = run_hullguard("scan-fleet", str(compose_file(tmp / "compose.yaml", fleet)),
                         "--db", str(db), "--store", store, "--state", str(tmp / name),
                         "--format", "json", "--quiet", *executor, timeout=600)
    assert done.returncode == 0, done.stderr
    images = json.loads(done.stdout)["images"]
    return sorted(images, key=lambda row: str(row["image"])), stored_findings(store)


def comparable(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if k != "reused"} for row in rows]


def test_celery_executor_gives_the_in_process_results(
        broker: Broker, fleet: list[Pushed], fleet_db: Path, tmp_path: Path) -> None:
    local_rows, local_store = scan_fleet(tmp_path, "local", fleet, fleet_db,
                                         "--executor", "inprocess")
    with start_worker(broker.url, tmp_path / "worker.log", concurrency=2):
        celery_rows, celery_store = scan_fleet(tmp_path, "celery", fleet, fleet_db,
                                               "--executor", "celery", "--broker", broker.url)
    assert comparable(celery_rows) == comparable(local_rows)
    assert all(row["scanned"] for row in celery_rows), celery_rows
    assert sum(int(str(row["findings"])) for row in celery_rows) > 0  # PyPA: requests 2.19.1
    assert celery_store == local_store
    assert celery_store["scans"] == {("count", str(len(fleet)))}


def test_celery_executor_refuses_an_unreachable_broker_within_its_bound(
        fleet: list[Pushed], fleet_db: Path, tmp_path: Path) -> None:
    import time

    started = time.monotonic()
    done = run_hullguard("scan-fleet", str(compose_file(tmp_path / "c.yaml", fleet)),
                         "--db", str(fleet_db), "--no-store", "--state",
                         str(tmp_path / "s"), "--quiet", "--executor", "celery", "--broker",
                         "amqp://guest:secret-pass@127.0.0.1:9//", timeout=120)
    assert done.returncode == 2
    assert "broker unreachable after 30 s" in done.stderr
    assert "secret-pass" not in done.stderr  # the password is not echoed
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 60
