"""The advisory database schema and its versioned migrations (one SQLite file).

``MIGRATIONS[n]`` turns schema version n into n+1; opening a database applies what is missing
and refuses a file written by a newer hullguard.
"""

from __future__ import annotations

import sqlite3

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


def schema_version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:
        return 0  # a fresh file: no meta table yet
    return int(row[0]) if row else 0


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
