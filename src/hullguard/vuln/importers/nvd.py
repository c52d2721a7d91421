"""NVD CVE JSON 2.0 (feeds ``nvdcve-2.0-*.json`` and API pages): CVSS per CVE, used for
advisories that carry no CVSS of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hullguard.model import CvssScore, Severity
from hullguard.vuln.importers.base import CvssRecord, ImportStats, valid_id
from hullguard.vuln.importers.cvssutil import score_vector

NAME = "nvd"
_METRICS = (("cvssMetricV40", "4.0"), ("cvssMetricV31", "3.1"), ("cvssMetricV30", "3.0"),
            ("cvssMetricV2", "2.0"))


def accepts(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        return False
    first = doc["vulnerabilities"][:1]
    return doc.get("format") == "NVD_CVE" or bool(first and isinstance(first[0], dict)
                                                  and "cve" in first[0])


def parse(doc: Any, where: str, stats: ImportStats) -> Iterator[CvssRecord]:
    for item in doc["vulnerabilities"]:
        cve = item.get("cve") if isinstance(item, dict) else None
        cve_id = cve.get("id") if isinstance(cve, dict) else None
        if not isinstance(cve, dict) or not valid_id(cve_id):
            stats.skip(where, f"NVD item without a valid cve.id: {str(item)[:80]!r}")
            continue
        metrics = cve.get("metrics")
        scores = _scores(metrics) if isinstance(metrics, dict) else ()
        if scores:
            yield CvssRecord(cve_id, scores)


def _scores(metrics: dict[str, Any]) -> tuple[CvssScore, ...]:
    out = []
    for key, version in _METRICS:
        entries = metrics.get(key)
        if not isinstance(entries, list):
            continue
        # NVD's own (Primary) score first, then the CNA's.
        ordered = sorted((e for e in entries if isinstance(e, dict)),
                         key=lambda e: e.get("type") != "Primary")
        for entry in ordered[:1]:
            score = _score(entry, version)
            if score is not None:
                out.append(score)
    return tuple(out)


def _score(entry: dict[str, Any], version: str) -> CvssScore | None:
    data = entry.get("cvssData")
    if not isinstance(data, dict):
        return None
    vector, base = data.get("vectorString"), data.get("baseScore")
    if not isinstance(vector, str) or len(vector) > 300:
        return None
    rating = data.get("baseSeverity") or entry.get("baseSeverity") or ""
    if isinstance(base, int | float) and 0 <= base <= 10:
        return CvssScore(str(data.get("version", version)), vector, float(base),
                         Severity.parse(str(rating)) if rating else _from_score(float(base)))
    return score_vector(vector)


def _from_score(score: float) -> Severity:
    for floor, level in ((9.0, Severity.CRITICAL), (7.0, Severity.HIGH), (4.0, Severity.MEDIUM),
                         (0.1, Severity.LOW)):
        if score >= floor:
            return level
    return Severity.NEGLIGIBLE
