"""The questions a responder asks of the ``events`` table.

* :func:`pulls_of`: who pulled an image or digest, first/last, counts by actor, client address
  and user agent, per digest. A pull by tag is resolved to the digest the tag pointed to at
  that moment (the last push of the tag before it, an ASOF join), so a moved tag shows both.
* :func:`timeline`: the events of an image (or all) in time order.
* :func:`push_anomalies`: bursts in any sliding window, new pushers, re-pointed tags, pushes
  outside usual hours, each with the events behind it.
* :func:`run_sql`: one read-only SELECT.

A request logged twice (the registry's JSON log and its notification) counts once: events are
deduplicated by the registry's request id, preferring the record that carries a digest.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hullguard.errors import InputError
from hullguard.forensics.db import rows
from hullguard.forensics.sources.base import split_image

if TYPE_CHECKING:
    import duckdb

MAX_EVIDENCE = 100  # events listed per anomaly (the count says how many there are)
EVIDENCE_COLUMNS = ("time", "source", "action", "actor", "client_addr", "user_agent",
                    "registry", "repository", "tag", "digest", "status", "file", "line")
_EVIDENCE = ", ".join(EVIDENCE_COLUMNS)

# One row per request: the registry log and its notification describe the same request.
_DEDUP = """
SELECT * FROM events WHERE action = ? AND coalesce(ok, true)
QUALIFY row_number() OVER (PARTITION BY coalesce(nullif(request_id, ''), id)
                           ORDER BY digest = '', source) = 1
"""


@dataclass(frozen=True)
class ImageFilter:
    """What an IMAGE|DIGEST argument selects: repository names to match (``nginx`` also
    matches ``library/nginx``), a registry, a tag, a digest."""

    repositories: tuple[str, ...] = ()
    registry: str = ""
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str) -> ImageFilter:
        text = text.strip()
        if not text:
            raise InputError("empty image or digest")
        if text.startswith(("sha256:", "sha512:")):
            return cls(digest=text)
        registry, repository, tag, digest = split_image(text)
        if not repository:
            raise InputError("not an image reference or digest", where=text)
        names = [repository]
        if "/" not in repository:
            names.append("library/" + repository)
        if registry == "docker.io":
            registry = ""  # Docker Hub records do not all name it
        return cls(tuple(names), registry, tag, digest)

    def where(self, alias: str = "", with_digest: bool = True) -> tuple[str, list[Any]]:
        """A SQL condition (and its parameters) selecting this image's events."""
        a = f"{alias}." if alias else ""
        parts, params = [], []
        if self.repositories:
            parts.append(f"{a}repository IN ({', '.join('?' for _ in self.repositories)})")
            params += list(self.repositories)
        if self.registry:
            parts.append(f"({a}registry = ? OR {a}registry = '')")
            params.append(self.registry)
        if self.digest and with_digest:
            parts.append(f"{a}digest = ?")
            params.append(self.digest)
        return " AND ".join(parts) or "true", params


@dataclass
class PullGroup:
    """Pulls of one digest ("" when neither the log nor a push said which)."""

    digest: str
    first: datetime.datetime
    last: datetime.datetime
    count: int
    by_actor: list[dict[str, Any]] = field(default_factory=list)
    by_client: list[dict[str, Any]] = field(default_factory=list)
    by_user_agent: list[dict[str, Any]] = field(default_factory=list)


def pulls_of(con: duckdb.DuckDBPyConnection, target: str) -> list[PullGroup]:
    image = ImageFilter.parse(target)
    where, params = image.where("p", with_digest=False)  # the digest is matched once resolved
    tag_clause, tag_params = "", []
    if image.tag:
        tag_clause = "AND (p.tag = ? OR (p.tag = '' AND p.digest IN (SELECT digest FROM " \
                     "pushes WHERE tag = ?)) OR s.tag = ?)"
        tag_params = [image.tag, image.tag, image.tag]
    sql = f"""
    WITH pushes AS (SELECT repository, tag, digest, time FROM ({_DEDUP})
                    WHERE tag <> '' AND digest <> ''),
    pulls AS ({_DEDUP}),
    resolved AS (
      SELECT p.*, coalesce(nullif(p.digest, ''), s.digest, '') AS resolved
      FROM pulls p ASOF LEFT JOIN pushes s
        ON p.repository = s.repository AND p.tag = s.tag AND p.time >= s.time
      WHERE {where} {tag_clause})
    SELECT resolved AS digest, actor, client_addr, user_agent,
           GROUPING(actor, client_addr, user_agent) AS level,
           min(time) AS first, max(time) AS last, sum(count)::BIGINT AS count
    FROM resolved WHERE ? = '' OR resolved = ?
    GROUP BY GROUPING SETS ((resolved), (resolved, actor), (resolved, client_addr),
                            (resolved, user_agent))
    ORDER BY digest, level DESC, count DESC"""
    digest = [image.digest, image.digest]
    return _groups(rows(con, sql, ["push", "pull", *params, *tag_params, *digest]))


