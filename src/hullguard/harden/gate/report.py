"""Gate report writers: text, JSON and SARIF 2.1.0; pure functions returning strings.

Text from images (names, paths, license strings) is escaped before it reaches a terminal."""

from __future__ import annotations

import json
from typing import Any

from hullguard.harden.gate.evaluate import GateReport, ImageVerdict, RuleResult
from hullguard.textsafe import escape_controls as escape

FORMATS = ("text", "json", "sarif")
SCHEMA = "hullguard.gate-report/v1"
MAX_REASONS_SHOWN = 10


def render(report: GateReport, fmt: str) -> str:
    return {"text": to_text, "json": to_json, "sarif": to_sarif}[fmt](report)


def to_text(report: GateReport) -> str:
    lines = [f"gate: stage {report.stage}, policy {escape(report.policy)}"]
    lines += [f"warning: {escape(w)}" for w in report.warnings]
    for verdict in report.verdicts:
        lines.append("")
        lines.append(f"{'PASS' if verdict.passed else 'FAIL'}  {escape(verdict.image)}"
                     + (f"  {verdict.digest}" if verdict.digest else ""))
        if verdict.problem:
            lines.append(f"  not scanned: {escape(verdict.problem)}")
        lines.extend(f"  note: {escape(note)}" for note in verdict.notes)
        lines.extend(_result_lines(result) for result in verdict.results)
    failed = sum(1 for v in report.verdicts if not v.passed)
    lines.append("")
    lines.append(f"{len(report.verdicts)} image(s), {failed} failed the {report.stage} gate"
                 if report.verdicts else "no image was evaluated: the gate fails")
    return "\n".join(lines) + "\n"


def _result_lines(result: RuleResult) -> str:
    mark = {"pass": "ok  ", "fail": "FAIL", "not-checked": "FAIL"}[result.status]
    out = [f"  {mark} {result.rule}"]
    out += [f"       - {escape(r)}" for r in result.reasons[:MAX_REASONS_SHOWN]]
    if len(result.reasons) > MAX_REASONS_SHOWN:
        out.append(f"       ... and {len(result.reasons) - MAX_REASONS_SHOWN} more "
                   "(see the JSON report)")
    out += [f"       waived: {escape(w)}" for w in result.waived[:MAX_REASONS_SHOWN]]
    out += [f"       note: {escape(n)}" for n in result.notes]
    return "\n".join(out)


def _verdict_json(verdict: ImageVerdict) -> dict[str, Any]:
    return {"image": verdict.image, "name": verdict.name, "digest": verdict.digest,
            "passed": verdict.passed, "problem": verdict.problem, "notes": list(verdict.notes),
            "rules": [{"rule": r.rule, "status": r.status, "passed": r.passed,
                       "reasons": list(r.reasons), "waived": list(r.waived),
                       "notes": list(r.notes)} for r in verdict.results]}


def to_json(report: GateReport) -> str:
    doc = {"schema": SCHEMA, "stage": report.stage, "policy": report.policy,
           "evaluated_on": report.evaluated_on, "passed": report.passed,
           "rules": [rule.name for rule in report.rules],
           "warnings": list(report.warnings),
           "images": [_verdict_json(v) for v in report.verdicts]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def to_sarif(report: GateReport) -> str:
    from hullguard.sarif import sarif_log

    rules = [{"id": rule.name, "name": rule.key,
              "shortDescription": {"text": rule.description},
              "defaultConfiguration": {"level": "error"}} for rule in report.rules]
    index = {rule.name: position for position, rule in enumerate(report.rules)}
    results = [_sarif_result(verdict, result, reason, index[result.rule], report.policy)
               for verdict in report.verdicts for result in verdict.results
               if not result.passed for reason in result.reasons]
    return sarif_log(rules, results, {"stage": report.stage, "passed": report.passed,
                                      "warnings": list(report.warnings)})


def _sarif_result(verdict: ImageVerdict, result: RuleResult, reason: str, rule_index: int,
                  policy: str) -> dict[str, Any]:
    return {"ruleId": result.rule, "ruleIndex": rule_index, "level": "error",
            "message": {"text": f"{verdict.image}: {reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": policy}},
                           "logicalLocations": [{"name": verdict.image,
                                                 "fullyQualifiedName": verdict.digest
                                                 or verdict.image, "kind": "module"}]}],
            "partialFingerprints": {"image/rule/reason": f"{verdict.name or verdict.image}/"
                                                         f"{result.rule}/{reason}"[:500]}}
