"""The fleet in the store: every scan recorded (SBOM by digest, findings, history), the
inventory saved and the images indexed for lineage, so ``graph``, ``rescan`` and a rerun of
``respond`` work from what is stored. The SQL lives in :mod:`hullguard.store`; this module
only turns respond's results into the store's calls."""

from __future__ import annotations

from collections.abc import Sequence

from hullguard.model import Sbom
from hullguard.model.inventory import Inventory
from hullguard.respond.model import ImageResult


def load_sbom_by_digest(store_url: str, digest: str) -> Sbom | None:
    """The latest stored SBOM of the image with this manifest digest, if any (reading only:
    a missing store is no SBOM, and nothing is created)."""
    from hullguard.store.scans import load_sbom

    return load_sbom(store_url, digest)


def record_fleet(store_url: str, inventory: Inventory, results: Sequence[ImageResult],
                 db_label: str) -> int:
    """Record the scans, the inventory and the lineage index in one write transaction; the
    number of scans stored."""
    from hullguard.store.runs import record_run

    scans = [(r.sbom, r.findings) for r in results if r.scanned and r.sbom is not None]
    return record_run(store_url, inventory, scans, db_label)
