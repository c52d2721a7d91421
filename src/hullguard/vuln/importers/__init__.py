"""Feed importers: detect a document's format by content and turn it into records.

``load_path(path)`` yields the advisories of a file, directory or zip export; ``iter_records``
also yields the enrichment records (NVD CVSS, EPSS, KEV). A new feed is one module with
``NAME``, ``accepts(doc)`` and ``parse(doc, where, stats)``, plus one line in ``FORMATS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from hullguard.errors import InputError, LimitExceeded
from hullguard.model import Advisory
from hullguard.vuln.importers import alpine, debian, epss, kev, nvd, osv
from hullguard.vuln.importers.base import (
    CvssRecord,
    EpssRecord,
    ImportStats,
    KevRecord,
    Limits,
    parse_json,
    parse_yaml,
)
from hullguard.vuln.importers.reader import Document, iter_documents

Record = Advisory | CvssRecord | EpssRecord | KevRecord

# Order matters: the first format whose accepts() says yes parses the document.
FORMATS: tuple[ModuleType, ...] = (alpine, nvd, kev, osv, debian)
TEXT_FORMATS: tuple[ModuleType, ...] = (epss,)

__all__ = [
    "CvssRecord", "EpssRecord", "ImportStats", "KevRecord", "Limits", "Record",
    "iter_records", "load_path",
]


def _decode(doc: Document, stats: ImportStats) -> Any:
    """The parsed document, or its text for line formats, or None (counted as skipped)."""
    head = doc.data.lstrip()[:1]
    lower = doc.name.lower()
    if head in (b"{", b"["):
        return parse_json(doc.data, doc.name)
    if lower.endswith((".yaml", ".yml")):
        return parse_yaml(doc.data, doc.name, stats.limits)
    if any(module.sniff_text(doc.data) for module in TEXT_FORMATS):
        return doc.data
    stats.skip(doc.name, "not a recognized feed document (JSON, YAML or EPSS CSV)")
    return None


def _records_of(doc: Document, stats: ImportStats) -> Iterator[Record]:
    try:
        parsed = _decode(doc, stats)
    except (InputError, LimitExceeded) as error:
        stats.skip(doc.name, error.message)
        return
    if parsed is None:
        return
    modules = TEXT_FORMATS if isinstance(parsed, bytes) else FORMATS
    for module in modules:
        if module.accepts(parsed):
            stats.formats[module.NAME] += 1
            yield from module.parse(parsed, doc.name, stats)
            return
    stats.skip(doc.name, "JSON/YAML document of no known feed format")


def iter_records(path: Path, stats: ImportStats | None = None) -> Iterator[Record]:
    """Every record of every document under ``path``; bad ones are counted in ``stats``."""
    stats = stats if stats is not None else ImportStats()
    for doc in iter_documents(Path(path), stats):
        for record in _records_of(doc, stats):
            stats.loaded[_kind(record)] += 1
            yield record


def _kind(record: Record) -> str:
    if isinstance(record, Advisory):
        return "advisories"
    return {CvssRecord: "cvss", EpssRecord: "epss", KevRecord: "kev"}[type(record)]


def load_path(path: Path | str, stats: ImportStats | None = None) -> Iterator[Advisory]:
    """The advisories of an OSV/secdb/Debian file, directory or zip export."""
    for record in iter_records(Path(path), stats):
        if isinstance(record, Advisory):
            yield record
