"""One monitor cycle, and the loop that runs it every ``interval``.

A cycle: import advisory files dropped in the watched folder (each moved to ``imported/``
or, when refused, to ``rejected/`` with the reason beside it), index stored SBOMs new to the
component index, compare the advisory database with the last state (:mod:`.changes`),
re-match what it names (:mod:`.rematch`), or everything when the full re-match is due, poll
watched tags (:mod:`.watch`), then raise and deliver the alerts (:mod:`.alerts`). The new
advisory state is saved only after the re-match recorded its events, so a cycle that dies
half-way is redone, not lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hullguard.errors import HullguardError, InputError
from hullguard.model import Severity
from hullguard.model.reference import ImageReference
from hullguard.monitor.alerts import Channel, Delivery, alerts_from, deliver
from hullguard.monitor.changes import AdvisoryChanges, advisory_changes
from hullguard.monitor.rematch import Rematch, index_components, rematch_full, rematch_targeted
from hullguard.monitor.watch import Submit, WatchReport, poll
from hullguard.store.base import store_error, write_session
from hullguard.store.monitor import (
    EVENT_FIELDS,
    add_events,
    add_run,
    advisory_state,
    events_after,
    fleet_findings_of,
    last_event_id,
    last_run,
    mark_sent,
    save_advisory_state,
    sent_keys,
    workloads_of,
)
from hullguard.store.names import utc
from hullguard.vuln.db import VulnDB

RUN_KINDS = ("baseline", "targeted", "full")
ALERTED_THROUGH = "alerted_through"  # in a finished cycle's summary: the last event id alerted
MAX_ALERT_EVENTS = 200_000  # events one cycle loads to alert; the rest wait for the next
MAX_DROPPED_BYTES = 512 << 20  # an advisory file dropped in the folder (the importer's bound)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, where: str) -> timedelta:
    """``90s``, ``15m``, ``24h``, ``7d`` (or plain seconds)."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _DURATION_UNITS else "s"
    number = value[:-1] if value[-1:] in _DURATION_UNITS else value
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a duration", where=where,
                         hint="e.g. 90s, 15m, 24h, 7d") from None
    if not 1 <= seconds <= 365 * 86400:
        raise InputError(f"{text[:40]!r} is out of range (1s to 365d)", where=where)
    return timedelta(seconds=seconds)


@dataclass
class MonitorConfig:
    db_path: Path
    interval: timedelta = timedelta(minutes=15)
    full_every: timedelta = timedelta(hours=24)
    watch_dir: Path | None = None
    watch: Sequence[ImageReference] = ()
    channels: Sequence[Channel] = ()
    threshold: Severity = Severity.HIGH
    dashboard_url: str = ""
    digest: bool = False
    submit: Submit | None = None


@dataclass
class CycleReport:
    started: datetime
    kind: str = "targeted"  # baseline | targeted | full
    imported: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    indexed: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    images_rematched: int = 0
    images_changed: int = 0
    events: dict[str, int] = field(default_factory=dict)
    watch: WatchReport = field(default_factory=WatchReport)
    delivery: Delivery = field(default_factory=Delivery)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step

    def timed(self, phase: str, since: float) -> float:
        now = time.monotonic()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - since, 3)
        return now

    def plain(self) -> dict[str, Any]:
        return {"started": self.started.isoformat(), "kind": self.kind,
                "imported": self.imported, "rejected": self.rejected, "indexed": self.indexed,
                "advisories": self.changes, "images_rematched": self.images_rematched,
                "images_changed": self.images_changed, "events": self.events,
                "watch": {"polled": self.watch.polled, "submitted": self.watch.submitted,
                          "waiting": self.watch.waiting, "errors": self.watch.errors},
                "alerts": {"sent": self.delivery.sent, "deduplicated": self.delivery.skipped,
                           "errors": self.delivery.errors},
                "seconds": round(self.seconds, 3), "phases": self.phases}


def import_dropped(folder: Path, db_path: Path, report: CycleReport) -> None:
    """Import each file in ``folder`` into the database, one by one, so a bad file is one
    clear rejection (moved aside with its reason) and the good ones still count."""
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            if path.stat().st_size > MAX_DROPPED_BYTES:
                raise InputError(f"larger than {MAX_DROPPED_BYTES >> 20} MiB", where=str(path))
            _check_import(import_inputs(db_path, [ImportInput(path,
                                                              name=f"watch-dir:{path.name}")]),
                          path)
        except HullguardError as error:
            report.rejected.append(f"{path.name}: {error.message}")
            _move(path, folder / "rejected", reason=f"{error.where}: {error.message}\n")
            continue
        report.imported.append(path.name)
        _move(path, folder / "imported")


def _check_import(reports: list[Any], path: Path) -> None:
    """A file that gave no record is refused (its warnings say why), not counted as news."""
    if reports and not sum(reports[0].stats.loaded.values()):
        warnings = reports[0].stats.warnings
        reason = warnings[0].removeprefix(f"{path}: ") if warnings else "no advisory records"
        raise InputError(reason[:300], where=str(path))


def _move(path: Path, target_dir: Path, reason: str = "") -> None:
    target_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = target_dir / f"{stamp}-{path.name}"
    path.replace(target)
    if reason:
        target.with_name(target.name + ".reason.txt").write_text(reason)


