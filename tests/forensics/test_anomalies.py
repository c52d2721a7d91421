"""Push anomalies on a generated day with a planted burst across an hour boundary."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from hullguard.demo.registry_logs import ATTACKER, BURST_PUSHES, planted_pushes, write_registry_day
from hullguard.forensics import db
from hullguard.forensics.ingest import IngestSpec, ingest
from hullguard.forensics.queries import push_anomalies


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("anomalies")
    log = write_registry_day(root / "registry.log", 20_000)
    ingest(root / "case", [IngestSpec.parse(f"distribution-log:{log}")])
    return root / "case"


def test_burst_across_an_hour_boundary_is_flagged_by_the_sliding_window(case: Path) -> None:
    with db.open_read(case) as con:
        per_clock_hour = con.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM events WHERE action = 'push' "
            "AND actor = ? GROUP BY date_trunc('hour', time))", [ATTACKER[0]]).fetchone()
        found = push_anomalies(con, threshold=10, window=datetime.timedelta(hours=1))
    assert per_clock_hour is not None and per_clock_hour[0] <= 10  # clock hours miss it
    bursts = {a.subject: a for a in found if a.kind == "burst"}
    mallory = bursts[f"actor={ATTACKER[0]}"]
    assert mallory.count == BURST_PUSHES
    burst_times = [t for t, _ in planted_pushes()][:BURST_PUSHES]
    assert [e["time"] for e in mallory.events] == burst_times
    assert all(e["client_addr"] == ATTACKER[1] for e in mallory.events)
    assert "repository=team/api" in bursts
    assert "actor=ci-bot" not in bursts


def test_threshold_and_window_bound_the_burst(case: Path) -> None:
    with db.open_read(case) as con:
        at_eleven = push_anomalies(con, threshold=11)
        short = push_anomalies(con, threshold=10, window=datetime.timedelta(minutes=30))
    assert not [a for a in at_eleven if a.subject == f"actor={ATTACKER[0]}" and
                a.kind == "burst"]
    assert not [a for a in short if a.subject == f"actor={ATTACKER[0]}" and a.kind == "burst"]


def test_new_address_and_off_hours_pushes(case: Path) -> None:
    with db.open_read(case) as con:
        found = push_anomalies(con)
    new = [a for a in found if a.kind == "new-pusher" and a.subject == "repository=team/api"]
    assert {a.detail for a in new} >= {f"first push by actor {ATTACKER[0]}",
                                       f"first push by client_addr {ATTACKER[1]}"}
    night = [a for a in found if a.kind == "off-hours" and ATTACKER[0] in a.detail]
    assert night and night[0].events[0]["time"].hour == 2
    assert all(a.events for a in found)
