"""A whole run recorded at once: ``respond`` stores its scans, the inventory and the lineage
index of what it scanned in one write transaction, so a concurrent run or a crash never
leaves the three half-written or out of step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from hullguard.model import Finding, Sbom
from hullguard.model.inventory import Inventory
from hullguard.store.base import make_engine, write
from hullguard.store.scans import add_scan, encode_sbom

ScanEntry = tuple[Sbom, Sequence[Finding]]


def record_run(url: str, inventory: Inventory, scans: Iterable[ScanEntry], db_label: str,
               kind: str = "respond") -> int:
    """Store every scan (image, SBOM by digest, findings), replace the inventory and index
    the scanned images for lineage; the number of scans stored."""
    entries = [(sbom, list(findings), encode_sbom(sbom)) for sbom, findings in scans]
    engine = make_engine(url)

    def work(conn: Connection) -> int:
        from hullguard.store.graph import index_in
        from hullguard.store.inventory import replace_inventory

        with Session(bind=conn, expire_on_commit=False) as session:
            for sbom, findings, encoded in entries:
                add_scan(session, sbom, findings, db_label, kind, encoded)
            session.flush()
        replace_inventory(conn, inventory)
        index_in(conn, [(sbom.image, sbom) for sbom, _, _ in entries], datetime.now(UTC))
        return len(entries)

    try:
        return write(engine, work)
    finally:
        engine.dispose()


def record_image(engine: Engine, sbom: Sbom, findings: Sequence[Finding], db_label: str,
                 kind: str = "scan") -> int:
    """One image's scan (image, SBOM, findings) and its lineage index entry in one write
    transaction, leaving the inventory as it is (a push-triggered scan); the scan id."""
    encoded = encode_sbom(sbom)

    def work(conn: Connection) -> int:
        from hullguard.store.graph import index_in

        with Session(bind=conn, expire_on_commit=False) as session:
            scan_id = add_scan(session, sbom, findings, db_label, kind, encoded)
            session.flush()
        index_in(conn, [(sbom.image, sbom)], datetime.now(UTC))
        return scan_id

    return write(engine, work)
