"""The monitor end to end on SQLite and the real PostgreSQL: a real advisory file dropped in
the watched folder is imported, only the images it names are re-matched (the others keep
their latest scan), the new finding of a running image raises exactly one alert per channel
(a local webhook receiver verifying the Standard Webhooks signature with the library, a
Slack-compatible receiver, a local SMTP server), resolved findings are recorded, and the
same finding coming back is not alerted twice."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hullguard.model import Severity
from hullguard.monitor.alerts import WEBHOOK_SECRET_ENV, parse_channel
from hullguard.monitor.run import MonitorConfig, run_cycle
from hullguard.store import open_store
from hullguard.store.base import write_session
from hullguard.store.models import (
    FindingEventRecord,
    FindingRecord,
    OccurrenceRecord,
    ScanRecord,
    WorkloadRecord,
)
from hullguard.store.monitor import workload_events
from hullguard.store.scans import add_scan, image_key
from hullguard.vuln.db import VulnDB
from hullguard.vuln.dbwrite import ImportInput, import_inputs
from hullguard.vuln.scan import match
from tests.monitor.conftest import SECRET, Mailbox, Receiver, corpus_file, python_sbom

CRITICAL = "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
JINJA = ("jinja2", "PYSEC-2019-217.yaml")  # CVE-2019-10906, fixed in 2.10.1
REQUESTS = ("requests", "PYSEC-2014-13.yaml")


def _fleet(url: str, tmp_path: Path, *advisories: tuple[str, str]) -> tuple[Path, Path]:
    """A database of one real advisory, a folder to drop more in, and three stored images
    scanned against it; a workload runs A. (database, folder)"""
    db_path, folder = tmp_path / "vulndb.sqlite", tmp_path / "drop"
    folder.mkdir()
    import_inputs(db_path, [ImportInput(corpus_file(*a)) for a in (REQUESTS, *advisories)])
    with VulnDB.open(db_path) as db:
        _store_fleet(url, db)
    return db_path, folder


def _store_fleet(url: str, db: VulnDB) -> dict[str, int]:
    sboms = {"a": python_sbom("registry.example/a:1", {"jinja2": "2.10", "requests": "2.0.0"}),
             "b": python_sbom("registry.example/b:1", {"requests": "2.0.0"}),
             "c": python_sbom("registry.example/c:1", {"flask": "1.0"})}

    def work(session: Session) -> dict[str, int]:
        ids = {name: add_scan(session, sbom, match(sbom, db)[0], "base", "scan")
               for name, sbom in sboms.items()}
        session.add(WorkloadRecord(key="prod/Deployment/web", namespace="prod",
                                   kind="Deployment", name="web", data="{}",
                                   environment="production", criticality="high"))
        session.add(OccurrenceRecord(
            registry_host="registry.example", repository="a", tag="1",
            ref_name="registry.example/a", kind="kubernetes",
            workload_key="prod/Deployment/web", running_digest=image_key(sboms["a"])))
        return ids

    with open_store(url) as factory:
        return write_session(factory.kw["bind"], work)


def _latest_scans(url: str) -> dict[int, int]:
    with open_store(url, create=False) as factory, factory() as session:
        rows = session.execute(select(ScanRecord.image_id, func.max(ScanRecord.id))
                               .group_by(ScanRecord.image_id))
        return {image_id: scan_id for image_id, scan_id in rows}


def _events(url: str) -> list[tuple[str, str, str]]:
    with open_store(url, create=False) as factory, factory() as session:
        return [(e.kind, e.vuln_id, e.reference) for e in
                session.scalars(select(FindingEventRecord).order_by(FindingEventRecord.id))]


def _drop(folder: Path, document: dict[str, object], name: str = "jinja2.yaml") -> None:
    (folder / name).write_text(yaml.safe_dump(document))


def _config(db: Path, folder: Path, receiver: Receiver, mailbox: Mailbox,
            monkeypatch: pytest.MonkeyPatch) -> MonitorConfig:
    monkeypatch.setenv(WEBHOOK_SECRET_ENV, SECRET)
    channels = [parse_channel(f"webhook:{receiver.url}/hook"),
                parse_channel(f"slack:{receiver.url}/slack"),
                parse_channel(f"smtp://{mailbox.host}:{mailbox.port}?from=hg@example.org"
                              "&to=oncall@example.org")]
    return MonitorConfig(db, full_every=timedelta(days=1), watch_dir=folder, channels=channels,
                         threshold=Severity.HIGH, dashboard_url="http://dash.example")


def test_an_imported_advisory_rematches_only_what_it_names_and_alerts_once(
        fresh_store: str, tmp_path: Path, receiver: Receiver, smtp_server: Mailbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db_path, folder = _fleet(fresh_store, tmp_path)
    config = _config(db_path, folder, receiver, smtp_server, monkeypatch)
    with open_store(fresh_store) as factory:
        first = run_cycle(factory, config)
        assert first.kind == "baseline" and first.indexed == 3
        before = _latest_scans(fresh_store)

        original = yaml.safe_load(corpus_file(*JINJA).read_text())
        original["severity"] = [{"type": "CVSS_V3", "score": CRITICAL}]  # NVD's rating of it
        _drop(folder, original)
        second = run_cycle(factory, config, now=datetime.now(UTC) + timedelta(minutes=15))
        assert second.kind == "targeted" and second.imported == ["jinja2.yaml"]
        assert second.changes["added"] == 1
        assert second.images_rematched == 1 and second.images_changed == 1  # A only
        after = _latest_scans(fresh_store)
        changed = {i for i in after if after[i] != before[i]}
        assert len(changed) == 1  # B and C keep their latest scan: untouched
        assert ("new", "CVE-2019-10906", "registry.example/a:1") in _events(fresh_store)
        _check_complete(fresh_store, db_path, changed.pop())  # the rest carried over
        assert sorted((name.split("#")[0], count) for name, count in
                      second.delivery.sent.items()) == [("slack:127.0.0.1", 1),
                                                        ("smtp:127.0.0.1", 1),
                                                        ("webhook:127.0.0.1", 1)]
        _check_deliveries(receiver, smtp_server)

        fixed = {**original, "affected": [{**original["affected"][0], "versions": [],
                                           "ranges": [{"type": "ECOSYSTEM", "events": [
                                               {"introduced": "0"}, {"fixed": "2.10"}]}]}],
                 "modified": "2024-01-01T00:00:00Z"}
        _drop(folder, fixed)
        third = run_cycle(factory, config)
        assert third.changes["changed"] == 1 and third.events == {"resolved": 1}
        assert ("resolved", "CVE-2019-10906", "registry.example/a:1") in _events(fresh_store)

        _drop(folder, original)  # the finding comes back: recorded, but not alerted again
        fourth = run_cycle(factory, config)
        assert fourth.events == {"new": 1} and fourth.delivery.sent == {}
        assert fourth.delivery.skipped == 3
    _check_deliveries(receiver, smtp_server)  # still exactly one per channel
    with open_store(fresh_store, create=False) as factory, factory() as session:
        per_workload = workload_events(session)
    assert per_workload == {"prod/Deployment/web": {"new": 2, "resolved": 1}}


def _check_complete(url: str, db_path: Path, image_id: int) -> None:
    """The targeted entry holds what a full match of the image gives (and its counts)."""
    sbom = python_sbom("registry.example/a:1", {"jinja2": "2.10", "requests": "2.0.0"})
    with VulnDB.open(db_path) as db:
        expected = match(sbom, db)[0]
    with open_store(url, create=False) as factory, factory() as session:
        scan_id = _latest_scans(url)[image_id]
        rows = session.scalars(select(FindingRecord).where(FindingRecord.scan_id == scan_id))
        stored = sorted((f.vuln_id, f.package_key) for f in rows)
        counts = json.loads(session.get_one(ScanRecord, scan_id).counts)
    assert stored == sorted((f.id, f.package.key) for f in expected) and len(stored) >= 2
    assert counts == {str(s): sum(1 for f in expected if f.severity == s)
                      for s in {f.severity for f in expected}}


def _check_deliveries(receiver: Receiver, mailbox: Mailbox) -> None:
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    hooks = [(h, b) for p, h, b in receiver.posts if p == "/hook"]
    assert len(hooks) == 1 and len(receiver.bodies("/slack")) == 1
    assert len(mailbox.messages) == 1
    headers, body = hooks[0]
    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
    alert = payload["data"]["alerts"][0]
    assert alert["vulnerability"] == "CVE-2019-10906"
    assert alert["workloads"] == ["prod/Deployment/web"]
    assert alert["link"].startswith("http://dash.example/ui/images/sha256:")
    assert "CVE-2019-10906" in receiver.bodies("/slack")[0]["text"]
    assert "CVE-2019-10906" in mailbox.messages[0]["Subject"]
    tampered = body.replace(b"CVE-2019-10906", b"CVE-2019-10907")
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(tampered, {k.lower(): v for k, v in headers.items()})


def test_digest_mode_sends_one_message_per_channel(
        fresh_store: str, tmp_path: Path, receiver: Receiver, smtp_server: Mailbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db_path, folder = _fleet(fresh_store, tmp_path)
    config = _config(db_path, folder, receiver, smtp_server, monkeypatch)
    config.digest, config.threshold = True, Severity.UNKNOWN
    with open_store(fresh_store) as factory:
        run_cycle(factory, config)
        for name in ("PYSEC-2019-217.yaml", "PYSEC-2021-66.yaml"):
            shutil.copy(corpus_file("jinja2", name), folder / name)
        report = run_cycle(factory, config)
    assert report.events.get("new", 0) >= 2
    hooks = receiver.bodies("/hook")
    assert len(hooks) == 1 and len(hooks[0]["data"]["alerts"]) == report.events["new"]
    assert len(smtp_server.messages) == 1 and len(receiver.bodies("/slack")) == 1


def test_a_full_rematch_runs_when_due(fresh_store: str, tmp_path: Path) -> None:
    db_path, _folder = _fleet(fresh_store, tmp_path)
    config = MonitorConfig(db_path, full_every=timedelta(hours=1))
    with open_store(fresh_store) as factory:
        assert run_cycle(factory, config).kind == "baseline"
        assert run_cycle(factory, config).kind == "targeted"
        later = run_cycle(factory, config, now=datetime.now(UTC) + timedelta(hours=2))
    assert later.kind == "full" and later.images_rematched == 3


def test_status_reports_the_cycles(fresh_store: str, tmp_path: Path) -> None:
    from tests.support.cli import run_hullguard

    db_path, _folder = _fleet(fresh_store, tmp_path)
    once = run_hullguard("monitor", "run", "--once", "--store", fresh_store, "--db", str(db_path),
                         "--format", "json")
    assert once.returncode == 0, once.stderr
    assert json.loads(once.stdout)["kind"] == "baseline"
    status = run_hullguard("monitor", "status", "--store", fresh_store, "--format", "json")
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert state["counts"]["indexed_sboms"] == 3 and "baseline" in state["last_run"]


def test_a_new_kev_entry_for_a_finding_the_fleet_has_alerts_once(
        fresh_store: str, tmp_path: Path, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db_path, folder = _fleet(fresh_store, tmp_path, JINJA)  # A has CVE-2019-10906 already
    monkeypatch.setenv(WEBHOOK_SECRET_ENV, SECRET)
    config = MonitorConfig(db_path, full_every=timedelta(days=1), watch_dir=folder,
                           channels=[parse_channel(f"webhook:{receiver.url}/hook")],
                           threshold=Severity.CRITICAL)
    catalog = {"catalogVersion": "2026.12.04", "vulnerabilities": [
        {"cveID": "CVE-2019-10906", "dateAdded": "2026-12-04", "dueDate": "2026-12-25",
         "knownRansomwareCampaignUse": "Unknown"}]}
    with open_store(fresh_store) as factory:
        run_cycle(factory, config)
        (folder / "kev.json").write_text(json.dumps(catalog))
        added = run_cycle(factory, config)
        (folder / "kev.json").write_text(json.dumps(catalog))  # the same catalog again
        same = run_cycle(factory, config)
    assert added.changes["kev_added"] == 1 and added.events == {"kev": 1}
    assert same.changes["kev_added"] == 0 and same.events == {}
    alerts = [a for body in receiver.bodies("/hook") for a in body["data"]["alerts"]]
    assert [(a["kind"], a["vulnerability"], a["reference"]) for a in alerts] == [
        ("kev", "CVE-2019-10906", "registry.example/a:1")]


def test_the_loop_runs_a_cycle_every_interval_and_flushes_each_report(
        fresh_store: str, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.support.cli import REPO

    db_path, folder = _fleet(fresh_store, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "hullguard", "monitor", "run", "--store", fresh_store, "--db",
         str(db_path), "--interval", "1s", "--watch-dir", str(folder), "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        shutil.copy(corpus_file(*JINJA), folder / ".jinja2.yaml")  # hidden while written
        (folder / ".jinja2.yaml").rename(folder / "jinja2.yaml")
        second = json.loads(process.stdout.readline())
        if not second["imported"]:  # the file landed after the second cycle had started
            second = json.loads(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert first["kind"] == "baseline"
    assert second["kind"] == "targeted" and second["imported"] == ["jinja2.yaml"]
    assert second["events"] == {"new": 1} and second["images_rematched"] == 1


def test_events_of_a_cycle_that_died_before_alerting_are_alerted_by_the_next(
        fresh_store: str, tmp_path: Path, receiver: Receiver, smtp_server: Mailbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-match commits per chunk and saves the advisory state before alerting: a cycle
    that dies after that leaves recorded events no later cycle re-derives. The next finished
    cycle alerts them from the store (once: the cycle after sends nothing)."""
    import hullguard.monitor.run as monitor_run

    db_path, folder = _fleet(fresh_store, tmp_path)
    config = _config(db_path, folder, receiver, smtp_server, monkeypatch)
    with open_store(fresh_store) as factory:
        assert run_cycle(factory, config).kind == "baseline"
        original = yaml.safe_load(corpus_file(*JINJA).read_text())
        original["severity"] = [{"type": "CVSS_V3", "score": CRITICAL}]
        _drop(folder, original)

        def die(*args: object) -> None:
            raise RuntimeError("the machine went away before the alerts")

        with monkeypatch.context() as patched:
            patched.setattr(monitor_run, "_deliver", die)
            with pytest.raises(RuntimeError):
                run_cycle(factory, config)
        assert ("new", "CVE-2019-10906", "registry.example/a:1") in _events(fresh_store)
        assert receiver.posts == [] and smtp_server.messages == []

        resumed = run_cycle(factory, config)
        assert resumed.changes.get("added", 0) == 0  # the state was saved: nothing re-derived
        assert sum(resumed.delivery.sent.values()) == 3  # one per channel, from the store
        again = run_cycle(factory, config)
        assert again.delivery.sent == {} and again.delivery.skipped == 0
    _check_deliveries(receiver, smtp_server)