def _groups(found: list[dict[str, Any]]) -> list[PullGroup]:
    groups: dict[str, PullGroup] = {}
    for row in found:
        digest = row["digest"]
        if row["level"] == 7:  # totals per digest (actor, client and agent all rolled up)
            groups[digest] = PullGroup(digest, row["first"], row["last"], row["count"])
            continue
        group = groups[digest]
        for key, bucket in (("actor", group.by_actor), ("client_addr", group.by_client),
                            ("user_agent", group.by_user_agent)):
            others = {"actor", "client_addr", "user_agent"} - {key}
            if all(row[other] is None for other in others) and row[key] is not None:
                bucket.append({"value": row[key], "count": row["count"],
                               "first": row["first"], "last": row["last"]})
    return sorted(groups.values(), key=lambda g: g.first)


def timeline(con: duckdb.DuckDBPyConnection, image: str | None = None,
             since: datetime.datetime | None = None, until: datetime.datetime | None = None,
             limit: int = 1000) -> list[dict[str, Any]]:
    where, params = ImageFilter.parse(image).where() if image else ("true", [])
    if since:
        where += " AND time >= ?"
        params.append(since)
    if until:
        where += " AND time < ?"
        params.append(until)
    return rows(con, f"SELECT {_EVIDENCE}, detail FROM events WHERE {where} "
                     f"ORDER BY time, file, line LIMIT {int(limit)}", params)


@dataclass
class Anomaly:
    kind: str  # burst, new-pusher, tag-moved, off-hours
    subject: str  # what it is about: actor=NAME, repository=NAME, repo:tag
    detail: str
    first: datetime.datetime
    last: datetime.datetime
    count: int
    events: list[dict[str, Any]] = field(default_factory=list)


def push_anomalies(con: duckdb.DuckDBPyConnection, threshold: int = 10,
                   window: datetime.timedelta = datetime.timedelta(hours=1),
                   usual_hours: tuple[int, int] = (7, 19)) -> list[Anomaly]:
    """Everything suspicious about manifest pushes (blob uploads are not counted)."""
    found = _bursts(con, threshold, window)
    found += _new_pushers(con)
    found += _moved_tags(con)
    found += _off_hours(con, usual_hours)
    return sorted(found, key=lambda a: (a.first, a.kind))


_PUSHES = f"WITH p AS ({_DEDUP})"


def _bursts(con: duckdb.DuckDBPyConnection, threshold: int,
            window: datetime.timedelta) -> list[Anomaly]:
    """The busiest window of each actor and repository, where it exceeds ``threshold``:
    a window starts at every push (sliding), not at clock hours."""
    span = window - datetime.timedelta(microseconds=1)  # [start, start + window)
    sql = f"""{_PUSHES},
    keyed AS (SELECT 'actor' AS dim, actor AS key, time FROM p WHERE actor <> ''
              UNION ALL SELECT 'repository', repository, time FROM p WHERE repository <> ''),
    w AS (SELECT dim, key, time, count(*) OVER (PARTITION BY dim, key ORDER BY time
          RANGE BETWEEN CURRENT ROW AND ? FOLLOWING) AS n FROM keyed)
    SELECT dim, key, arg_max(time, n) AS start, max(n) AS n FROM w
    GROUP BY dim, key HAVING max(n) > ? ORDER BY start"""
    out = []
    for row in rows(con, sql, ["push", span, threshold]):
        start, end = row["start"], row["start"] + span
        events = _evidence(con, f"{row['dim']} = ? AND time BETWEEN ? AND ?",
                           [row["key"], start, end])
        out.append(Anomaly("burst", f"{row['dim']}={row['key']}",
                           f"{row['n']} pushes within {window} (threshold {threshold})",
                           start, events[-1]["time"] if events else start, row["n"], events))
    return out


