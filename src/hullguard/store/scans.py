"""Recording scans: the image, its SBOM (by digest) and every matched finding."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hullguard.model import Finding, Sbom, Severity
from hullguard.store.models import FindingRecord, ImageRecord, SbomRecord, ScanRecord
from hullguard.vuln.scan import ScanReport

FindingKey = tuple[str, str]  # (vulnerability id, package key)


def image_key(sbom: Sbom) -> str:
    image = sbom.image
    return str(image.digest) if image.digest else f"{image.source_kind}:{image.reference}"


def encode_sbom(sbom: Sbom) -> tuple[str, bytes]:
    """(sha256 of the native JSON, compressed JSON): the SBOM as stored."""
    from hullguard.sbom.native import to_dict

    text = json.dumps(to_dict(sbom), sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(text).hexdigest(), zlib.compress(text, 6)


def decode_sbom(data: bytes, where: str) -> Sbom:
    from hullguard.sbom.native import from_dict

    return from_dict(json.loads(zlib.decompress(data)), where)


def _upsert_image(session: Session, sbom: Sbom, sbom_digest: str, now: datetime) -> ImageRecord:
    key = image_key(sbom)
    image = session.scalars(select(ImageRecord).where(ImageRecord.key == key)).first()
    if image is None:
        image = ImageRecord(key=key, digest=str(sbom.image.digest) if sbom.image.digest else None,
                            first_seen=now)
        session.add(image)
    image.reference = sbom.image.reference
    image.chain = json.dumps(list(sbom.image.chain))
    image.sbom_digest = sbom_digest
    image.last_seen = now
    session.flush()
    return image


def _store_sbom(session: Session, sbom: Sbom, image: ImageRecord, digest: str, data: bytes,
                now: datetime) -> None:
    if session.get(SbomRecord, digest) is None:
        session.add(SbomRecord(digest=digest, image_id=image.id, created_at=now,
                               packages=len(sbom.packages), data=data))
        session.flush()


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out: dict[str, int] = {}
    for finding in findings:
        if not finding.suppressed_by:
            out[str(finding.severity)] = out.get(str(finding.severity), 0) + 1
    return out


def record_scan(factory: sessionmaker[Session], report: ScanReport, db_label: str,
                kind: str = "scan") -> int:
    """Store the image, its SBOM and the scan's findings; the scan id."""
    digest, data = encode_sbom(report.sbom)
    with factory.begin() as session:
        return add_scan(session, report.sbom, report.kept_and_suppressed, db_label, kind,
                        (digest, data))


def add_scan(session: Session, sbom: Sbom, findings: Iterable[Finding], db_label: str,
             kind: str, encoded: tuple[str, bytes] | None = None) -> int:
    now = datetime.now(UTC)
    findings = list(findings)
    digest, data = encoded or encode_sbom(sbom)
    image = _upsert_image(session, sbom, digest, now)
    _store_sbom(session, sbom, image, digest, data, now)
    scan = ScanRecord(image_id=image.id, sbom_digest=digest, kind=kind, created_at=now,
                      database=db_label, counts=json.dumps(counts(findings)))
    session.add(scan)
    session.flush()
    if findings:  # Core insert: the ORM bulk path costs several times more per row
        session.execute(FindingRecord.__table__.insert(),  # type: ignore[attr-defined]
                        [_finding_row(scan.id, f) for f in findings])
    return scan.id


def _finding_row(scan_id: int, finding: Finding) -> dict[str, Any]:
    package = finding.package
    return {"scan_id": scan_id, "vuln_id": finding.id, "aliases": json.dumps(finding.aliases),
            "package_key": package.key, "purl": package.purl, "package_name": package.name,
            "version": package.version, "severity": int(finding.severity),
            "fixed_versions": json.dumps(finding.fixed_versions),
            "suppressed_by": finding.suppressed_by}


def latest_scans(session: Session) -> dict[int, int]:
    """image id -> id of its latest scan."""
    rows = session.execute(select(ScanRecord.image_id, func.max(ScanRecord.id))
                           .group_by(ScanRecord.image_id))
    return {image_id: scan_id for image_id, scan_id in rows}


def findings_of(session: Session, scan_ids: list[int]) -> dict[int, dict[FindingKey, dict[
        str, Any]]]:
    """scan id -> {(vuln id, package key): stored finding fields}."""
    out: dict[int, dict[FindingKey, dict[str, Any]]] = {i: {} for i in scan_ids}
    for start in range(0, len(scan_ids), 500):
        chunk = scan_ids[start:start + 500]
        columns = (FindingRecord.scan_id, FindingRecord.vuln_id, FindingRecord.package_key,
                   FindingRecord.aliases, FindingRecord.purl, FindingRecord.package_name,
                   FindingRecord.version, FindingRecord.severity)
        rows = session.execute(select(*columns).where(FindingRecord.scan_id.in_(chunk)))
        for scan_id, vuln_id, key, aliases, purl, name, version, severity in rows:
            out[scan_id][(vuln_id, key)] = {
                "id": vuln_id, "aliases": aliases, "purl": purl,  # aliases: JSON text
                "package": name, "version": version, "severity": str(Severity(severity))}
    return out


def stored_sboms(session: Session) -> Iterator[tuple[ImageRecord, bytes]]:
    """Every image with the data of its latest SBOM."""
    rows = session.execute(select(ImageRecord, SbomRecord.data)
                           .join(SbomRecord, SbomRecord.digest == ImageRecord.sbom_digest)
                           .order_by(ImageRecord.id))
    yield from rows
