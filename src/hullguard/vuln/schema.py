"""The advisory database schema and its versioned migrations (one SQLite file).

``MIGRATIONS[n]`` turns schema version n into n+1. Only writers migrate (an import, ``db
update``, ``db migrate``, under the write lock); readers read older schemas compatibly and
refuse a file written by a newer hullguard.

A database file is input like any other: before we query one, :func:`check_objects` makes sure
it holds only our tables and indexes (a planted view or trigger would run inside our queries,
e.g. an endless recursive view named ``meta``), and :func:`time_limit` interrupts any query
that runs longer than ``QUERY_SECONDS``.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from hullguard.errors import DatabaseError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # One row per stored record; ``dedup`` makes re-imports replace instead of duplicate.
        """CREATE TABLE advisories (rid INTEGER PRIMARY KEY, dedup TEXT NOT NULL UNIQUE,
            origin TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL,
            withdrawn INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL)""",
        "CREATE INDEX advisories_id ON advisories (id)",
        "CREATE INDEX advisories_origin ON advisories (origin)",
        # The lookup index: (ecosystem, name) -> record, with the advisory id for listings.
        """CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL,
            rid INTEGER NOT NULL, id TEXT NOT NULL,
            PRIMARY KEY (ecosystem, name, rid)) WITHOUT ROWID""",
        "CREATE INDEX affected_rid ON affected (rid)",
        """CREATE TABLE aliases (alias TEXT NOT NULL, rid INTEGER NOT NULL,
            PRIMARY KEY (alias, rid)) WITHOUT ROWID""",
        "CREATE INDEX aliases_rid ON aliases (rid)",
        """CREATE TABLE nvd_cvss (cve TEXT PRIMARY KEY, origin TEXT NOT NULL,
            data TEXT NOT NULL)""",
        """CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL,
            percentile REAL NOT NULL, date TEXT NOT NULL)""",
        """CREATE TABLE kev (cve TEXT PRIMARY KEY, date_added TEXT NOT NULL,
            due_date TEXT NOT NULL, ransomware INTEGER NOT NULL)""",
        """CREATE TABLE sources (name TEXT PRIMARY KEY, kind TEXT NOT NULL, url TEXT NOT NULL,
            etag TEXT NOT NULL, last_modified TEXT NOT NULL, sha256 TEXT NOT NULL,
            imported_at TEXT NOT NULL, records INTEGER NOT NULL, skipped INTEGER NOT NULL,
            warnings TEXT NOT NULL)""",
    ),
    # 2: when `db update` last confirmed a source current (HTTP 304) without re-importing it.
    ("ALTER TABLE sources ADD COLUMN checked_at TEXT NOT NULL DEFAULT ''",),
)
SCHEMA_VERSION = len(MIGRATIONS)


QUERY_SECONDS = 10.0  # one query on a sane database takes milliseconds
_PROGRESS_STEPS = 10_000  # sqlite VM instructions between time checks
_OBJECT_RE = re.compile(r"CREATE (TABLE|INDEX) (\w+)")
EXPECTED_OBJECTS = frozenset(
    (kind.lower(), name) for statements in MIGRATIONS for statement in statements
    for kind, name in _OBJECT_RE.findall(statement))


def check_objects(conn: sqlite3.Connection, where: str) -> None:
    """Refuse a file holding anything but our own tables and indexes (views, triggers, ...)."""
    with time_limit(conn, where):
        rows = conn.execute("SELECT type, name FROM sqlite_master").fetchall()
    for kind, name in rows:
        if (kind, name) not in EXPECTED_OBJECTS and not (
                kind == "index" and str(name).startswith("sqlite_autoindex_")):
            raise DatabaseError(f"not a hullguard advisory database: unexpected {kind} "
                                f"{str(name)[:60]!r}", where=where,
                                hint="move it away and rebuild it with `hullguard db update` "
                                     "or `hullguard db import`")


@contextmanager
def time_limit(conn: sqlite3.Connection, where: str,
               seconds: float | None = None) -> Iterator[None]:
    """Interrupt the block's queries after ``seconds`` (default QUERY_SECONDS)."""
    deadline = time.monotonic() + (QUERY_SECONDS if seconds is None else seconds)
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    try:
        yield
    except sqlite3.OperationalError as error:
        if "interrupt" not in str(error):
            raise
        raise DatabaseError(f"database query took longer than {QUERY_SECONDS:g} s and was "
                            "stopped (corrupt or hostile file?)", where=where) from None
    finally:
        conn.set_progress_handler(None, 0)


def schema_version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError as error:
        if "interrupt" in str(error):
            raise
        return 0  # a fresh file: no meta table yet
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        raise DatabaseError(f"schema_version {str(row[0])[:40]!r} is not a number",
                            where="meta") from None


def migrate(conn: sqlite3.Connection, where: str) -> None:
    """Bring ``conn`` up to SCHEMA_VERSION inside one transaction."""
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise DatabaseError(f"database schema {current} is newer than this hullguard "
                            f"understands ({SCHEMA_VERSION})", where=where,
                            hint="upgrade hullguard or rebuild the database with `db import`")
    with conn:
        for statements in MIGRATIONS[current:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                     (str(SCHEMA_VERSION),))
