"""IoC matches joined to the timeline: for each indicator that hit, which images carry it,
which workloads run those images (the incident's inventory), and when it was first seen
(the earliest ingested event naming one of those image digests, or the earliest log record
the indicator matched).

The fleet comes from the incident folder's ``findings.json`` (``images[].name``, ``.digest``,
``.workloads``) when ``forensics ioc --case`` points at one, or from respond's own results.
A missing or unreadable ``findings.json`` leaves workloads empty with a warning: never a
guessed workload.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from hullguard.forensics.ioc import IocMatch

FINDINGS_FILE = "findings.json"
MAX_FINDINGS_BYTES = 256 << 20  # the incident's own file, but a case folder is user input


@dataclass(frozen=True)
class FleetImage:
    name: str
    digest: str = ""
    workloads: tuple[str, ...] = ()  # namespace/Kind/name


@dataclass
class IndicatorHit:
    """One indicator that matched, joined to the fleet and the timeline."""

    indicator: str
    images: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    workloads: list[str] = field(default_factory=list)
    log_records: int = 0  # ingested log records it matched
    first_seen: datetime.datetime | None = None
    first_seen_by: str = ""  # what the first sighting was: "source action at file:line"


def read_fleet(case: Path, warnings: list[str]) -> dict[str, FleetImage]:
    """The images of the incident folder's findings.json, by name; {} when there is none."""
    path = case / FINDINGS_FILE
    if not path.is_file():
        return {}
    from hullguard.errors import HullguardError
    from hullguard.fsutil import read_bounded

    try:
        doc = json.loads(read_bounded(path, MAX_FINDINGS_BYTES))
        return {image.name: image for image in _fleet_images(doc)}
    except (HullguardError, ValueError, TypeError, KeyError) as error:
        warnings.append(f"{path}: not read, workloads not joined ({error})")
        return {}


def _fleet_images(doc: Any) -> Iterable[FleetImage]:
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise ValueError("no list of images")
    for item in doc["images"]:
        name, digest = item["name"], item.get("digest") or ""
        workloads = item.get("workloads") or []
        if not isinstance(name, str) or not isinstance(digest, str) or not isinstance(
                workloads, list) or not all(isinstance(w, str) for w in workloads):
            raise ValueError(f"image entry of the wrong shape: {str(item)[:80]}")
        yield FleetImage(name, digest, tuple(workloads))


def join(matches: Iterable[IocMatch], image_digests: Mapping[str, str],
         fleet: Mapping[str, FleetImage], con: duckdb.DuckDBPyConnection | None
         ) -> list[IndicatorHit]:
    """One IndicatorHit per indicator, in the order they first matched. ``image_digests``:
    the manifest digest of each scanned target (the target as named by the matches)."""
    hits: dict[str, IndicatorHit] = {}
    by_digest = {image.digest: image for image in fleet.values() if image.digest}
    for match in matches:
        hit = hits.setdefault(match.indicator, IndicatorHit(match.indicator))
        if match.state == "log":
            hit.log_records += 1
            _seen(hit, match.time, f"{match.detail} ({match.path})")
            continue
        digest = image_digests.get(match.target, "")
        known = fleet.get(match.target) or by_digest.get(digest)
        _add(hit.images, match.target)
        _add(hit.digests, digest or (known.digest if known else ""))
        for workload in known.workloads if known else ():
            _add(hit.workloads, workload)
    if con is not None:
        for hit in hits.values():
            _first_event(con, hit)
    return list(hits.values())


def _add(items: list[str], value: str) -> None:
    if value and value not in items:
        items.append(value)


def _seen(hit: IndicatorHit, when: datetime.datetime | None, by: str) -> None:
    if when is not None and (hit.first_seen is None or when < hit.first_seen):
        hit.first_seen, hit.first_seen_by = when, by


def _first_event(con: duckdb.DuckDBPyConnection, hit: IndicatorHit) -> None:
    """The earliest ingested event naming one of the hit images' digests."""
    if not hit.digests:
        return
    marks = ", ".join("?" for _ in hit.digests)
    row = con.execute(
        "SELECT time, source, action, file, line FROM events WHERE time IS NOT NULL AND "
        f"digest IN ({marks}) ORDER BY time, file, line LIMIT 1", hit.digests).fetchone()
    if row:
        time, source, action, file, line = row
        _seen(hit, time, f"{source} {action} of the image ({file}:{line})")


def fleet_from_results(names_digests: Iterable[tuple[str, str]],
                       workloads: Mapping[str, Iterable[str]]) -> dict[str, FleetImage]:
    """The fleet as respond knows it (before findings.json is written)."""
    return {name: FleetImage(name, digest, tuple(sorted(workloads.get(name, ()))))
            for name, digest in names_digests}
