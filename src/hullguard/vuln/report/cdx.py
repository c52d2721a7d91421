"""CycloneDX 1.6 JSON: the image's SBOM (hullguard.sbom.cyclonedx.build_bom) plus a
``vulnerabilities`` section. Suppressed findings are included with an ``analysis`` that says
why (so the document doubles as VEX); active ones have none."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hullguard.model import Finding, Severity
from hullguard.vuln.scan import ScanReport

if TYPE_CHECKING:
    from cyclonedx.model.vulnerability import Vulnerability


def render(report: ScanReport) -> str:
    from cyclonedx.output.json import JsonV1Dot6

    from hullguard.sbom.cyclonedx import build_bom

    bom = build_bom(report.sbom)
    grouped: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in (*report.findings, *report.suppressed):
        grouped[(finding.id, finding.suppressed_by)].append(finding)
    for findings in grouped.values():
        bom.vulnerabilities.add(_vulnerability(findings))
    _note_unchecked(bom, report)
    return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"


def _note_unchecked(bom: Any, report: ScanReport) -> None:
    """What was NOT checked, as BOM metadata properties: an empty vulnerabilities list must
    not read as clean when a package source had no advisory data or content was skipped."""
    from cyclonedx.model import Property

    for item in report.uncovered:
        bom.metadata.properties.add(Property(name="hullguard:not_covered",
                                             value=item.describe()))
    for text in report.skipped:
        bom.metadata.properties.add(Property(name="hullguard:skipped", value=text))


def _severity(level: Severity) -> Any:
    from cyclonedx.model.vulnerability import VulnerabilitySeverity

    names = {Severity.NEGLIGIBLE: "info", Severity.UNKNOWN: "unknown"}
    return VulnerabilitySeverity(names.get(level, str(level)))


def _rating(finding: Finding) -> Any:
    from cyclonedx.model.vulnerability import VulnerabilityRating, VulnerabilityScoreSource

    if finding.cvss is None:
        return VulnerabilityRating(severity=_severity(finding.severity))
    method = {"2.0": VulnerabilityScoreSource.CVSS_V2, "3.0": VulnerabilityScoreSource.CVSS_V3,
              "3.1": VulnerabilityScoreSource.CVSS_V3_1,
              "4.0": VulnerabilityScoreSource.CVSS_V4}.get(finding.cvss.version,
                                                           VulnerabilityScoreSource.OTHER)
    return VulnerabilityRating(score=Decimal(str(finding.cvss.score)), method=method,
                               severity=_severity(finding.severity), vector=finding.cvss.vector)


def _vulnerability(findings: list[Finding]) -> Vulnerability:
    from cyclonedx.model import Property
    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
    from cyclonedx.model.vulnerability import (
        BomTarget,
        BomTargetVersionRange,
        Vulnerability,
        VulnerabilityReference,
        VulnerabilitySource,
    )

    from hullguard.sbom.cyclonedx import bom_ref

    first = findings[0]
    affects = [BomTarget(ref=bom_ref(f.package), versions=[BomTargetVersionRange(
        version=f.package.version, status=ImpactAnalysisAffectedStatus.AFFECTED)])
        for f in findings]
    properties = [Property(name="hullguard:fixed_versions", value=",".join(f.fixed_versions))
                  for f in findings[:1] if f.fixed_versions]
    properties += _priority_properties(first)
    suffix = "-suppressed" if first.suppressed_by else ""
    return Vulnerability(
        bom_ref=f"vulnerability:{first.id}{suffix}", id=first.id,
        source=VulnerabilitySource(name=_source_name(first.id)),
        references=[VulnerabilityReference(id=a, source=VulnerabilitySource(
            name=_source_name(a))) for a in first.aliases],
        ratings=[_rating(first)], description=first.summary or None,
        recommendation=(f"Upgrade to {', '.join(first.fixed_versions)}"
                        if first.fixed_versions else None),
        affects=affects, analysis=_analysis(first), properties=properties)


def _priority_properties(finding: Finding) -> list[Any]:
    from cyclonedx.model import Property

    out = []
    if finding.epss:
        out.append(Property(name="hullguard:epss:score", value=str(finding.epss.score)))
        out.append(Property(name="hullguard:epss:percentile",
                            value=str(finding.epss.percentile)))
    if finding.kev:
        out.append(Property(name="hullguard:kev:date_added", value=finding.kev.date_added))
    return out


def _analysis(finding: Finding) -> Any:
    from cyclonedx.model.impact_analysis import ImpactAnalysisState
    from cyclonedx.model.vulnerability import VulnerabilityAnalysis

    if not finding.suppressed_by:
        return None
    return VulnerabilityAnalysis(state=ImpactAnalysisState.NOT_AFFECTED,
                                 detail=finding.suppressed_by)


def _source_name(vuln_id: str) -> str:
    prefix = vuln_id.split("-", 1)[0].upper()
    return {"CVE": "NVD", "GHSA": "GitHub", "PYSEC": "PyPA", "GO": "Go", "OSV": "OSV",
            "RUSTSEC": "RustSec", "DSA": "Debian", "DLA": "Debian"}.get(prefix, prefix)