def run_cycle(factory: sessionmaker[Session], config: MonitorConfig,
              now: datetime | None = None) -> CycleReport:
    started = time.monotonic()
    report = CycleReport(now or datetime.now(UTC))
    if config.watch_dir is not None:
        import_dropped(config.watch_dir, config.db_path, report)
    mark = report.timed("import", started)
    report.indexed = index_components(factory)
    report.timed("index", mark)
    with factory() as session:
        through = _alerted_through(last_run(session, RUN_KINDS))
        if through is None:  # no mark yet: alert only what this cycle records
            through = last_event_id(session)
    with VulnDB.open(config.db_path) as db:
        _rematch(factory, db, config, report)
        if config.watch and config.submit is not None:
            report.watch = poll(factory, config.watch, config.submit, config.interval)
    events, through = _unalerted(factory, through)
    alerts = alerts_from(events, config.threshold, config.dashboard_url)
    report.delivery = _deliver(factory, config, alerts)
    report.seconds = time.monotonic() - started
    write_session(factory.kw["bind"], lambda session: add_run(
        session, report.kind, report.started, {**report.plain(), ALERTED_THROUGH: through}))
    return report


def _alerted_through(previous: Any) -> int | None:
    """The last event id the previous finished cycle raised alerts for (None: no such mark,
    the first cycle or one from a release that did not record it)."""
    if previous is None:
        return None
    try:
        value = json.loads(previous.summary).get(ALERTED_THROUGH)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _unalerted(factory: sessionmaker[Session], through: int) -> tuple[list[dict[str, Any]], int]:
    """Every event recorded after ``through``, oldest first: this cycle's (the re-match and the
    watch's scans store theirs before alerting) and those of a cycle that died after storing
    some (the re-match commits per chunk), which no later cycle derives again. At most
    MAX_ALERT_EVENTS a cycle; the mark moves only past those, so the rest wait for the next.
    Delivery deduplicates by key. Returns the events and the new mark."""
    with factory() as session:
        rows = events_after(session, through, MAX_ALERT_EVENTS)
    return ([{c: getattr(row, c) for c in EVENT_FIELDS} for row in rows],
            max((row.id for row in rows), default=through))


def _rematch(factory: sessionmaker[Session], db: VulnDB, config: MonitorConfig,
             report: CycleReport) -> None:
    mark = time.monotonic()
    with factory() as session:
        changes = advisory_changes(db, advisory_state(session))
        last_full = last_run(session, ["full", "baseline"])
    mark = report.timed("detect", mark)
    report.changes = changes.summary()
    due = last_full is None or report.started - utc(last_full.started_at) >= config.full_every
    if changes.baseline:
        report.kind, result = "baseline", Rematch([], 0, [])
    elif due:
        report.kind, result = "full", rematch_full(factory, db)
    else:
        result = rematch_targeted(factory, db, changes.packages)
    events = result.events + _kev_events(factory, changes, report.started)
    mark = report.timed("rematch", mark)
    write_session(factory.kw["bind"], lambda session: save_advisory_state(
        session, changes.state_rows, changes.state_removed))
    report.timed("save_state", mark)
    report.images_rematched = result.images
    report.images_changed = sum(1 for c in result.changes if c.changed)
    for event in events:
        report.events[event["kind"]] = report.events.get(event["kind"], 0) + 1


def _kev_events(factory: sessionmaker[Session], changes: AdvisoryChanges,
                now: datetime) -> list[dict[str, Any]]:
    """A new KEV entry for a finding the fleet already has: one ``kev`` event per image."""
    if not changes.kev_added:
        return []
    with factory() as session:
        hits = fleet_findings_of(session, changes.kev_added)
        used = workloads_of(session, [(h["key"], h["digest"]) for h in hits])
    rows = [{"at": now, "kind": "kev", "cause": "kev", "image_key": h["key"][:1024],
             "reference": h["reference"], "vuln_id": h["id"], "package": h["package"],
             "version": h["version"], "severity": h["severity"], "kev": True,
             "workloads": json.dumps(used.get(h["key"], []))} for h in hits]
    write_session(factory.kw["bind"], lambda session: add_events(session, rows))
    return rows


def _deliver(factory: sessionmaker[Session], config: MonitorConfig,
             alerts: list[Any]) -> Delivery:
    if not alerts or not config.channels:
        return Delivery()

    def already(channel: str, keys: list[str]) -> set[str]:
        with factory() as session:
            return sent_keys(session, channel, keys)

    def mark(channel: str, keys: list[str]) -> None:
        write_session(factory.kw["bind"], lambda session: mark_sent(
            session, channel, keys, datetime.now(UTC)))

    return deliver(config.channels, alerts, digest=config.digest, already_sent=already,
                   mark_sent=mark)


def run_forever(factory: sessionmaker[Session], config: MonitorConfig,
                on_cycle: Callable[[CycleReport | HullguardError], None],
                sleep: Callable[[float], None] = time.sleep) -> None:
    """A cycle every ``interval`` (measured from each cycle's start); a cycle that fails
    with a HullguardError is reported and the loop goes on (the next cycle redoes it)."""
    while True:
        started = time.monotonic()
        try:
            on_cycle(run_cycle(factory, config))
        except HullguardError as error:
            on_cycle(error)
        except SQLAlchemyError as error:  # a read that failed (the store went away)
            on_cycle(store_error(factory.kw["bind"], error))
        sleep(max(1.0, config.interval.total_seconds() - (time.monotonic() - started)))
