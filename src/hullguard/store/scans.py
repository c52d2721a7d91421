"""Recording scans: the image, its SBOM (by digest) and every matched finding."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from hullguard.graph.memory import image_id as graph_id
from hullguard.graph.memory import image_names
from hullguard.model import Finding, Sbom, Severity
from hullguard.store.base import (
    StoreMissingError,
    dialect_insert,
    has_tables,
    make_engine,
    store_error,
    upsert,
    write_session,
)
from hullguard.store.models import FindingRecord, ImageRecord, SbomRecord, ScanRecord
from hullguard.store.names import record_names
from hullguard.vuln.scan import ScanReport

FindingKey = tuple[str, str]  # (vulnerability id, package key)


def image_key(sbom: Sbom) -> str:
    """Images are stored by digest: the manifest digest, else (a local archive) the config
    digest, so a rebuild under the same name is a new image, not an overwrite of the old
    one; only a source with neither (a directory, an SBOM file) is keyed by its reference."""
    image = sbom.image
    digest = image.digest or image.config_digest
    return str(digest) if digest else f"{image.source_kind}:{image.reference}"


def encode_sbom(sbom: Sbom) -> tuple[str, bytes]:
    """(sha256 of the native JSON, compressed JSON): the SBOM as stored."""
    from hullguard.sbom.native import to_dict

    text = json.dumps(to_dict(sbom), sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(text).hexdigest(), zlib.compress(text, 6)


def decode_sbom(data: bytes, where: str) -> Sbom:
    from hullguard.sbom.native import from_dict

    return from_dict(json.loads(zlib.decompress(data)), where)


def _upsert_image(session: Session, sbom: Sbom, sbom_digest: str, now: datetime) -> int:
    """The image's row id; an upsert on its key, so two processes storing the same image at
    once both succeed (the later one's reference, chain and SBOM win)."""
    table = cast(Table, ImageRecord.__table__)
    row = {"key": image_key(sbom), "digest": str(sbom.image.digest) if sbom.image.digest
           else None, "reference": sbom.image.reference,
           "chain": json.dumps(list(sbom.image.chain)), "sbom_digest": sbom_digest,
           "first_seen": now, "last_seen": now}
    statement = dialect_insert(session, table).values(row)
    statement = statement.on_conflict_do_update(
        index_elements=["key"],
        set_={c: statement.excluded[c] for c in ("reference", "chain", "sbom_digest",
                                                 "last_seen")})
    return int(session.execute(statement.returning(table.c.id)).scalar_one())


def _store_sbom(session: Session, sbom: Sbom, image_id: int, digest: str, data: bytes,
                now: datetime) -> None:
    """SBOMs are stored once per content digest (``DO NOTHING`` when already there)."""
    upsert(session, cast(Table, SbomRecord.__table__),
           [{"digest": digest, "image_id": image_id, "created_at": now,
             "packages": len(sbom.packages), "data": data}], ["digest"])


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out: dict[str, int] = {}
    for finding in findings:
        if not finding.suppressed_by:
            out[str(finding.severity)] = out.get(str(finding.severity), 0) + 1
    return out


def record_scan(factory: sessionmaker[Session], report: ScanReport, db_label: str,
                kind: str = "scan") -> int:
    """Store the image, its SBOM and the scan's findings in one write transaction (retried
    on a transient lock error); the scan id."""
    encoded = encode_sbom(report.sbom)
    engine = factory.kw["bind"]
    return write_session(engine, lambda session: add_scan(
        session, report.sbom, report.kept_and_suppressed, db_label, kind, encoded))


def add_scan(session: Session, sbom: Sbom, findings: Iterable[Finding], db_label: str,
             kind: str, encoded: tuple[str, bytes] | None = None) -> int:
    now = datetime.now(UTC)
    findings = list(findings)
    digest, data = encoded or encode_sbom(sbom)
    image_id = _upsert_image(session, sbom, digest, now)
    record_names(session, image_names(sbom.image)[0], graph_id(sbom.image), now)
    _store_sbom(session, sbom, image_id, digest, data, now)
    scan = ScanRecord(image_id=image_id, sbom_digest=digest, kind=kind, created_at=now,
                      database=db_label, counts=json.dumps(counts(findings)))
    session.add(scan)
    session.flush()
    if findings:  # Core insert: the ORM bulk path costs several times more per row
        session.execute(FindingRecord.__table__.insert(),  # type: ignore[attr-defined]
                        [finding_row(scan.id, f) for f in findings])
    return scan.id


def finding_row(scan_id: int, finding: Finding) -> dict[str, Any]:
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


def load_sbom(url: str, digest: str) -> Sbom | None:
    """The latest stored SBOM of the image with this manifest digest; None when the store,
    its tables or the image are not there. Only reads: nothing is created."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = make_engine(url, must_exist=True)
    except StoreMissingError:
        return None
    try:
        return load_sbom_from(engine, digest)
    except SQLAlchemyError as error:
        raise store_error(engine, error) from None
    finally:
        engine.dispose()


def load_sbom_from(engine: Engine, digest: str) -> Sbom | None:
    """:func:`load_sbom` over an engine the caller keeps open (a worker opens the store once)."""
    if not has_tables(engine, ["images", "sboms"]):
        return None
    with engine.connect() as conn:
        query = (select(SbomRecord.data)
                 .join(ImageRecord, SbomRecord.digest == ImageRecord.sbom_digest)
                 .where(ImageRecord.digest == digest))
        data = conn.scalars(query).first()
    return decode_sbom(data, f"store: {digest}") if data is not None else None
