"""The local advisory database: read side (lookups by ecosystem and name, enrichment).

Records are compact JSON (see :mod:`hullguard.vuln.codec`) indexed by (ecosystem, name); the
file is only ever replaced whole by an import (see :mod:`hullguard.vuln.dbwrite`), so readers
never see a half-written state. Reading never writes: the file is opened with sqlite's
``mode=ro``, an older schema is read compatibly (never migrated here, so any number of readers
can open it at once), and every query runs under a time limit after the file's objects were
checked (see :mod:`hullguard.vuln.schema`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hullguard.errors import DatabaseError
from hullguard.model import Advisory, CvssScore, Epss, Kev
from hullguard.vuln.codec import advisory_from_json, cvss_from
from hullguard.vuln.importers.osv import normalize_name
from hullguard.vuln.schema import SCHEMA_VERSION, check_objects, schema_version, time_limit
from hullguard.vuln.severity import Rated, ratings_of

ENV_DB = "HULLGUARD_DB"
DB_FILE = "vulndb.sqlite"


def default_db_path() -> Path:
    """``$HULLGUARD_DB``, else ``vulndb.sqlite`` in the user's data directory."""
    if os.environ.get(ENV_DB):
        return Path(os.environ[ENV_DB])
    import platformdirs

    return Path(platformdirs.user_data_path("hullguard")) / DB_FILE


@dataclass(frozen=True)
class Enrichment:
    """Priority data for one vulnerability id (CVSS from NVD, EPSS, KEV, and the severity
    statements of every record carrying the id)."""

    cvss: tuple[CvssScore, ...] = ()
    epss: Epss | None = None
    kev: Kev | None = None
    ratings: tuple[Rated, ...] = ()  # of records with this id or alias (vuln.severity)


@dataclass(frozen=True)
class RecordPrint:
    """One stored advisory record, as much as a comparison of two databases needs."""

    key: str
    vuln_id: str
    withdrawn: bool
    content: str
    modified: str
    packages: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SourceInfo:
    name: str
    kind: str
    url: str
    etag: str
    last_modified: str
    sha256: str
    imported_at: str
    records: int
    skipped: int
    warnings: tuple[str, ...] = ()
    checked_at: str = ""

    def age_days(self, now: datetime | None = None) -> float:
        """Days since the data was last imported or confirmed current upstream."""
        latest = max(self.imported_at, self.checked_at)  # ISO 8601 UTC strings sort by time
        return ((now or datetime.now(UTC)) - datetime.fromisoformat(latest)).total_seconds() / 86400


