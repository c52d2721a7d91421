"""The monitor's tables (see :mod:`hullguard.monitor`): advisory state, the component index of
stored SBOMs, finding events, alerts already sent, watched tags and monitor runs.

Every query the monitor makes lives here (no SQL outside ``store/``). Reads take a session
from the caller; writes take the session of a :func:`~hullguard.store.base.write_session`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from hullguard.graph.memory import image_id as graph_id
from hullguard.graph.memory import image_names
from hullguard.model import Finding, ImageInfo, Severity
from hullguard.store.base import upsert
from hullguard.store.inventory import chunks
from hullguard.store.models import (
    AdvisoryStateRecord,
    AlertSentRecord,
    ComponentRecord,
    FindingEventRecord,
    FindingRecord,
    GraphLinkRecord,
    ImageRecord,
    MonitorRunRecord,
    OccurrenceRecord,
    SbomRecord,
    ScanRecord,
    WatchedTagRecord,
    table_of,
)
from hullguard.store.names import record_name_rows
from hullguard.store.scans import finding_row

EVENT_FIELDS = ("at", "kind", "cause", "image_key", "reference", "vuln_id", "package", "version",
                "severity", "kev", "workloads")
INDEXED = ("", "")  # the row every indexed SBOM has, so one with no components is not redone
_CHUNK = 400


@dataclass(frozen=True)
class StoredAdvisory:
    content: str
    withdrawn: bool
    packages: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StoredImage:
    id: int
    key: str
    reference: str
    digest: str
    sbom_digest: str


# ---------------------------------------------------------------- advisory state


def advisory_state(session: Session) -> dict[str, StoredAdvisory]:
    rows = session.execute(select(AdvisoryStateRecord.key, AdvisoryStateRecord.content,
                                  AdvisoryStateRecord.withdrawn, AdvisoryStateRecord.packages))
    return {key: StoredAdvisory(content, bool(withdrawn),
                                tuple((e, n) for e, n in json.loads(packages)))
            for key, content, withdrawn, packages in rows}


def save_advisory_state(session: Session, rows: Sequence[dict[str, Any]],
                        removed: Iterable[str]) -> None:
    """Upsert the changed records' rows, delete the removed ones."""
    for chunk in _batches(list(rows), _CHUNK):
        upsert(session, table_of(AdvisoryStateRecord), chunk, ["key"],
               ["vuln_id", "content", "modified", "withdrawn", "packages"])
    for keys in chunks(removed):
        session.execute(delete(AdvisoryStateRecord).where(AdvisoryStateRecord.key.in_(keys)))


# ---------------------------------------------------------------- component index


def unindexed_sboms(session: Session) -> Iterator[tuple[str, bytes]]:
    """(digest, data) of every image's latest SBOM the component index lacks."""
    indexed = select(ComponentRecord.sbom_digest).where(
        ComponentRecord.ecosystem == INDEXED[0], ComponentRecord.name == INDEXED[1])
    rows = session.execute(select(SbomRecord.digest, SbomRecord.data)
                           .join(ImageRecord, ImageRecord.sbom_digest == SbomRecord.digest)
                           .where(SbomRecord.digest.not_in(indexed)).distinct())
    yield from rows


