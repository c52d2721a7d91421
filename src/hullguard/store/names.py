"""Names over time: which digest each image name pointed at, first and last seen.

A name (``registry.example/app:1``) is not an image: rebuilding and pushing the tag again
moves it to a new digest. The store keeps every (name, digest) pair it saw with the first
and the last time, so a lookup by name answers with the newest digest and can list the
builds the name pointed at before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, case, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hullguard.graph.model import NameSighting
from hullguard.store.base import dialect_insert
from hullguard.store.models import NameRecord

names_table = cast(Table, NameRecord.__table__)


def record_names(conn: Connection | Session, names: Iterable[str], digest: str,
                 seen: datetime) -> None:
    """Upsert (name, digest) sightings at ``seen``; the stored window only ever widens, so
    an old scan indexed late never makes an older build look newer."""
    record_name_rows(conn, [{"name": n, "digest": digest, "first_seen": seen,
                             "last_seen": seen} for n in dict.fromkeys(names) if n])


def record_name_rows(conn: Connection | Session, rows: Sequence[dict[str, Any]]) -> None:
    """:func:`record_names` for many sightings at once (name, digest, first/last seen)."""
    if not rows:
        return
    statement = dialect_insert(conn, names_table)
    new, old = statement.excluded, names_table.c
    statement = statement.on_conflict_do_update(
        index_elements=["name", "digest"],
        set_={"first_seen": case((new.first_seen < old.first_seen, new.first_seen),
                                 else_=old.first_seen),
              "last_seen": case((new.last_seen > old.last_seen, new.last_seen),
                                else_=old.last_seen)})
    conn.execute(statement, list(rows))


def utc(value: datetime) -> datetime:
    """SQLite returns the stored UTC times without a zone."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sighting(row: Any) -> NameSighting:
    return NameSighting(row.name, row.digest, utc(row.first_seen), utc(row.last_seen))


def history(conn: Connection, names: Sequence[str]) -> list[NameSighting]:
    """Every digest these names pointed at, newest first."""
    if not names:
        return []
    table = names_table
    rows = conn.execute(select(table.c.name, table.c.digest, table.c.first_seen,
                               table.c.last_seen)
                        .where(table.c.name.in_(list(names)))
                        .order_by(table.c.last_seen.desc(), table.c.digest))
    return [_sighting(row) for row in rows]


def newest_first(conn: Connection, name: str, digests: Iterable[str]) -> list[str]:
    """``digests`` (all known under ``name``) ordered newest sighting first; those never
    recorded with a time (an index written by an older version) last, by digest."""
    digests = sorted(set(digests))
    seen = {s.digest: s.last_seen for s in history(conn, [name])}
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(digests, key=lambda d: seen.get(d, oldest), reverse=True)
