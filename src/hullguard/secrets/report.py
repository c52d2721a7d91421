"""Secret report writers: table, JSON, SARIF 2.1.0. Pure functions returning text; the secret
itself is never in the output (prefix, length and fingerprint only), and text from the image
(paths, commands, prefixes) has its control characters escaped in the table."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hullguard.model import Severity
from hullguard.model.secret import SecretFinding, SecretLocation, SecretReport
from hullguard.sarif import sarif_level, sarif_log
from hullguard.secrets.rules import RULES_VERSION, Rule, builtin_rules
from hullguard.textsafe import escape_lines

FORMATS = ("table", "json", "sarif")


def _location_json(location: SecretLocation) -> dict[str, Any]:
    doc: dict[str, Any] = {"path": location.path, "line": location.line,
                           "state": str(location.state)}
    if location.layer_index >= 0:
        doc["layer"] = {"index": location.layer_index, "diff_id": location.layer_diff_id,
                        "created_by": location.created_by}
    return doc


def _finding_json(finding: SecretFinding) -> dict[str, Any]:
    return {"rule_id": finding.rule_id, "title": finding.title,
            "severity": str(finding.severity), "fingerprint": f"sha256:{finding.fingerprint}",
            "prefix": finding.prefix, "length": finding.length,
            "locations": [_location_json(loc) for loc in finding.locations]}


def to_json(report: SecretReport) -> str:
    counts = Counter(str(f.severity) for f in report.findings)
    doc = {
        "schema": "hullguard.secrets/1", "target": report.target,
        "summary": {"findings": len(report.findings), "by_severity": dict(sorted(counts.items())),
                    "files_scanned": report.files_scanned, "bytes_scanned": report.bytes_scanned,
                    "binaries_skipped": report.binaries_skipped, "suppressed": report.suppressed,
                    "skipped": len(report.skipped)},
        "findings": [_finding_json(f) for f in report.findings],
        "skipped": [{"path": s.path, "reason": s.reason, "size": s.size, "layer": s.layer_index}
                    for s in report.skipped],
        "warnings": list(report.warnings),
    }
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def _where(location: SecretLocation) -> str:
    text = f"{location.path}:{location.line}" if location.line else location.path
    if location.layer_index >= 0:
        text += f" (layer {location.layer_index})"
    if location.state in ("deleted", "overwritten"):
        text += f" [{location.state} later]"
    return text


def to_table(report: SecretReport) -> str:
    lines = [f"Secrets in {report.target}: {len(report.findings)} finding(s), "
             f"{report.files_scanned} text(s) scanned, {len(report.skipped)} skipped, "
             f"{report.suppressed} suppressed"]
    if report.findings:
        lines.append(f"{'SEVERITY':9} {'RULE':30} {'SECRET':34} LOCATION")
    for finding in report.findings:
        secret = f"{finding.prefix}... len={finding.length} {finding.fingerprint}"
        first, *rest = finding.locations
        lines.append(f"{finding.severity!s:9} {finding.rule_id:30} {secret:34} {_where(first)}")
        lines.extend(f"{'':75} {_where(loc)}" for loc in rest)
    for skipped in report.skipped:
        lines.append(f"skipped: {skipped.path}: {skipped.reason}")
    lines.extend(f"warning: {w}" for w in report.warnings)
    return escape_lines(lines)


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.id.replace("-", " ").title().replace(" ", ""),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": f"{rule.title} found in clear text."},
            "help": {"text": f"Revoke and rotate the {rule.title}, remove it from the image "
                             "(all layers: deleting it in a later layer does not), and pass it "
                             "at run time (secret mount) instead.",
                     "markdown": f"**{rule.title}**: revoke, rotate, rebuild without it."},
            "defaultConfiguration": {"level": sarif_level(rule.severity)},
            "properties": {"security-severity": _security_severity(rule.severity),
                           "tags": ["security", "secret"]}}


def _security_severity(severity: Severity) -> str:
    return {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
            Severity.LOW: "3.0"}.get(severity, "1.0")


def _sarif_result(finding: SecretFinding) -> dict[str, Any]:
    locations = []
    for loc in finding.locations:
        physical: dict[str, Any] = {"artifactLocation": {"uri": loc.path.lstrip("/")}}
        if loc.line:
            physical["region"] = {"startLine": loc.line}
        locations.append({"physicalLocation": physical, "properties": _location_json(loc)})
    return {"ruleId": finding.rule_id, "level": sarif_level(finding.severity),
            "message": {"text": f"{finding.title}: {finding.redacted}"},
            "locations": locations,
            "partialFingerprints": {"secretFingerprint/v1": finding.fingerprint}}


def to_sarif(report: SecretReport) -> str:
    used = {f.rule_id for f in report.findings}
    rules = [_sarif_rule(r) for r in builtin_rules() if r.id in used]
    return sarif_log(rules, [_sarif_result(f) for f in report.findings],
                     {"target": report.target, "rulesVersion": RULES_VERSION})


def render(report: SecretReport, fmt: str) -> str:
    return {"table": to_table, "json": to_json, "sarif": to_sarif}[fmt](report)