def add_components(session: Session,
                   sboms: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> None:
    """Index SBOMs: (digest, the pairs their packages are looked up under) each; one
    ``executemany`` for all of them (one statement per SBOM cost most of the indexing)."""
    rows = [{"sbom_digest": digest, "ecosystem": eco[:100], "name": name[:255]}
            for digest, pairs in sboms for eco, name in sorted({*pairs, INDEXED})]
    if rows:
        session.execute(table_of(ComponentRecord).insert(), rows)


def images_naming(session: Session, pairs: Iterable[tuple[str, str]]) -> list[StoredImage]:
    """The images whose latest SBOM has a component looked up as one of ``pairs``."""
    wanted = sorted(set(pairs) - {INDEXED})
    found: dict[int, StoredImage] = {}
    for start in range(0, len(wanted), _CHUNK):
        part = wanted[start:start + _CHUNK]
        digests = select(ComponentRecord.sbom_digest).where(
            tuple_(ComponentRecord.ecosystem, ComponentRecord.name).in_(part))
        rows = session.execute(select(ImageRecord.id, ImageRecord.key, ImageRecord.reference,
                                      ImageRecord.digest, ImageRecord.sbom_digest)
                               .where(ImageRecord.sbom_digest.in_(digests)))
        for image_id, key, reference, digest, sbom in rows:
            found[image_id] = StoredImage(image_id, key, reference, digest or "", sbom or "")
    return [found[i] for i in sorted(found)]


def sbom_data(session: Session, digests: Iterable[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for part in chunks(digests):
        rows = session.execute(select(SbomRecord.digest, SbomRecord.data)
                               .where(SbomRecord.digest.in_(part)))
        out.update({digest: data for digest, data in rows})
    return out


def latest_scan_ids(session: Session, image_ids: Sequence[int]) -> dict[int, int]:
    """image id -> id of its latest scan."""
    latest: dict[int, int] = {}
    for start in range(0, len(image_ids), _CHUNK):
        part = list(image_ids[start:start + _CHUNK])
        rows = session.execute(select(ScanRecord.image_id, func.max(ScanRecord.id))
                               .where(ScanRecord.image_id.in_(part))
                               .group_by(ScanRecord.image_id))
        latest.update({image_id: scan_id for image_id, scan_id in rows})
    return latest


@dataclass(frozen=True)
class PriorRows:
    """A scan's stored findings for some packages: the fields ``diff_findings`` compares, and
    every row's (id, package key), duplicates included (to leave them out of a carry-over)."""

    fields: dict[tuple[str, str], dict[str, Any]]
    rows: list[tuple[int, str]]


def prior_findings(session: Session, scan_ids: Sequence[int],
                   keys: Iterable[str] | None) -> dict[int, PriorRows]:
    """scan id -> its findings whose package key is one of ``keys`` (None: all of them).
    The caller narrows them per image; the filter only keeps unrelated rows unread."""
    wanted = None if keys is None else sorted(set(keys))
    out = {scan_id: PriorRows({}, []) for scan_id in scan_ids}
    columns = (FindingRecord.id, FindingRecord.scan_id, FindingRecord.vuln_id,
               FindingRecord.package_key, FindingRecord.aliases, FindingRecord.purl,
               FindingRecord.package_name, FindingRecord.version, FindingRecord.severity)
    for start in range(0, len(scan_ids), _CHUNK):
        query = select(*columns).where(FindingRecord.scan_id.in_(
            list(scan_ids[start:start + _CHUNK])))
        if wanted is not None:
            query = query.where(FindingRecord.package_key.in_(wanted))
        for row_id, scan_id, vuln_id, key, aliases, purl, name, version, severity in \
                session.execute(query):
            out[scan_id].rows.append((row_id, key))
            out[scan_id].fields[(vuln_id, key)] = {
                "id": vuln_id, "aliases": aliases, "purl": purl,  # aliases: JSON text
                "package": name, "version": version, "severity": str(Severity(severity))}
    return out


@dataclass(frozen=True)
class CarriedScan:
    """A re-matched image's new ``rescan`` entry: the findings just matched for its named
    packages, and the ``previous`` scan's rows except ``replaced`` (those packages' rows)."""

    image_id: int
    sbom_digest: str
    previous: int | None
    findings: Sequence[Finding]
    replaced: Sequence[int]  # finding row ids of the previous scan not carried over
    image: ImageInfo  # as its stored SBOM has it (the names ``add_scan`` records sightings of)


def add_carried_scans(session: Session, entries: Sequence[CarriedScan], db_label: str,
                      now: datetime) -> list[int]:
    """A ``rescan`` entry per image in a fixed number of statements: the scans
    (one multi-row insert), the new findings and the carried-over rows (one each), the
    counts (one aggregate, one ``executemany``), the images' and names' sightings. The scan
    ids, in the order of ``entries``. Eight statements per image were most of a re-match."""
    if not entries:
        return []
    _seen_again(session, entries, now)
    scans = table_of(ScanRecord)
    rows = [{"image_id": e.image_id, "sbom_digest": e.sbom_digest, "kind": "rescan",
             "created_at": now, "database": db_label, "counts": "{}"} for e in entries]
    ids = [int(i) for i in session.scalars(
        scans.insert().returning(scans.c.id, sort_by_parameter_order=True), rows)]
    found = [finding_row(scan_id, finding)
             for scan_id, entry in zip(ids, entries, strict=True) for finding in entry.findings]
    if found:
        session.execute(table_of(FindingRecord).insert(), found)
    _carry_rows(session, ids, entries)
    _set_counts(session, ids)
    return ids


def _seen_again(session: Session, entries: Sequence[CarriedScan], now: datetime) -> None:
    """What ``add_scan`` refreshes for a stored image: its last sighting and its names'."""
    image_ids = sorted({e.image_id for e in entries})
    for start in range(0, len(image_ids), _CHUNK):
        session.execute(update(ImageRecord).where(
            ImageRecord.id.in_(image_ids[start:start + _CHUNK])).values(last_seen=now))
    sightings = dict.fromkeys((name, graph_id(e.image)) for e in entries
                              for name in image_names(e.image)[0] if name)
    record_name_rows(session, [{"name": n, "digest": d, "first_seen": now, "last_seen": now}
                               for n, d in sightings])


def _carry_rows(session: Session, ids: Sequence[int], entries: Sequence[CarriedScan]) -> None:
    """Each previous scan's rows but the replaced ones, under its image's new scan id: read
    and written back in one multi-row insert. (SQLite ran ``INSERT ... SELECT`` from the
    findings table into itself four times slower than this, joined over many scans or not.)"""
    fresh = {e.previous: new for new, e in zip(ids, entries, strict=True)
             if e.previous is not None}
    replaced = {row for e in entries for row in e.replaced}
    table = table_of(FindingRecord)
    names = [c.name for c in table.c if c.name not in ("id", "scan_id")]
    previous, rows = sorted(fresh), []
    for start in range(0, len(previous), _CHUNK):
        query = select(table.c.id, table.c.scan_id, *(table.c[n] for n in names)).where(
            table.c.scan_id.in_(previous[start:start + _CHUNK]))
        rows += [{"scan_id": fresh[row[1]], **dict(zip(names, row[2:], strict=True))}
                 for row in session.execute(query) if row[0] not in replaced]
    if rows:
        session.execute(table.insert(), rows)


def _set_counts(session: Session, ids: Sequence[int]) -> None:
    table = table_of(FindingRecord)
    counts: dict[int, dict[str, int]] = {scan_id: {} for scan_id in ids}
    for start in range(0, len(ids), _CHUNK):
        totals = session.execute(
            select(table.c.scan_id, table.c.severity, func.count())
            .where(table.c.scan_id.in_(list(ids[start:start + _CHUNK])),
                   table.c.suppressed_by == "")
            .group_by(table.c.scan_id, table.c.severity))
        for scan_id, severity, n in totals:
            counts[scan_id][str(Severity(severity))] = int(n)
    scans = table_of(ScanRecord)
    session.execute(update(scans).where(scans.c.id == bindparam("scan")).values(
        counts=bindparam("totals")), [{"scan": i, "totals": json.dumps(c)}
                                      for i, c in counts.items()])


def fleet_findings_of(session: Session, vuln_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Findings of each image's latest scan whose id is one of ``vuln_ids`` (new KEV entries)."""
    latest = (select(func.max(ScanRecord.id)).group_by(ScanRecord.image_id)).scalar_subquery()
    out = []
    for part in chunks(vuln_ids):
        rows = session.execute(
            select(ImageRecord.key, ImageRecord.reference, ImageRecord.digest,
                   FindingRecord.vuln_id, FindingRecord.package_name, FindingRecord.version,
                   FindingRecord.severity)
            .join(ScanRecord, ScanRecord.id == FindingRecord.scan_id)
            .join(ImageRecord, ImageRecord.id == ScanRecord.image_id)
            .where(FindingRecord.vuln_id.in_(part), FindingRecord.scan_id.in_(latest),
                   FindingRecord.suppressed_by == ""))
        out += [{"key": key, "reference": reference, "digest": digest or "", "id": vuln_id,
                 "package": name, "version": version, "severity": severity}
                for key, reference, digest, vuln_id, name, version, severity in rows]
    return out


def workloads_of(session: Session, images: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Image key -> keys of the inventory workloads running it: named through the lineage
    index's links, or by the digest a container runs or pins. ``images``: (key, digest)."""
    found: dict[str, set[str]] = defaultdict(set)
    keys = [key for key, _digest in images]
    for part in chunks(keys):
        rows = session.execute(select(GraphLinkRecord.image_id, OccurrenceRecord.workload_key)
                               .join(OccurrenceRecord,
                                     OccurrenceRecord.id == GraphLinkRecord.occurrence_id)
                               .where(GraphLinkRecord.image_id.in_(part),
                                      OccurrenceRecord.workload_key != ""))
        for key, workload in rows:
            found[key].add(workload)
    by_digest = {digest: key for key, digest in images if digest}
    for part in chunks(by_digest):
        by_pin = session.execute(select(OccurrenceRecord.running_digest,
                                        OccurrenceRecord.ref_digest,
                                        OccurrenceRecord.workload_key)
                                 .where(OccurrenceRecord.workload_key != "",
                                        OccurrenceRecord.running_digest.in_(part)
                                        | OccurrenceRecord.ref_digest.in_(part)))
        for running, pinned, workload in by_pin:
            for digest in {running, pinned} & set(by_digest):
                found[by_digest[digest]].add(workload)
    return {key: sorted(values) for key, values in found.items()}


# ---------------------------------------------------------------- events, alerts, runs


def add_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _batches(list(rows), 1000):
        session.execute(table_of(FindingEventRecord).insert(), chunk)


def events_after(session: Session, event_id: int, limit: int) -> list[FindingEventRecord]:
    """Events recorded after ``event_id`` (oldest first, at most ``limit``)."""
    return list(session.scalars(select(FindingEventRecord).where(FindingEventRecord.id > event_id)
                                .order_by(FindingEventRecord.id).limit(limit)))


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(FindingEventRecord.id))) or 0)


def event_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(FindingEventRecord.kind, func.count())
                           .group_by(FindingEventRecord.kind))
    return {kind: int(count) for kind, count in rows}


def sent_keys(session: Session, channel: str, keys: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for part in chunks(keys):
        out.update(session.scalars(select(AlertSentRecord.key).where(
            AlertSentRecord.channel == channel, AlertSentRecord.key.in_(part))))
    return out


def mark_sent(session: Session, channel: str, keys: Iterable[str], now: datetime) -> None:
    upsert(session, table_of(AlertSentRecord),
           [{"key": key, "channel": channel, "sent_at": now} for key in sorted(set(keys))],
           ["key", "channel"])


def watched_tags(session: Session) -> dict[str, WatchedTagRecord]:
    return {row.reference: row for row in session.scalars(select(WatchedTagRecord))}


def save_watched(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    upsert(session, table_of(WatchedTagRecord), rows, ["reference"],
           ["digest", "checked_at", "next_at", "failures", "error"])


def stored_digests(session: Session, digests: Iterable[str]) -> set[str]:
    """Which of ``digests`` the store has an image (and so an SBOM) for."""
    out: set[str] = set()
    for part in chunks(digests):
        out.update(d for d in session.scalars(select(ImageRecord.digest)
                                              .where(ImageRecord.digest.in_(part))) if d)
    return out


def add_run(session: Session, kind: str, started: datetime, summary: dict[str, Any]) -> None:
    session.add(MonitorRunRecord(started_at=started, kind=kind,
                                 summary=json.dumps(summary, sort_keys=True)))


def last_run(session: Session, kinds: Sequence[str]) -> MonitorRunRecord | None:
    return session.scalars(select(MonitorRunRecord).where(MonitorRunRecord.kind.in_(kinds))
                           .order_by(MonitorRunRecord.id.desc()).limit(1)).first()


def count_rows(session: Session) -> dict[str, int]:
    """Sizes of the monitor's tables (``monitor status``)."""
    records = {"advisories": AdvisoryStateRecord, "watched": WatchedTagRecord,
               "alerts_sent": AlertSentRecord}
    out = {name: int(session.scalar(select(func.count()).select_from(record)) or 0)
           for name, record in records.items()}
    out["indexed_sboms"] = int(session.scalar(
        select(func.count()).select_from(ComponentRecord).where(
            ComponentRecord.ecosystem == INDEXED[0], ComponentRecord.name == INDEXED[1])) or 0)
    return out


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def status_of(session: Session) -> dict[str, Any]:
    """What ``monitor status`` shows; a store without the monitor's tables (an older
    revision, read as it is) shows an empty state."""
    from sqlalchemy import inspect

    if "monitor_runs" not in inspect(session.connection()).get_table_names():
        return {"last_run": None, "last_full": None, "counts": {}, "events": {},
                "workloads": {}, "watched": []}
    last, full = last_run(session, ["targeted", "full", "baseline"]), last_run(
        session, ["full", "baseline"])
    watched = [{"reference": w.reference, "digest": w.digest, "failures": w.failures,
                "error": w.error, "checked_at": w.checked_at}
               for w in watched_tags(session).values()]
    return {"last_run": _run_line(last), "last_full": _run_line(full),
            "counts": count_rows(session), "events": event_counts(session),
            "workloads": workload_events(session),
            "watched": sorted(watched, key=lambda w: str(w["reference"]))}


def workload_events(session: Session, limit: int = 10_000) -> dict[str, dict[str, int]]:
    """Workload key -> events by kind, over the latest ``limit`` events that name one."""
    rows = session.execute(select(FindingEventRecord.kind, FindingEventRecord.workloads)
                           .where(FindingEventRecord.workloads != "[]")
                           .order_by(FindingEventRecord.id.desc()).limit(limit))
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, workloads in rows:
        for workload in json.loads(workloads):
            out[workload][kind] = out[workload].get(kind, 0) + 1
    return dict(sorted(out.items()))


def _run_line(run: MonitorRunRecord | None) -> str | None:
    if run is None:
        return None
    seconds = json.loads(run.summary).get("seconds", 0)
    return f"{run.started_at:%Y-%m-%d %H:%M:%S} ({run.kind}, {seconds}s)"
