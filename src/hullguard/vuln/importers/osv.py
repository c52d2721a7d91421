"""OSV records (https://ossf.github.io/osv-schema/): JSON or YAML, one record or a list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hullguard.model import Advisory, Affected, CvssScore, Event, Range, Severity
from hullguard.model.package import pep503_name
from hullguard.vuln.importers.base import ImportStats, Limits, text, valid_id
from hullguard.vuln.importers.cvssutil import score_vector

NAME = "osv"
_EVENT_KEYS = frozenset(("introduced", "fixed", "last_affected", "limit"))
_RANGE_TYPES = frozenset(("ECOSYSTEM", "SEMVER"))  # GIT ranges name commits, not versions


class BadRecord(ValueError):
    """One record is unusable; the importer skips it with this reason."""


def normalize_name(ecosystem: str, name: str) -> str:
    """Package names as stored and looked up (the database key, the matcher's comparison):
    PEP 503 for PyPI (``Jinja2`` -> ``jinja2``, ``zope.interface`` -> ``zope-interface``);
    other ecosystems keep the name (npm scopes such as ``@babel/core`` included)."""
    if ecosystem == "PyPI":
        return pep503_name(name)
    return name


def accepts(doc: Any) -> bool:
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(item, dict) and "id" in item for item in doc[:5])
    return isinstance(doc, dict) and "id" in doc and ("affected" in doc or "modified" in doc)


def parse(doc: Any, where: str, stats: ImportStats) -> Iterator[Advisory]:
    for record in doc if isinstance(doc, list) else [doc]:
        try:
            yield parse_record(record, stats.limits)
        # A field of a type the checks did not foresee ({"type": []} is unhashable, ...) is a
        # bad record like any other: skipped and counted, the rest of the file still loads.
        except (BadRecord, TypeError, ValueError, AttributeError) as error:
            rid = record.get("id") if isinstance(record, dict) else None
            stats.skip(f"{where} ({rid})" if isinstance(rid, str) else where, str(error)[:300])


def _strings(value: Any, what: str, limit: int = 10_000) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRecord(f"{what} is not a list of strings")
    if len(value) > limit:
        raise BadRecord(f"{what} has {len(value)} entries (limit {limit})")
    return tuple(value)


def _version(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise BadRecord(f"bad version {str(value)[:60]!r} in a range event")
    return value


def _event(raw: Any) -> Event:
    if not isinstance(raw, dict) or len(raw) != 1 or not _EVENT_KEYS.issuperset(raw):
        raise BadRecord(f"bad range event {str(raw)[:80]!r}")
    ((key, value),) = raw.items()
    return Event(**{key: _version(value)})


def _range(raw: Any, limits: Limits) -> Range | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        raise BadRecord("range without an events list")
    if raw.get("type") not in _RANGE_TYPES:
        return None
    if len(raw["events"]) > limits.max_events:
        raise BadRecord(f"range with {len(raw['events'])} events (limit {limits.max_events})")
    return Range(raw["type"], tuple(_event(e) for e in raw["events"]))


def _affected(raw: Any, limits: Limits) -> Affected:
    package = raw.get("package") if isinstance(raw, dict) else None
    if not isinstance(package, dict):
        raise BadRecord("affected entry without a package")
    ecosystem, name = package.get("ecosystem"), package.get("name")
    if not isinstance(ecosystem, str) or not isinstance(name, str) or not ecosystem or not name:
        raise BadRecord("affected package without ecosystem and name")
    if len(name) > 512 or len(ecosystem) > 128:
        raise BadRecord("affected package name too long")
    ranges = raw.get("ranges") or []
    if not isinstance(ranges, list) or len(ranges) > 256:
        raise BadRecord("affected ranges is not a list (or absurdly long)")
    parsed = tuple(r for r in (_range(item, limits) for item in ranges) if r is not None)
    versions = _strings(raw.get("versions"), "versions", limits.max_versions)
    return Affected(ecosystem, normalize_name(ecosystem, name), parsed, versions)


def _cvss(raw: Any) -> tuple[CvssScore, ...]:
    if not isinstance(raw, list):
        return ()
    scores = (score_vector(item["score"]) for item in raw
              if isinstance(item, dict) and isinstance(item.get("score"), str))
    return tuple(score for score in scores if score is not None)


def _feed_severity(record: dict[str, Any]) -> Severity:
    extra = record.get("database_specific")
    rating = extra.get("severity") if isinstance(extra, dict) else None
    return Severity.parse(rating) if isinstance(rating, str) else Severity.UNKNOWN


def _references(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    urls = (item.get("url") for item in raw[:100] if isinstance(item, dict))
    return tuple(url for url in urls if isinstance(url, str) and len(url) < 2048)


def parse_record(record: Any, limits: Limits) -> Advisory:
    """One OSV record to an :class:`Advisory`, or :class:`BadRecord`."""
    if not isinstance(record, dict) or not valid_id(record.get("id")):
        raise BadRecord("record without a valid id")
    affected = record.get("affected") or []
    if not isinstance(affected, list) or len(affected) > limits.max_affected:
        raise BadRecord("affected is not a list (or absurdly long)")
    aliases = tuple(a for a in _strings(record.get("aliases"), "aliases", 1000) if valid_id(a))
    return Advisory(
        id=record["id"], source=NAME, aliases=aliases,
        summary=text(record.get("summary"), limits.max_text),
        details=text(record.get("details"), limits.max_text),
        affected=tuple(_affected(item, limits) for item in affected),
        cvss=_cvss(record.get("severity")), severity=_feed_severity(record),
        published=text(record.get("published"), 64), modified=text(record.get("modified"), 64),
        withdrawn=text(record.get("withdrawn"), 64),
        references=_references(record.get("references")),
    )
