"""Importing into the advisory database, atomically.

An import builds a new file beside the target (a copy of the current database when there is
one), commits, fsyncs and renames it over the target: a crash or an error at any point leaves
the previous database exactly as it was. A lock file keeps two writers from racing; a second
writer waits for it (bounded by ``LOCK_WAIT`` seconds) and then gives up with a clear error.

* Temporary copies are named ``.<db>.<pid>.<random>.tmp``; a writer holding the lock removes
  the ones whose process is gone (a ``kill -9`` mid-import leaves one behind).
* SIGINT/SIGTERM are held back while the finished copy is swapped in: an interrupt that
  arrived before the swap aborts the import (the database stays byte-identical), one that
  arrives during it takes effect right after.
* Records are written as the importers yield them (nothing holds a whole feed in memory);
  they are loaded under a staging origin and only replace the source's old rows when the
  input gave something usable.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import signal
import sqlite3
import tempfile
import time
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
    Limits,
    Record,
    iter_records,
)
from hullguard.vuln.schema import check_objects, migrate, time_limit

LOCK_WAIT = 60.0  # seconds a writer waits for another one to finish
_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


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
def _locked(target: Path, wait: float) -> Iterator[None]:
    lock_path = target.with_name(target.name + ".lock")
    with _writable(target, "lock"):
        lock = lock_path.open("a")
    with lock:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DatabaseError(f"another import is running on this database "
                                        f"(waited {wait:g} s)", where=str(target),
                                        hint="try again when it has finished") from None
                time.sleep(0.05)
        yield


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def stale_temporaries(target: Path) -> list[Path]:
    """Temporary copies beside ``target`` whose owning process no longer exists."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.[^.]+\.tmp$")
    found = []
    for path in target.parent.glob(f".{target.name}.*.tmp"):
        match = pattern.match(path.name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            found.append(path)
    return found


def _remove_stale(target: Path) -> None:
    for path in stale_temporaries(target):
        path.unlink(missing_ok=True)


@contextmanager
def building(target: Path, wait: float = LOCK_WAIT) -> Iterator[sqlite3.Connection]:
    """A connection to a new copy of ``target``; renamed over it only if the block succeeds."""
    with _writable(target, "prepare"):
        target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target, wait):
        with _writable(target, "prepare"):
            _remove_stale(target)
            fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".tmp",
                                            prefix=f".{target.name}.{os.getpid()}.")
            os.close(fd)
        tmp = Path(tmp_name)
        try:
            conn = _copy_of(target, tmp)
            try:
                yield conn
                conn.commit()
            finally:
                conn.close()
            _swap(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


def _swap(tmp: Path, target: Path) -> None:
    """fsync and rename ``tmp`` over ``target`` with interrupts held back (see module doc)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    pending = None
    try:
        with _writable(target, "replace"):
            _fsync(tmp)
            pending = signal.sigtimedwait(_INTERRUPTS, 0)  # consumes an interrupt, if any
            if pending is None:
                os.replace(tmp, target)
                _fsync(target.parent)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if pending is not None:  # interrupted before the swap: the old file stays
        signal.raise_signal(pending.si_signo)
        raise KeyboardInterrupt


def migrate_database(target: Path, wait: float = LOCK_WAIT) -> None:
    """Bring ``target`` to the current schema (``db migrate``); a no-op copy when current."""
    with building(target, wait):
        pass  # building() migrates the copy before handing it out


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
    try:
        if target.exists():
            _copy_existing(target, conn)
        # The temp file is renamed into place only after a commit and fsync, so it needs no
        # journal of its own; this makes bulk inserts several times faster.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        with time_limit(conn, str(target)):
            migrate(conn, str(target))
    except BaseException:
        conn.close()
        raise
    return conn


def _copy_existing(target: Path, conn: sqlite3.Connection) -> None:
    """Copy the current file page by page, after checking it holds only our tables (a
    hostile file's views and triggers would run inside our queries)."""
    try:
        source = sqlite3.connect(f"{target.resolve().as_uri()}?mode=ro", uri=True)
        try:
            check_objects(source, str(target))
            source.backup(conn)
        finally:
            source.close()
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"existing database unreadable: {error}", where=str(target),
                            hint="move it away and import again") from None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def import_inputs(target: Path, inputs: list[ImportInput], limits: Limits | None = None,
                  checked: list[str] | None = None, lock_wait: float = LOCK_WAIT
                  ) -> list[SourceReport]:
    """Import every input into ``target`` in one atomic step; one report per input.
    ``checked`` names sources confirmed current upstream (their age is reset)."""
    for item in inputs:
        if not item.path.exists():
            raise InputError("no such file or directory", where=str(item.path))
    reports = []
    with building(target, lock_wait) as conn:
        for item in inputs:
            reports.append(_import_one(conn, item, limits or Limits()))
        mark_checked(conn, checked or [])
    return reports


def mark_checked(conn: sqlite3.Connection, names: list[str]) -> None:
    """Record that these sources were confirmed current upstream (HTTP 304)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.executemany("UPDATE sources SET checked_at = ? WHERE name = ?",
                     ((now, name) for name in names))


def _dedup_key(advisory: Advisory, data: str) -> str:
    """OSV ids are global, so a newer copy replaces an older one wherever it came from; distro
    records are per document, so identical content is stored once and the rest kept."""
    if advisory.source == "osv":
        return f"osv:{advisory.id}"
    digest = hashlib.sha1(data.encode(), usedforsecurity=False).hexdigest()[:20]
    return f"{advisory.source}:{advisory.id}:{digest}"


def _import_one(conn: sqlite3.Connection, item: ImportInput, limits: Limits) -> SourceReport:
    stats = ImportStats(limits=limits)
    name = item.source_name
    staging = f"\x00staging\x00{name}"  # no real origin can look like this
    _Loader(conn, staging).load(iter_records(item.path, stats), stats)
    report = SourceReport(name, stats, kinds=sorted(stats.formats))
    if stats.total == 0 and _has_source(conn, name):
        report.kept_previous = True  # an empty or garbage download must not erase good data
        return report
    _promote(conn, staging, name)
    _record_source(conn, item, report)
    return report


class _Loader:
    """Writes records as they stream in, under a staging origin. Row ids only grow during one
    import, so a replaced record's index rows can never be taken over by a new record; they
    are removed as orphans in :func:`_promote`."""

    def __init__(self, conn: sqlite3.Connection, staging: str) -> None:
        self.conn, self.staging = conn, staging
        self.next_rid = int(conn.execute("SELECT coalesce(max(rid), 0) + 1 "
                                         "FROM advisories").fetchone()[0])
        self.snapshots: set[str] = set()

    def load(self, records: Iterator[Record], stats: ImportStats) -> None:
        for record in records:
            if isinstance(record, Advisory):
                self._advisory(record, stats)
            elif isinstance(record, CvssRecord):
                self.conn.execute("INSERT OR REPLACE INTO nvd_cvss VALUES (?, ?, ?)",
                                  (record.cve, self.staging,
                                   json.dumps([cvss_to(s) for s in record.scores])))
            elif isinstance(record, EpssRecord):
                self._snapshot("epss")
                self.conn.execute("INSERT OR REPLACE INTO epss VALUES (?, ?, ?, ?)",
                                  (record.cve, record.epss.score, record.epss.percentile,
                                   record.epss.date))
            else:
                self._snapshot("kev")
                self.conn.execute("INSERT OR REPLACE INTO kev VALUES (?, ?, ?, ?)",
                                  (record.cve, record.kev.date_added, record.kev.due_date,
                                   int(record.kev.ransomware)))

    def _snapshot(self, table: str) -> None:
        """EPSS and KEV files are complete snapshots: a new one replaces the old table."""
        if table not in self.snapshots:
            self.snapshots.add(table)
            self.conn.execute(f"DELETE FROM {table}")

    def _advisory(self, adv: Advisory, stats: ImportStats) -> None:
        data = advisory_to_json(adv)
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:  # JSON allows lone surrogates ("\ud800"); UTF-8 does not
            stats.loaded["advisories"] -= 1
            stats.skip(f"{adv.source} {adv.id}", "text is not valid Unicode (lone surrogate)")
            return
        rid, self.next_rid = self.next_rid, self.next_rid + 1
        self.conn.execute(
            "INSERT OR REPLACE INTO advisories (rid, dedup, origin, source, id, withdrawn, "
            "data) VALUES (?, ?, ?, ?, ?, ?, ?)", (rid, _dedup_key(adv, data), self.staging,
                                                   adv.source, adv.id, int(bool(adv.withdrawn)),
                                                   data))
        packages = {(a.ecosystem, a.name) for a in adv.affected}
        self.conn.executemany("INSERT OR IGNORE INTO affected VALUES (?, ?, ?, ?)",
                              ((eco, name, rid, adv.id) for eco, name in packages))
        self.conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?, ?)",
                              ((alias, rid) for alias in adv.aliases))


def _has_source(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sources WHERE name = ?", (name,)).fetchone() is not None


def _promote(conn: sqlite3.Connection, staging: str, origin: str) -> None:
    """The staged rows become ``origin``'s data, replacing what it had before."""
    for table in ("advisories", "nvd_cvss"):
        conn.execute(f"DELETE FROM {table} WHERE origin = ?", (origin,))
        conn.execute(f"UPDATE {table} SET origin = ? WHERE origin = ?", (origin, staging))
    conn.execute("DELETE FROM affected WHERE rid NOT IN (SELECT rid FROM advisories)")
    conn.execute("DELETE FROM aliases WHERE rid NOT IN (SELECT rid FROM advisories)")


def _record_source(conn: sqlite3.Connection, item: ImportInput, report: SourceReport) -> None:
    stats = report.stats
    conn.execute(
        "INSERT OR REPLACE INTO sources (name, kind, url, etag, last_modified, sha256, "
        "imported_at, records, skipped, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (report.name, ",".join(report.kinds), item.url or str(item.path), item.etag,
         item.last_modified, item.sha256, datetime.now(UTC).isoformat(timespec="seconds"),
         stats.total, stats.skipped, json.dumps(stats.warnings[:50])))
