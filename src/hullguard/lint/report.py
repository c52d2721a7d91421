"""Lint report writers: table, JSON, SARIF 2.1.0 (rule metadata with help, level and NIST
control). Pure functions returning text; attacker-chosen text is escaped in the table."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hullguard.model.lint import LintCheck, LintFinding, LintReport
from hullguard.sarif import sarif_level, sarif_log
from hullguard.textsafe import escape_lines

FORMATS = ("table", "json", "sarif")


def _check_json(check: LintCheck) -> dict[str, Any]:
    return {"id": check.id, "title": check.title, "severity": str(check.severity),
            "level": check.level, "nist": check.nist, "fix": check.fix}


def _finding_json(finding: LintFinding) -> dict[str, Any]:
    return {**_check_json(finding.check), "status": finding.status, "target": finding.target,
            "location": finding.location, "line": finding.line, "message": finding.message}


def to_json(report: LintReport) -> str:
    counts = Counter(str(f.check.severity) for f in report.findings if f.status == "fail")
    statuses = Counter(f.status for f in report.findings)
    doc = {"schema": f"hullguard.{report.kind.lower()}/1", "target": report.target,
           "level": report.level,
           "summary": {"findings": len(report.findings), "by_severity": dict(sorted(
               counts.items())), "by_status": dict(sorted(statuses.items())),
               "checks_enforced": len(report.checks)},
           "findings": [_finding_json(f) for f in report.findings],
           "warnings": list(report.warnings)}
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def to_table(report: LintReport) -> str:
    lines = [f"{report.kind} of {report.target} at level {report.level}: "
             f"{len(report.findings)} finding(s), {len(report.checks)} check(s) enforced"]
    # reports that list passes and manual checks too (posture) get a status column
    with_status = any(f.status != "fail" for f in report.findings)
    for finding in report.findings:
        check = finding.check
        where = f"{finding.target}:{finding.line}" if finding.line else finding.target
        if finding.location:
            where += f" ({finding.location})"
        status = f"{finding.status.upper():6} " if with_status else ""
        lines.append(f"{check.id} {status}{str(check.severity).upper():8} {check.level} "
                     f"{check.nist:5} {where}: {finding.message}")
        if finding.status != "pass":
            lines.append(f"    fix: {check.fix}")
    lines.extend(f"warning: {w}" for w in report.warnings)
    return escape_lines(lines)


def _sarif_rule(check: LintCheck) -> dict[str, Any]:
    return {"id": check.id, "name": check.title,
            "shortDescription": {"text": check.title},
            "fullDescription": {"text": check.help or check.title},
            "help": {"text": f"{check.help}\nFix: {check.fix}".strip(),
                     "markdown": f"{check.help}\n\n**Fix:** {check.fix}".strip()},
            "defaultConfiguration": {"level": sarif_level(check.severity)},
            "properties": {"hardening-level": check.level, "nist-800-53": check.nist,
                           "severity": str(check.severity),
                           "tags": ["security", f"NIST-800-53:{check.nist}", check.level]}}


def _sarif_result(finding: LintFinding, index: dict[str, int]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": finding.target}}
    if finding.line:
        physical["region"] = {"startLine": finding.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if finding.location:
        location["logicalLocations"] = [{"name": finding.location}]
    failed = finding.status == "fail"  # SARIF: a pass or a manual review has level "none"
    return {"ruleId": finding.check.id, "ruleIndex": index[finding.check.id],
            "kind": {"fail": "fail", "pass": "pass"}.get(finding.status, "review"),
            "level": sarif_level(finding.check.severity) if failed else "none",
            "message": {"text": f"{finding.message}. Fix: {finding.check.fix}"},
            "locations": [location]}


def to_sarif(report: LintReport) -> str:
    checks = {c.id: c for c in report.checks}
    checks.update({f.check.id: f.check for f in report.findings})
    ordered = sorted(checks.values(), key=lambda c: c.id)
    index = {c.id: i for i, c in enumerate(ordered)}
    return sarif_log([_sarif_rule(c) for c in ordered],
                     [_sarif_result(f, index) for f in report.findings],
                     {"target": report.target, "hardening-level": report.level,
                      "kind": report.kind.lower()})


def render(report: LintReport, fmt: str) -> str:
    return {"table": to_table, "json": to_json, "sarif": to_sarif}[fmt](report)
