"""Single-image use cases: ``scan`` one image (catalog, match, record) and ``rescan`` the
store against the current database. They return values; the face prints them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hullguard.errors import HullguardError
from hullguard.images.api import SourceOptions
from hullguard.model.problem import Problem

if TYPE_CHECKING:
    from hullguard.store.rescan import ImageChanges
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.scan import ScanOptions, ScanReport


@dataclass(frozen=True)
class ImageScan:
    report: ScanReport
    not_recorded: Problem | None = None  # the store failed: the scan itself still stands


def scan_image(image: str, db: VulnDB, options: ScanOptions,
               source: SourceOptions | None = None, *, store: str | None = None,
               record: bool = True,
               on_progress: Callable[[str], None] | None = None,
               layer_cache: str = "off") -> ImageScan:
    """Catalog ``image``, match it against ``db`` (suppressions and filters in ``options``)
    and record the scan in ``store`` unless ``record`` is False; ``layer_cache`` as
    :func:`hullguard.images.layercache.open_layer_cache` takes it."""
    from hullguard.catalog import catalog_image
    from hullguard.vuln.scan import scan_sbom

    sbom = catalog_image(image, source or SourceOptions(), on_progress=on_progress,
                         layer_cache=layer_cache)
    report = scan_sbom(sbom, db, options)
    return ImageScan(report, _record(store, report, db) if record else None)


def _record(store: str | None, report: ScanReport, db: VulnDB) -> Problem | None:
    """Record the scan; a store problem is returned, not raised (no lost scan result)."""
    from hullguard.pipeline.jobs import problem_of
    from hullguard.store import open_store
    from hullguard.store.scans import record_scan

    try:
        with open_store(store) as session_factory:
            record_scan(session_factory, report, db_label=str(db.path))
    except HullguardError as error:
        return problem_of(error)
    return None


def rescan(db: VulnDB, store: str | None) -> list[ImageChanges]:
    """Re-match every stored SBOM against ``db`` (no image I/O); what changed per image."""
    from hullguard.store import open_store
    from hullguard.store.rescan import rescan_all

    with open_store(store) as session_factory:
        return rescan_all(session_factory, db)
