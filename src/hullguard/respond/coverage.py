"""Coverage of the fleet: which package sources of each scanned image the database checked.

Computed once per run after the scan (journaled and reused results included), from the same
:mod:`hullguard.vuln.coverage` as ``scan``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hullguard.respond.model import ImageResult, Incident
from hullguard.vuln.coverage import image_coverage


def attach_coverage(results: Sequence[ImageResult], db_path: str) -> list[ImageResult]:
    """``results`` with ``coverage`` set for every image that has an SBOM."""
    if not db_path:
        return [replace(r, coverage=image_coverage(r.sbom, None)) if r.sbom else r
                for r in results]
    from hullguard.vuln.db import VulnDB

    with VulnDB.open(db_path) as db:
        return [replace(r, coverage=image_coverage(r.sbom, db)) if r.sbom else r
                for r in results]


def not_covered_summary(incident: Incident) -> dict[str, Any]:
    """Images and workloads whose packages were (partly) not checked, and the fix."""
    images = incident.partly_checked()
    return {"images": [i.name for i in images], "workloads": incident.unchecked_workloads(),
            "packages": sum(c.packages for i in images for c in i.uncovered),
            "fix": sorted({c.fix for i in images for c in i.uncovered})}