class VulnDB:
    """A read-only view of one database file. Lookups are cached for the object's lifetime
    (a rescan of many SBOMs asks for the same packages again and again)."""

    def __init__(self, conn: sqlite3.Connection, path: Path,
                 version: int = SCHEMA_VERSION) -> None:
        self._conn = conn
        self.path = path
        self.schema_version = version
        self._by_package: dict[tuple[str, str], list[Advisory]] = {}
        self._by_rid: dict[int, Advisory] = {}
        self._feeds: dict[str, list[str]] = {}

    @classmethod
    def open(cls, path: Path | str | None = None) -> VulnDB:
        path = Path(path) if path is not None else default_db_path()
        if not path.is_file():
            raise DatabaseError("vulnerability database not found", where=str(path),
                                hint="run `hullguard db update` or `hullguard db import PATH`")
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               check_same_thread=False)
        try:
            version = _checked_version(conn, path)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, version)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _decode(self, rows: Iterable[Any]) -> list[Advisory]:
        out = []
        for rid, data in rows:
            advisory = self._by_rid.get(rid)
            if advisory is None:
                advisory = self._by_rid[rid] = advisory_from_json(data)
            out.append(advisory)
        return out

    def advisories_for(self, ecosystem: str, name: str) -> list[Advisory]:
        """Every record (withdrawn ones included) with an affected entry for this package."""
        key = (ecosystem, normalize_name(ecosystem, name))
        cached = self._by_package.get(key)
        if cached is None:
            rows = self._query(
                "SELECT a.rid, a.data FROM affected f JOIN advisories a ON a.rid = f.rid "
                "WHERE f.ecosystem = ? AND f.name = ? ORDER BY a.id", key)
            cached = self._by_package[key] = self._decode(rows)
        return cached

    def advisories(self, vuln_id: str) -> list[Advisory]:
        """Records whose id or alias is ``vuln_id``."""
        rows = self._query(
            "SELECT rid, data FROM advisories WHERE id = ? UNION "
            "SELECT a.rid, a.data FROM aliases s JOIN advisories a ON a.rid = s.rid "
            "WHERE s.alias = ?", (vuln_id, vuln_id))
        return self._decode(rows)

    def enrich(self, ids: Iterable[str]) -> dict[str, Enrichment]:
        """NVD CVSS, EPSS and KEV data for those of ``ids`` that have any."""
        wanted = sorted(set(ids))
        cvss: dict[str, tuple[CvssScore, ...]] = {}
        epss: dict[str, Epss] = {}
        kev: dict[str, Kev] = {}
        for chunk in _chunks(wanted, 500):
            marks = ",".join("?" * len(chunk))
            for cve, data in self._query(f"SELECT cve, data FROM nvd_cvss WHERE cve IN ({marks})",
                                         chunk):
                cvss[cve] = tuple(cvss_from(item) for item in json.loads(data))
            for cve, score, pct, date in self._query(
                    f"SELECT cve, score, percentile, date FROM epss WHERE cve IN ({marks})", chunk):
                epss[cve] = Epss(score, pct, date)
            for cve, added, due, ransom in self._query(
                    f"SELECT cve, date_added, due_date, ransomware FROM kev WHERE cve IN ({marks})",
                    chunk):
                kev[cve] = Kev(added, due, bool(ransom))
        ratings = self._ratings(wanted)
        return {i: Enrichment(cvss.get(i, ()), epss.get(i), kev.get(i), tuple(ratings.get(i, ())))
                for i in wanted if i in cvss or i in epss or i in kev or i in ratings}

    def _ratings(self, wanted: list[str]) -> dict[str, list[Rated]]:
        """id -> severity statements of the records whose id or alias it is."""
        out: dict[str, list[Rated]] = {}
        ids = set(wanted)
        for record in self._records_with(wanted):
            found = ratings_of(record)
            for i in {record.id, *record.aliases} & ids if found else ():
                out.setdefault(i, []).extend(found)
        return out

    def _records_with(self, wanted: list[str]) -> list[Advisory]:
        """Records whose id or alias is in ``wanted``; a scan has decoded most of them
        already, so only the row ids are read first and the rest decoded."""
        rids: set[int] = set()
        for chunk in _chunks(wanted, 400):
            marks = ",".join("?" * len(chunk))
            rids.update(rid for (rid,) in self._query(
                f"SELECT rid FROM advisories WHERE id IN ({marks}) UNION "
                f"SELECT rid FROM aliases WHERE alias IN ({marks})", [*chunk, *chunk]))
        missing = sorted(rid for rid in rids if rid not in self._by_rid)
        for chunk_ids in _chunks(missing, 500):
            marks = ",".join("?" * len(chunk_ids))
            self._decode(self._query(f"SELECT rid, data FROM advisories WHERE rid IN ({marks})",
                                     chunk_ids))
        return [self._by_rid[rid] for rid in sorted(rids) if rid in self._by_rid]

    def fingerprints(self) -> Iterator[RecordPrint]:
        """Every stored record as the monitor compares databases: its dedup key, id, whether it
        is withdrawn, a sha256 of its stored content, its ``modified`` time and the
        (ecosystem, name) pairs it names. One pass over the tables; nothing is decoded but
        the modified field."""
        named: dict[int, list[tuple[str, str]]] = {}
        for rid, ecosystem, name in self._query("SELECT rid, ecosystem, name FROM affected", ()):
            named.setdefault(rid, []).append((ecosystem, name))
        rows = self._query("SELECT rid, dedup, id, withdrawn, data FROM advisories", ())
        for rid, dedup, vuln_id, withdrawn, data in rows:
            text = data.encode() if isinstance(data, str) else bytes(data)
            yield RecordPrint(str(dedup), str(vuln_id), bool(withdrawn),
                              hashlib.sha256(text).hexdigest(), _modified(text),
                              tuple(sorted(set(named.get(rid, ())))))

    def kev_ids(self) -> dict[str, str]:
        """CVE -> date added, for every KEV entry in the database."""
        return {str(cve): str(added) for cve, added in
                self._query("SELECT cve, date_added FROM kev", ())}

    def feeds_for(self, ecosystem: str) -> list[str]:
        """The sources (feeds) holding records for ``ecosystem`` (e.g. ``Alpine:v3.20``); empty
        when the database has no data for it (what coverage reports)."""
        if ecosystem not in self._feeds:
            rows = self._query(
                "SELECT DISTINCT a.origin FROM advisories a WHERE a.rid IN "
                "(SELECT f.rid FROM affected f WHERE f.ecosystem = ?) ORDER BY a.origin",
                (ecosystem,))
            self._feeds[ecosystem] = [str(row[0]) for row in rows]
        return self._feeds[ecosystem]

    def sources(self) -> list[SourceInfo]:
        checked = "checked_at" if self.schema_version >= 2 else "''"  # added in schema 2
        rows = self._query("SELECT name, kind, url, etag, last_modified, sha256, imported_at, "
                           f"records, skipped, warnings, {checked} FROM sources ORDER BY name",
                           ())
        return [_source_info(row) for row in rows]

    def source(self, name: str) -> SourceInfo | None:
        return next((s for s in self.sources() if s.name == name), None)

    def counts(self) -> dict[str, int]:
        tables = ("advisories", "affected", "nvd_cvss", "epss", "kev")
        return {t: int(self._query(f"SELECT count(*) FROM {t}", ())[0][0]) for t in tables}

    def oldest_age_days(self, now: datetime | None = None) -> float | None:
        """Age of the stalest source, or None for an empty database."""
        ages = [source.age_days(now) for source in self.sources()]
        return max(ages) if ages else None

    def _query(self, sql: str, params: Iterable[object]) -> list[Any]:
        try:
            with time_limit(self._conn, str(self.path)):
                return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(f"database query failed: {error}", where=str(self.path)) from None


def _checked_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, after checking it is one of ours that we can read."""
    try:
        check_objects(conn, str(path))
        with time_limit(conn, str(path)):
            version = schema_version(conn)
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"not a readable database: {error}", where=str(path)) from None
    if version > SCHEMA_VERSION or version < 1:
        raise DatabaseError(f"database schema {version}, this hullguard reads 1 to "
                            f"{SCHEMA_VERSION}", where=str(path),
                            hint="upgrade hullguard, or rebuild it with `hullguard db update` "
                                 "or `hullguard db import`")
    return version


def _source_info(row: Any) -> SourceInfo:
    (name, kind, url, etag, modified, sha256, imported, records, skipped, warnings,
     checked) = row
    return SourceInfo(name, kind, url, etag, modified, sha256, imported, records, skipped,
                      tuple(json.loads(warnings)), checked)


def _modified(data: bytes) -> str:
    try:
        value = json.loads(data).get("mo", "")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return str(value)[:40]


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
