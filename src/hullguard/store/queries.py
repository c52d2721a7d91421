"""Read queries of the service API over the store: an image by digest with its names over
time, findings with filters, images with a vulnerability, scan history and coverage.

Findings are those of each image's latest scan. Every query is bounded (``limit``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hullguard.model import Severity
from hullguard.store.models import (
    FindingRecord,
    GraphLinkRecord,
    ImageRecord,
    NameRecord,
    OccurrenceRecord,
    ScanRecord,
)
from hullguard.store.names import utc

MAX_LIMIT = 1000


def _latest() -> Any:
    """A subquery: each image's latest scan id."""
    return (select(func.max(ScanRecord.id).label("scan_id"))
            .group_by(ScanRecord.image_id).subquery())


def _iso(value: datetime | None) -> str | None:
    return utc(value).isoformat() if value is not None else None


def image_by_digest(session: Session, digest: str) -> dict[str, Any] | None:
    """The stored image, its names over time (newest first) and its latest scan's counts."""
    image = session.scalars(select(ImageRecord).where(
        or_(ImageRecord.digest == digest, ImageRecord.key == digest))).first()
    if image is None:
        return None
    names = session.execute(select(NameRecord).where(NameRecord.digest == image.key)
                            .order_by(NameRecord.last_seen.desc(), NameRecord.name)).scalars()
    latest = session.scalars(select(ScanRecord).where(ScanRecord.image_id == image.id)
                             .order_by(ScanRecord.id.desc())).first()
    return {"key": image.key, "digest": image.digest, "reference": image.reference,
            "first_seen": _iso(image.first_seen), "last_seen": _iso(image.last_seen),
            "sbom_digest": image.sbom_digest,
            "names": [{"name": n.name, "first_seen": _iso(n.first_seen),
                       "last_seen": _iso(n.last_seen)} for n in names],
            "latest_scan": _scan(latest, image.key) if latest is not None else None}


def _scan(scan: ScanRecord, image_key: str) -> dict[str, Any]:
    counts = json.loads(scan.counts or "{}")
    return {"id": scan.id, "image": image_key, "kind": scan.kind,
            "created_at": _iso(scan.created_at), "database": scan.database,
            "counts": counts if isinstance(counts, dict) else {}}


@dataclass(frozen=True)
class FindingFilter:
    min_severity: str = ""  # critical, high, medium, low, negligible, unknown ("" = all)
    package: str = ""
    vuln: str = ""  # an id or an alias (CVE-...)
    image: str = ""  # an image key (digest)
    include_suppressed: bool = False


def findings(session: Session, wanted: FindingFilter, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
    """Findings of the latest scans matching ``wanted``, worst first."""
    latest = _latest()
    query = (select(FindingRecord, ImageRecord.key)
             .join(latest, latest.c.scan_id == FindingRecord.scan_id)
             .join(ScanRecord, ScanRecord.id == FindingRecord.scan_id)
             .join(ImageRecord, ImageRecord.id == ScanRecord.image_id))
    if wanted.min_severity:
        query = query.where(FindingRecord.severity >= int(Severity.parse(wanted.min_severity)))
    if wanted.package:
        query = query.where(FindingRecord.package_name == wanted.package)
    if wanted.vuln:
        # aliases are a JSON list of strings: the quoted id inside it, escaped for LIKE
        query = query.where(or_(FindingRecord.vuln_id == wanted.vuln,
                                FindingRecord.aliases.contains(json.dumps(wanted.vuln),
                                                               autoescape=True)))
    if wanted.image:
        query = query.where(ImageRecord.key == wanted.image)
    if not wanted.include_suppressed:
        query = query.where(FindingRecord.suppressed_by == "")
    query = query.order_by(FindingRecord.severity.desc(), FindingRecord.vuln_id,
                           FindingRecord.id).limit(min(limit, MAX_LIMIT)).offset(offset)
    return [_finding(record, key) for record, key in session.execute(query)]


def _finding(record: FindingRecord, image_key: str) -> dict[str, Any]:
    return {"image": image_key, "id": record.vuln_id, "aliases": json.loads(record.aliases),
            "package": record.package_name, "version": record.version, "purl": record.purl,
            "severity": str(Severity(record.severity)),
            "fixed_versions": json.loads(record.fixed_versions),
            "suppressed_by": record.suppressed_by}


def images_with_vuln(session: Session, vuln: str, limit: int = 100) -> list[dict[str, Any]]:
    """Images whose latest scan has ``vuln`` (by id or alias), with the packages it is in."""
    found: dict[str, dict[str, Any]] = {}
    for row in findings(session, FindingFilter(vuln=vuln), limit=MAX_LIMIT):
        entry = found.setdefault(row["image"], {"image": row["image"], "packages": []})
        entry["packages"].append({"name": row["package"], "version": row["version"],
                                  "severity": row["severity"]})
    return list(found.values())[:limit]


def scan_history(session: Session, image: str = "", limit: int = 100,
                 offset: int = 0) -> list[dict[str, Any]]:
    query = (select(ScanRecord, ImageRecord.key)
             .join(ImageRecord, ImageRecord.id == ScanRecord.image_id)
             .order_by(ScanRecord.id.desc()))
    if image:
        query = query.where(or_(ImageRecord.key == image, ImageRecord.digest == image))
    rows = session.execute(query.limit(min(limit, MAX_LIMIT)).offset(offset))
    return [_scan(scan, key) for scan, key in rows]


def coverage(session: Session) -> dict[str, Any]:
    """How much of the fleet the store covers: inventory references, those linked to a
    stored image, stored and scanned images, the last scan."""
    references = session.scalar(select(func.count(func.distinct(OccurrenceRecord.ref_name))))
    linked = session.scalar(
        select(func.count(func.distinct(OccurrenceRecord.ref_name)))
        .join(GraphLinkRecord, GraphLinkRecord.occurrence_id == OccurrenceRecord.id))
    images = session.scalar(select(func.count()).select_from(ImageRecord))
    scanned = session.scalar(select(func.count(func.distinct(ScanRecord.image_id))))
    last = session.scalar(select(func.max(ScanRecord.created_at)))
    refs = int(references or 0)
    return {"inventory_references": refs, "references_scanned": int(linked or 0),
            "share_scanned": round(int(linked or 0) / refs, 4) if refs else None,
            "images": int(images or 0), "images_scanned": int(scanned or 0),
            "last_scan": _iso(last)}


def findings_by_severity(session: Session) -> dict[str, int]:
    """Active findings of every image's latest scan, by severity (for /metrics)."""
    latest = _latest()
    rows = session.execute(select(FindingRecord.severity, func.count())
                           .join(latest, latest.c.scan_id == FindingRecord.scan_id)
                           .where(FindingRecord.suppressed_by == "")
                           .group_by(FindingRecord.severity))
    return {str(Severity(severity)): int(n) for severity, n in rows}


def scans_by_kind(session: Session) -> dict[str, int]:
    rows = session.execute(select(ScanRecord.kind, func.count()).group_by(ScanRecord.kind))
    return {str(kind): int(n) for kind, n in rows}
