"""What ``db status`` shows: sources, counts, ages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hullguard.vuln.db import VulnDB
from hullguard.vuln.schema import SCHEMA_VERSION


def status_dict(db: VulnDB, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    return {
        "path": str(db.path),
        "schema": db.schema_version,
        "counts": db.counts(),
        "oldest_age_days": db.oldest_age_days(now),
        "sources": [
            {"name": s.name, "kind": s.kind, "url": s.url, "records": s.records,
             "skipped": s.skipped, "imported_at": s.imported_at, "checked_at": s.checked_at,
             "age_days": round(s.age_days(now), 2), "etag": s.etag, "sha256": s.sha256}
            for s in db.sources()
        ],
    }


def status_table(data: dict[str, Any]) -> str:
    lines = [f"database: {data['path']}", f"  schema: {data['schema']}" + (
        "" if data["schema"] == SCHEMA_VERSION else
        f" (older than {SCHEMA_VERSION}; read compatibly, `hullguard db migrate` upgrades it)")]
    lines += [f"  {name}: {count}" for name, count in data["counts"].items()]
    # Source names are often paths (`db import FILE`): shown whole, never cut, so the
    # column is as wide as the longest name.
    width = max([len("SOURCE"), *(len(s["name"]) for s in data["sources"])])
    lines.append(f"{'SOURCE':{width}} {'KIND':14} {'RECORDS':>8} {'SKIPPED':>8} {'AGE':>8}")
    for source in data["sources"]:
        lines.append(f"{source['name']:{width}} {source['kind'][:14]:14} "
                     f"{source['records']:>8} {source['skipped']:>8} "
                     f"{source['age_days']:>7.1f}d")
    return "\n".join(lines)
