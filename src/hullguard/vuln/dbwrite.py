"""Importing into the advisory database, atomically.

An import builds a new file beside the target (a copy of the current database when there is
one), commits, fsyncs and renames it over the target: a crash or an error at any point leaves
the previous database exactly as it was. A lock file keeps two imports from racing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hullguard.errors import DatabaseError, InputError
from hullguard.model import Advisory
from hullguard.vuln.codec import advisory_to_json, cvss_to
from hullguard.vuln.importers import (
    CvssRecord,
    EpssRecord,
    ImportStats,
    KevRecord,
    Limits,
    iter_records,
)
from hullguard.vuln.schema import migrate


@dataclass(frozen=True)
class ImportInput:
    """One input of an import: a path, the source name it is recorded under, fetch metadata."""

    path: Path
    name: str = ""  # defaults to the resolved path
    url: str = ""
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""

    @property
    def source_name(self) -> str:
        return self.name or str(self.path.resolve())


@dataclass
class SourceReport:
    name: str
    stats: ImportStats
    kept_previous: bool = False  # the input gave nothing usable: old data left in place
    kinds: list[str] = field(default_factory=list)


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    lock_path = target.with_name(target.name + ".lock")
    with _writable(target, "lock"):
        lock = lock_path.open("a")
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseError("another import is running on this database",
                                where=str(target)) from None
        yield


@contextmanager
def building(target: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a new copy of ``target``; renamed over it only if the block succeeds."""
    with _writable(target, "prepare"):
        target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        with _writable(target, "prepare"):
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                            suffix=".tmp")
            os.close(fd)
        tmp = Path(tmp_name)
        try:
            conn = _copy_of(target, tmp)
            try:
                yield conn
                conn.commit()
            finally:
                conn.close()
            with _writable(target, "replace"):
                _fsync(tmp)
                os.replace(tmp, target)
                _fsync(target.parent)
        finally:
            tmp.unlink(missing_ok=True)


@contextmanager
def _writable(target: Path, step: str) -> Iterator[None]:
    """File-system failures of the database's own files as one clear error."""
    try:
        yield
    except OSError as error:
        raise DatabaseError(f"cannot {step} the database file: {error.strerror or error}",
                            where=str(target)) from None


def _copy_of(target: Path, tmp: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp)
    if target.exists():
        try:
            source = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
            with source:
                source.backup(conn)
            source.close()
        except sqlite3.DatabaseError as error:
            conn.close()
            raise DatabaseError(f"existing database unreadable: {error}", where=str(target),
                                hint="move it away and import again") from None
    # The temp file is renamed into place only after a commit and fsync, so it needs no
    # journal of its own; this makes bulk inserts several times faster.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    migrate(conn, str(target))
    return conn


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def import_inputs(target: Path, inputs: list[ImportInput], limits: Limits | None = None,
                  checked: list[str] | None = None) -> list[SourceReport]:
    """Import every input into ``target`` in one atomic step; one report per input.
    ``checked`` names sources confirmed current upstream (their age is reset)."""
    for item in inputs:
        if not item.path.exists():
            raise InputError("no such file or directory", where=str(item.path))
    reports = []
    with building(target) as conn:
        for item in inputs:
            reports.append(_import_one(conn, item, limits or Limits()))
        mark_checked(conn, checked or [])
    return reports