def _new_pushers(con: duckdb.DuckDBPyConnection) -> list[Anomaly]:
    """An actor or client address whose first push to a repository comes after someone else
    had already pushed there."""
    sql = f"""{_PUSHES},
    firsts AS (SELECT repository, 'actor' AS dim, actor AS key, min(time) AS first
               FROM p WHERE actor <> '' AND repository <> '' GROUP BY ALL
               UNION ALL SELECT repository, 'client_addr', client_addr, min(time)
               FROM p WHERE client_addr <> '' AND repository <> '' GROUP BY ALL),
    starts AS (SELECT repository, min(time) AS first FROM p GROUP BY ALL)
    SELECT f.* FROM firsts f JOIN starts s USING (repository) WHERE f.first > s.first
    ORDER BY f.first"""
    out = []
    for row in rows(con, sql, ["push"]):
        events = _evidence(con, f"repository = ? AND {row['dim']} = ? AND time = ?",
                           [row["repository"], row["key"], row["first"]])
        out.append(Anomaly("new-pusher", f"repository={row['repository']}",
                           f"first push by {row['dim']} {row['key']}", row["first"],
                           row["first"], 1, events))
    return out


def _moved_tags(con: duckdb.DuckDBPyConnection) -> list[Anomaly]:
    sql = f"""{_PUSHES}
    SELECT repository, tag, digest, time,
           lag(digest) OVER (PARTITION BY repository, tag ORDER BY time) AS previous,
           lag(time) OVER (PARTITION BY repository, tag ORDER BY time) AS previous_time
    FROM p WHERE tag <> '' AND digest <> ''
    QUALIFY previous IS NOT NULL AND previous <> digest ORDER BY time"""
    out = []
    for row in rows(con, sql, ["push"]):
        events = _evidence(con, "repository = ? AND tag = ? AND time IN (?, ?)",
                           [row["repository"], row["tag"], row["previous_time"], row["time"]])
        out.append(Anomaly("tag-moved", f"{row['repository']}:{row['tag']}",
                           f"{row['previous']} -> {row['digest']}", row["previous_time"],
                           row["time"], 2, events))
    return out


def _off_hours(con: duckdb.DuckDBPyConnection, usual: tuple[int, int]) -> list[Anomaly]:
    start, end = usual
    sql = f"""{_PUSHES}
    SELECT repository, actor, min(time) AS first, max(time) AS last, count(*) AS n FROM p
    WHERE NOT (hour(time) >= ? AND hour(time) < ?) GROUP BY ALL ORDER BY first"""
    out = []
    for row in rows(con, sql, ["push", start, end]):
        events = _evidence(con, "repository = ? AND actor = ? AND NOT (hour(time) >= ? AND "
                           "hour(time) < ?)", [row["repository"], row["actor"], start, end])
        who = f" by {row['actor']}" if row["actor"] else ""
        out.append(Anomaly("off-hours", f"repository={row['repository']}",
                           f"{row['n']} pushes{who} outside {start:02d}:00-{end:02d}:00 UTC",
                           row["first"], row["last"], row["n"], events))
    return out


def _evidence(con: duckdb.DuckDBPyConnection, where: str,
              params: list[Any]) -> list[dict[str, Any]]:
    return rows(con, f"{_PUSHES} SELECT {_EVIDENCE} FROM p WHERE {where} ORDER BY time "
                     f"LIMIT {MAX_EVIDENCE}", ["push", *params])


def run_sql(con: duckdb.DuckDBPyConnection, sql: str,
            limit: int = 10_000) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One SELECT (or WITH ... SELECT) on the read-only database: column names and rows."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise InputError(f"not valid SQL: {error}", where="sql") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise InputError("only a single SELECT (or WITH ... SELECT) is allowed", where="sql",
                         hint="the case database is evidence: it is opened read-only")
    try:
        cursor = con.execute(sql)
        names = [column[0] for column in cursor.description or []]
        return names, cursor.fetchmany(limit)
    except duckdb.Error as error:
        raise InputError(f"query failed: {error}", where="sql") from None
