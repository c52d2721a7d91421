"""SARIF 2.1.0 for GitHub code scanning: one rule per vulnerability id, one result per
(vulnerability, package). ``security-severity`` carries the CVSS score (GitHub's severity
column); the location is the file in the image that recorded the package."""

from __future__ import annotations

import hashlib
from typing import Any

from hullguard import sarif
from hullguard.model import Finding, Severity
from hullguard.vuln.coverage import coverage_dict
from hullguard.vuln.scan import ScanReport

_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.NEGLIGIBLE: "note", Severity.UNKNOWN: "warning"}
# Used when a finding has no CVSS score: GitHub maps >= 9 critical, >= 7 high, >= 4 medium.
_DEFAULT_SCORE = {Severity.CRITICAL: 9.5, Severity.HIGH: 8.0, Severity.MEDIUM: 5.5,
                  Severity.LOW: 2.0, Severity.NEGLIGIBLE: 0.5, Severity.UNKNOWN: 5.0}


def render(report: ScanReport) -> str:
    return sarif.dumps(to_dict(report), ascii_only=False)


def to_dict(report: ScanReport) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    for finding in report.findings:
        rules.setdefault(finding.id, _rule(finding))
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    return sarif.envelope([sarif.run(
        list(rules.values()), [_result(f, index[f.id], report) for f in report.findings],
        invocations=[_invocation(report)],
        properties={"image": report.sbom.image.name,
                    "coverage": [coverage_dict(c) for c in report.coverage],
                    "skipped": report.skipped})])


def _score(finding: Finding) -> float:
    return finding.cvss.score if finding.cvss else _DEFAULT_SCORE[finding.severity]


def _rule(finding: Finding) -> dict[str, Any]:
    text = finding.summary or f"{finding.id} in {finding.package.name}"
    fixed = ", ".join(finding.fixed_versions) or "no fixed version yet"
    return {
        "id": finding.id, "name": finding.id.replace("-", ""),
        "shortDescription": {"text": f"{finding.id}: {text}"[:1000]},
        "fullDescription": {"text": text[:4000]},
        "help": {"text": f"{finding.id} ({finding.severity}). Fixed in: {fixed}. "
                         f"Aliases: {', '.join(finding.aliases) or 'none'}."},
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
        "properties": {"security-severity": f"{_score(finding):.1f}",
                       "tags": ["security", "vulnerability", str(finding.severity)],
                       "precision": "very-high"},
    }


def _location(finding: Finding, report: ScanReport) -> dict[str, Any]:
    path = next((loc.path for loc in finding.package.locations), "")
    uri = path.lstrip("/") or report.sbom.image.reference
    return {"physicalLocation": {"artifactLocation": {"uri": uri},
                                 "region": {"startLine": 1}},
            "message": {"text": f"{finding.package.name} {finding.package.version}"}}


def _result(finding: Finding, rule_index: int, report: ScanReport) -> dict[str, Any]:
    package = finding.package
    fixed = ", ".join(finding.fixed_versions) or "none yet"
    fingerprint = hashlib.sha256(f"{report.sbom.image.reference}|{package.purl}|{finding.id}"
                                 .encode("utf-8", "surrogatepass")).hexdigest()
    return {
        "ruleId": finding.id, "ruleIndex": rule_index, "level": _LEVEL[finding.severity],
        "message": {"text": f"{package.name} {package.version} ({package.purl}) is affected by "
                            f"{finding.id} ({finding.severity}); fixed in: {fixed}"},
        "locations": [_location(finding, report)],
        "partialFingerprints": {"hullguardFinding/v1": fingerprint},
    }


def _invocation(report: ScanReport) -> dict[str, Any]:
    """Result-level notes: what was NOT checked, so no results never reads as clean."""
    notes = [{"level": "warning", "descriptor": {"id": "hullguard/not-covered"},
              "message": {"text": f"Not covered: {item.describe()}; its packages were not "
                                  f"checked. Fix: {item.fix}."}}
             for item in report.uncovered]
    notes += [{"level": "warning", "descriptor": {"id": "hullguard/skipped-content"},
               "message": {"text": f"Skipped content: {text}"}} for text in report.skipped]
    return {"executionSuccessful": True, "toolExecutionNotifications": notes}