def mark_checked(conn: sqlite3.Connection, names: list[str]) -> None:
    """Record that these sources were confirmed current upstream (HTTP 304)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.executemany("UPDATE sources SET checked_at = ? WHERE name = ?",
                     ((now, name) for name in names))


@dataclass
class _Batch:
    advisories: dict[str, tuple[Advisory, str]] = field(default_factory=dict)
    cvss: list[CvssRecord] = field(default_factory=list)
    epss: list[EpssRecord] = field(default_factory=list)
    kev: list[KevRecord] = field(default_factory=list)


def _collect(item: ImportInput, stats: ImportStats) -> _Batch:
    batch = _Batch()
    for record in iter_records(item.path, stats):
        if isinstance(record, Advisory):
            data = advisory_to_json(record)
            batch.advisories[_dedup_key(record, data)] = (record, data)
        elif isinstance(record, CvssRecord):
            batch.cvss.append(record)
        elif isinstance(record, EpssRecord):
            batch.epss.append(record)
        else:
            batch.kev.append(record)
    return batch


def _dedup_key(advisory: Advisory, data: str) -> str:
    """OSV ids are global, so a newer copy replaces an older one wherever it came from; distro
    records are per document, so identical content is stored once and the rest kept."""
    if advisory.source == "osv":
        return f"osv:{advisory.id}"
    digest = hashlib.sha1(data.encode(), usedforsecurity=False).hexdigest()[:20]
    return f"{advisory.source}:{advisory.id}:{digest}"


def _import_one(conn: sqlite3.Connection, item: ImportInput, limits: Limits) -> SourceReport:
    stats = ImportStats(limits=limits)
    batch = _collect(item, stats)
    report = SourceReport(item.source_name, stats, kinds=sorted(stats.formats))
    if stats.total == 0 and _has_source(conn, report.name):
        report.kept_previous = True  # an empty or garbage download must not erase good data
        return report
    _replace_origin(conn, report.name, batch)
    _record_source(conn, item, report)
    return report


def _has_source(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sources WHERE name = ?", (name,)).fetchone() is not None


def _replace_origin(conn: sqlite3.Connection, origin: str, batch: _Batch) -> None:
    conn.execute("DELETE FROM advisories WHERE origin = ?", (origin,))
    conn.execute("DELETE FROM nvd_cvss WHERE origin = ?", (origin,))
    conn.executemany("DELETE FROM advisories WHERE dedup = ?",
                     ((key,) for key in batch.advisories))
    conn.execute("DELETE FROM affected WHERE rid NOT IN (SELECT rid FROM advisories)")
    conn.execute("DELETE FROM aliases WHERE rid NOT IN (SELECT rid FROM advisories)")
    _insert_advisories(conn, origin, batch.advisories)
    conn.executemany("INSERT OR REPLACE INTO nvd_cvss VALUES (?, ?, ?)",
                     ((r.cve, origin, json.dumps([cvss_to(s) for s in r.scores]))
                      for r in batch.cvss))
    _replace_snapshots(conn, batch)


def _insert_advisories(conn: sqlite3.Connection, origin: str,
                       advisories: dict[str, tuple[Advisory, str]]) -> None:
    for key, (adv, data) in advisories.items():
        cursor = conn.execute(
            "INSERT INTO advisories (dedup, origin, source, id, withdrawn, data) "
            "VALUES (?, ?, ?, ?, ?, ?)", (key, origin, adv.source, adv.id, int(bool(
                adv.withdrawn)), data))
        rid = cursor.lastrowid
        packages = {(a.ecosystem, a.name) for a in adv.affected}
        conn.executemany("INSERT OR IGNORE INTO affected VALUES (?, ?, ?, ?)",
                         ((eco, name, rid, adv.id) for eco, name in packages))
        conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?)",
                         ((alias, rid) for alias in adv.aliases))


def _replace_snapshots(conn: sqlite3.Connection, batch: _Batch) -> None:
    """EPSS and KEV files are complete snapshots: a new one replaces the old table."""
    if batch.epss:
        conn.execute("DELETE FROM epss")
        conn.executemany("INSERT OR REPLACE INTO epss VALUES (?, ?, ?, ?)",
                         ((r.cve, r.epss.score, r.epss.percentile, r.epss.date)
                          for r in batch.epss))
    if batch.kev:
        conn.execute("DELETE FROM kev")
        conn.executemany("INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?)",
                         ((r.cve, r.kev.date_added, r.kev.due_date, int(r.kev.ransomware))
                          for r in batch.kev))


def _record_source(conn: sqlite3.Connection, item: ImportInput, report: SourceReport) -> None:
    stats = report.stats
    conn.execute(
        "INSERT OR REPLACE INTO sources (name, kind, url, etag, last_modified, sha256, "
        "imported_at, records, skipped, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (report.name, ",".join(report.kinds), item.url or str(item.path), item.etag,
         item.last_modified, item.sha256, datetime.now(UTC).isoformat(timespec="seconds"),
         stats.total, stats.skipped, json.dumps(stats.warnings[:50])))
