"""CISA Known Exploited Vulnerabilities catalog JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hullguard.model import Kev
from hullguard.vuln.importers.base import ImportStats, KevRecord, text, valid_id

NAME = "kev"


def accepts(doc: Any) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("vulnerabilities"), list)
            and ("catalogVersion" in doc or any(isinstance(v, dict) and "cveID" in v
                                                for v in doc["vulnerabilities"][:1])))


def parse(doc: Any, where: str, stats: ImportStats) -> Iterator[KevRecord]:
    for item in doc["vulnerabilities"]:
        cve = item.get("cveID") if isinstance(item, dict) else None
        added = item.get("dateAdded") if isinstance(item, dict) else None
        if not valid_id(cve) or not isinstance(added, str):
            stats.skip(where, f"KEV entry without cveID/dateAdded: {str(item)[:80]!r}")
            continue
        ransomware = str(item.get("knownRansomwareCampaignUse", "")).lower() == "known"
        yield KevRecord(cve, Kev(text(added, 32), text(item.get("dueDate"), 32), ransomware))
