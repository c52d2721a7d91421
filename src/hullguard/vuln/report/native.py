"""The native JSON scan report (``-f json``), schema ``hullguard.scan/1``.

Text from advisories is kept verbatim here (JSON escapes control characters itself); terminal
escaping is the table's job.
"""

from __future__ import annotations

import json
from typing import Any

from hullguard.model import Finding, MatchExplanation, Package, Sbom, Severity
from hullguard.vuln.coverage import coverage_dict
from hullguard.vuln.scan import ScanReport

SCHEMA = "hullguard.scan/1"


def render(report: ScanReport) -> str:
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def to_dict(report: ScanReport) -> dict[str, Any]:
    sbom = report.sbom
    return {
        "schema": SCHEMA,
        "image": image_dict(sbom),
        "distro": ({"id": sbom.distro.id, "version": sbom.distro.version_id,
                    "codename": sbom.distro.codename} if sbom.distro else None),
        "summary": summary(report.findings),
        "findings": [finding_dict(f, sbom) for f in report.findings],
        "suppressed": [finding_dict(f, sbom) for f in report.suppressed],
        "unparseable": [_unparseable(item) for item in report.unparseable],
        "filtered": report.filtered,
        "warnings": list(report.warnings),
        # Per package source: could the database check it? (covered false: NOT checked)
        "coverage": [coverage_dict(item) for item in report.coverage],
        # Content the catalog skipped (unreadable, truncated, over a cap): partly checked.
        "skipped": report.skipped,
        "database": report.db,
    }


def image_dict(sbom: Sbom) -> dict[str, Any]:
    image = sbom.image
    return {"reference": image.reference, "digest": str(image.digest) if image.digest else None,
            "source": image.source_kind,
            "platform": str(image.platform) if image.platform else None,
            "chain": list(image.chain)}


def summary(findings: tuple[Finding, ...]) -> dict[str, int]:
    counts = {str(level): 0 for level in sorted(Severity, reverse=True)}
    for finding in findings:
        counts[str(finding.severity)] += 1
    return counts


def layer_of(package: Package, sbom: Sbom) -> dict[str, str]:
    """The layer that brought the package in: its diffID and the command that made it."""
    diff_id = package.introduced_by or next(
        (loc.layer_diff_id for loc in package.locations if loc.layer_diff_id), "")
    created_by = package.created_by or next(
        (layer.created_by for layer in sbom.image.layers
         if layer.diff_id and str(layer.diff_id) == diff_id), "")
    return {"diff_id": diff_id, "created_by": created_by}


def package_dict(package: Package) -> dict[str, Any]:
    return {"name": package.name, "version": package.version, "type": str(package.type),
            "purl": package.purl, "source_name": package.source_name,
            "locations": [loc.path for loc in package.locations]}


def finding_dict(finding: Finding, sbom: Sbom) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": finding.id, "aliases": list(finding.aliases),
        "package": package_dict(finding.package),
        "fixed_versions": list(finding.fixed_versions), "has_fix": finding.has_fix,
        "severity": str(finding.severity), "severity_source": finding.severity_source,
        "summary": finding.summary,
        "cvss": ({"score": finding.cvss.score, "vector": finding.cvss.vector,
                  "version": finding.cvss.version} if finding.cvss else None),
        "epss": ({"score": finding.epss.score, "percentile": finding.epss.percentile,
                  "date": finding.epss.date} if finding.epss else None),
        "kev": ({"date_added": finding.kev.date_added, "due_date": finding.kev.due_date,
                 "ransomware": finding.kev.ransomware} if finding.kev else None),
        "layer": layer_of(finding.package, sbom),
        "explanations": [explanation_dict(e) for e in finding.explanations],
    }
    if finding.suppressed_by:
        out["suppressed_by"] = finding.suppressed_by
    return out


def explanation_dict(explanation: MatchExplanation) -> dict[str, str]:
    return {"advisory_id": explanation.advisory_id, "source": explanation.source,
            "ecosystem": explanation.ecosystem, "matched_name": explanation.matched_name,
            "installed_version": explanation.installed_version, "rule": explanation.rule}


def _unparseable(item: Any) -> Any:
    """The matcher's record of a version it could not order (``Unparseable``), as plain data."""
    fields = item._asdict() if hasattr(item, "_asdict") else {"item": str(item)}
    return {key: (value.purl if isinstance(value, Package) else str(value))
            for key, value in fields.items()}
