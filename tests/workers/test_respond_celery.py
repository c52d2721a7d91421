"""``hullguard respond --executor celery`` end to end: images on a real docker-registry,
scanned by a real ``hullguard worker`` through a real RabbitMQ, give the incident folder the
in-process executor writes; an unreachable broker is one clear error with nothing in --out.

What legitimately differs between two runs, and only that, is left out of the comparison:
the moment the incident was declared (``declared_at``; the incident id and the "Declared"
line carry it to the minute) and each CycloneDX SBOM's ``metadata.timestamp`` (when it was
written). The resume journal (``.hullguard-state``) is state, not the incident: only its
entries are compared (one per image)."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import CompletedProcess

from hullguard.respond.writer import STATE_DIR
from tests.support.brokers import Broker, start_worker
from tests.support.cli import run_hullguard
from tests.support.registry import Pushed, free_port
from tests.workers.conftest import compose_file, new_store

DECLARED = (re.compile(r"HG-\d{8}-\d{4}"), re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))


def respond(tmp: Path, out: Path, fleet: list[Pushed], db: Path,
            *executor: str) -> CompletedProcess[str]:
    return run_hullguard("respond", str(compose_file(tmp / "compose.yaml", fleet)),
                         "--db", str(db), "--store", new_store(tmp / f"{out.name}.sqlite"),
                         "--out", str(out), "--quiet", *executor, timeout=600)


def incident(out: Path) -> dict[str, object]:
    """Every file of the incident folder by path, without what differs between runs."""
    files: dict[str, object] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = str(path.relative_to(out))
        if name.startswith(STATE_DIR):
            files[name] = "(journal entry)"
        elif path.suffix == ".json":
            document = json.loads(path.read_text())
            volatile = document["metadata"] if name.startswith("sboms/") else document
            volatile.pop("timestamp" if name.startswith("sboms/") else "declared_at")
            files[name] = _undated(json.dumps(document, sort_keys=True))
        else:
            files[name] = _undated(path.read_text())
    return files


def _undated(text: str) -> str:
    for pattern in DECLARED:
        text = pattern.sub("(declared)", text)
    return text


def test_respond_through_celery_writes_the_in_process_incident(
        rabbitmq: Broker, fleet: list[Pushed], fleet_db: Path, tmp_path: Path) -> None:
    local = tmp_path / "local"
    done = respond(tmp_path, local, fleet, fleet_db, "--executor", "inprocess")
    assert done.returncode == 0, done.stderr
    with start_worker(rabbitmq.url, tmp_path / "worker.log", concurrency=2) as worker:
        remote = tmp_path / "celery"
        done = respond(tmp_path, remote, fleet, fleet_db, "--executor", "celery",
                       "--broker", rabbitmq.url)
        assert done.returncode == 0, done.stderr
    assert worker.text().count("Task hullguard.scan_image") >= len(fleet)  # scanned there
    assert incident(remote) == incident(local)
    findings = json.loads((remote / "findings.json").read_text())
    assert [row["scanned"] for row in findings["images"]] == [True] * len(fleet)
    assert findings["priority_queue"], "nothing to compare: the fleet has no findings"
    assert len(list((remote / "sboms").iterdir())) == len(fleet)


def test_respond_with_an_unreachable_broker_fails_clearly_and_writes_nothing(
        fleet: list[Pushed], fleet_db: Path, tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"  # an incident folder from an earlier run stays as it was
    done = respond(tmp_path, earlier, fleet[:1], fleet_db, "--executor", "inprocess")
    assert done.returncode == 0, done.stderr
    before = {p: p.read_bytes() for p in earlier.rglob("*") if p.is_file()}
    brokers = {tmp_path / "fresh": f"amqp://guest:s3cret-pw@127.0.0.1:{free_port()}//",
               earlier: f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0"}
    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:  # both wait out the 30 s bound at the same time
        runs = dict(zip(brokers, pool.map(lambda item: respond(
            tmp_path, item[0], fleet, fleet_db, "--executor", "celery", "--broker", item[1]),
            brokers.items()), strict=True))
    assert time.monotonic() - started < 90
    for out, run in runs.items():
        assert run.returncode == 2, (out, run.stdout, run.stderr)
        assert "broker unreachable after 30 s" in run.stderr, run.stderr
        assert "s3cret-pw" not in run.stderr + run.stdout
        assert "Traceback" not in run.stderr
    assert not (tmp_path / "fresh").exists()
    assert {p: p.read_bytes() for p in earlier.rglob("*") if p.is_file()} == before
    assert not list(tmp_path.glob(".*.incident-*"))  # no staging folder left behind
