"""The fleet in the store: every scan recorded (SBOM by digest, findings, history), the
inventory saved and the images indexed for lineage, so ``graph``, ``rescan`` and a rerun of
``respond`` work from what is stored."""

from __future__ import annotations

from collections.abc import Sequence

from hullguard.model import Sbom
from hullguard.model.inventory import Inventory
from hullguard.respond.model import ImageResult


def load_sbom_by_digest(store_url: str, digest: str) -> Sbom | None:
    """The latest stored SBOM of the image with this manifest digest, if any."""
    from sqlalchemy import select

    from hullguard.store.base import open_store
    from hullguard.store.models import ImageRecord, SbomRecord
    from hullguard.store.scans import decode_sbom

    with open_store(store_url) as factory, factory() as session:
        query = (select(SbomRecord.data).join(ImageRecord,
                                              SbomRecord.digest == ImageRecord.sbom_digest)
                 .where(ImageRecord.digest == digest))
        data = session.scalars(query).first()
    return decode_sbom(data, f"store: {digest}") if data is not None else None


def record_fleet(store_url: str, inventory: Inventory, results: Sequence[ImageResult],
                 db_label: str) -> int:
    """Record the scans, the inventory and the lineage index; the number of scans stored."""
    from hullguard.store.base import open_store
    from hullguard.store.graph import index_images
    from hullguard.store.inventory import save_inventory
    from hullguard.store.scans import add_scan

    scanned = [r for r in results if r.scanned and r.sbom is not None]
    with open_store(store_url) as factory:
        with factory.begin() as session:
            for result in scanned:
                assert result.sbom is not None
                add_scan(session, result.sbom, result.findings, db_label, "respond")
        engine = factory.kw["bind"]
        save_inventory(engine, inventory)
        index_images(engine, [(r.sbom.image, r.sbom) for r in scanned if r.sbom])
    return len(scanned)
