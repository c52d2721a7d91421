"""Posture report writers. Table, JSON and SARIF are lint's writers (the findings carry a
status); Markdown and HTML are here, with the score per hardening level and per NIST control
family. Every value from a server is escaped."""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from hullguard.lint import report as lint_report
from hullguard.model.lint import LEVELS, LintCheck, LintFinding, LintReport
from hullguard.textsafe import printable

FORMATS = ("table", "json", "sarif", "markdown", "html")
_FAMILY = re.compile(r"\b([A-Z]{2})-\d")
_MANUAL_ROW = re.compile(r"^(HG-P[A-Z]\d+) MANUAL ", re.MULTILINE)  # lint's status column


@dataclass(frozen=True)
class Score:
    passed: int = 0
    failed: int = 0
    manual: int = 0

    @property
    def percent(self) -> int | None:
        """Passed over decided (manual checks are neither): None when nothing was decided."""
        decided = self.passed + self.failed
        return round(100 * self.passed / decided) if decided else None

    def text(self) -> str:
        shown = "n/a" if self.percent is None else f"{self.percent}%"
        return f"{shown} ({self.passed} pass, {self.failed} fail, {self.manual} manual)"


def check_statuses(report: LintReport) -> dict[str, str]:
    """One status per check: fail if any outcome failed, else manual if any, else pass."""
    rank = {"pass": 0, "manual": 1, "fail": 2}
    statuses: dict[str, str] = {}
    for finding in report.findings:
        current = statuses.get(finding.check.id)
        if current is None or rank[finding.status] > rank[current]:
            statuses[finding.check.id] = finding.status
    return statuses


def families(check: LintCheck) -> list[str]:
    return sorted(set(_FAMILY.findall(check.nist)))


def scores(report: LintReport) -> tuple[dict[str, Score], dict[str, Score]]:
    """The score per level and per control family (AC, AU, IA, ...)."""
    statuses = check_statuses(report)
    by_level: dict[str, Counter[str]] = defaultdict(Counter)
    by_family: dict[str, Counter[str]] = defaultdict(Counter)
    for check in report.checks:
        status = statuses.get(check.id, "pass")
        by_level[check.level][status] += 1
        for family in families(check):
            by_family[family][status] += 1

    def score(counts: Counter[str]) -> Score:
        return Score(counts["pass"], counts["fail"], counts["manual"])

    levels = {level: score(by_level[level]) for level in LEVELS if level in by_level}
    return levels, {family: score(by_family[family]) for family in sorted(by_family)}


def evidence(finding: LintFinding) -> str:
    """The message, prefixed with its location (token, repository) unless it names it."""
    if finding.location and finding.location not in finding.message:
        return f"{finding.location}: {finding.message}"
    return finding.message


@dataclass(frozen=True)
class NotChecked:
    """A check hullguard could not decide: a manual outcome, or a check the API can never
    answer that sits above the report's level (listed anyway: never silently dropped)."""

    check: LintCheck
    evidence: str
    verify: str


def not_checked(report: LintReport) -> list[NotChecked]:
    """Every check the report leaves to a human, in report order, then the console-only
    checks of the same platform above the report's level."""
    from hullguard.harden.posture.registry import all_checks, definitions, verify_steps

    found = [NotChecked(f.check, evidence(f), verify_steps(f.check.id))
             for f in report.findings if f.status == "manual"]
    platforms = {t for c in report.checks for t in c.targets}
    enforced = {c.id for c in report.checks}
    console_only = {str(r["id"]) for r in definitions() if r.get("manual_only")}
    found += [NotChecked(c, f"not run: an {c.level} check, above --level {report.level}; the "
                            "API cannot answer it at any level", verify_steps(c.id))
              for c in all_checks() if c.id in console_only and c.id not in enforced
              and platforms & set(c.targets)]
    return found


NOT_CHECKED = "NOT CHECKED (manual)"


def not_checked_lines(report: LintReport) -> list[str]:
    """The loud plain-text section: what a human must still verify, and how."""
    items = not_checked(report)
    if not items:
        return []
    lines = [f"{NOT_CHECKED}: {len(items)} check(s) hullguard could not verify through the "
             "API; they are neither passed nor failed until you verify them by hand:"]
    for item in items:
        lines += [f"  {item.check.id} {item.check.title} [{item.check.level} "
                  f"{item.check.nist}]: {item.evidence}", f"    verify: {item.verify}"]
    return lines


def to_table(report: LintReport) -> str:
    """lint's table, the status MANUAL spelled out, then the not-checked section."""
    from hullguard.textsafe import escape_lines

    table = _MANUAL_ROW.sub(r"\1 NOT-CHECKED(manual) ", lint_report.to_table(report))
    extra = not_checked_lines(report)
    return table + (escape_lines(["", *extra]) if extra else "")


def to_json(report: LintReport) -> str:
    """lint's JSON plus ``not_checked`` (id, level, evidence, verify)."""
    import json

    doc = json.loads(lint_report.to_json(report))
    doc["not_checked"] = [{"id": i.check.id, "title": i.check.title, "level": i.check.level,
                           "nist": i.check.nist, "evidence": i.evidence, "verify": i.verify}
                          for i in not_checked(report)]
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def _status(status: str) -> str:
    return NOT_CHECKED if status == "manual" else status.upper()


def _md(text: str) -> str:
    return printable(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: LintReport) -> str:
    levels, by_family = scores(report)
    lines = [f"# Posture of {_md(report.target)} at level {report.level}", "",
             "| Level | Score |", "|---|---|"]
    lines += [f"| {level} | {score.text()} |" for level, score in levels.items()]
    lines += ["", "| Control family | Score |", "|---|---|"]
    lines += [f"| {family} | {score.text()} |" for family, score in by_family.items()]
    lines += ["", "| Check | Status | Level | NIST | Evidence | Fix |", "|---|---|---|---|---|---|"]
    for f in report.findings:
        fix = "" if f.status == "pass" else _md(f.check.fix)
        lines.append(f"| {f.check.id} {_md(f.check.title)} | {_status(f.status)} | "
                     f"{f.check.level} | {f.check.nist} | {_md(evidence(f))} | {fix} |")
    lines += _not_checked_md(report)
    lines += [f"\n> warning: {_md(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def _not_checked_md(report: LintReport) -> list[str]:
    items = not_checked(report)
    if not items:
        return []
    lines = ["", f"## {NOT_CHECKED}: {len(items)} check(s)", "",
             "> **hullguard could not verify these through the API. They are neither passed "
             "nor failed: verify each by hand.**", ""]
    return lines + [f"- **{i.check.id} {_md(i.check.title)}** ({i.check.level}, "
                    f"{i.check.nist}): {_md(i.evidence)}. Verify: {_md(i.verify)}"
                    for i in items]


_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
          "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
          ".fail{color:#b00020;font-weight:bold}.manual{color:#8a6d00;font-weight:bold}"
          ".pass{color:#1b5e20}.bar{background:#eee;width:200px;height:12px}"
          ".bar span{display:block;height:12px;background:#2e7d32}")


def _score_rows(title: str, table: dict[str, Score]) -> list[str]:
    rows = [f"<h2>{title}</h2><table><tr><th></th><th>score</th><th></th></tr>"]
    for name, score in table.items():
        width = score.percent or 0
        rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(score.text())}</td>"
                    f"<td><div class=\"bar\"><span style=\"width:{width}%\"></span></div></td>"
                    "</tr>")
    return [*rows, "</table>"]


def to_html(report: LintReport) -> str:
    levels, by_family = scores(report)
    target = html.escape(printable(report.target))
    parts = ["<!DOCTYPE html><html><head><meta charset=\"utf-8\">",
             f"<title>Posture of {target}</title><style>{_STYLE}</style></head><body>",
             f"<h1>Posture of {target} at level {report.level}</h1>"]
    parts += _score_rows("Score per level", levels)
    parts += _score_rows("Score per control family", by_family)
    parts.append("<h2>Checks</h2><table><tr><th>check</th><th>status</th><th>level</th>"
                 "<th>NIST</th><th>evidence</th><th>fix</th></tr>")
    for f in report.findings:
        fix = "" if f.status == "pass" else html.escape(printable(f.check.fix))
        parts.append(f"<tr><td>{f.check.id} {html.escape(f.check.title)}</td>"
                     f"<td class=\"{f.status}\">{_status(f.status)}</td><td>{f.check.level}</td>"
                     f"<td>{html.escape(f.check.nist)}</td>"
                     f"<td>{html.escape(printable(evidence(f)))}</td><td>{fix}</td></tr>")
    parts.append("</table>")
    parts += _not_checked_html(report)
    parts += [f"<p>warning: {html.escape(printable(w))}</p>" for w in report.warnings]
    return "\n".join(parts) + "\n</body></html>\n"


def _not_checked_html(report: LintReport) -> list[str]:
    items = not_checked(report)
    if not items:
        return []
    rows = [f"<h2 class=\"manual\">{NOT_CHECKED}: {len(items)} check(s)</h2>",
            "<p class=\"manual\">hullguard could not verify these through the API. They are "
            "neither passed nor failed: verify each by hand.</p>",
            "<table><tr><th>check</th><th>level</th><th>NIST</th><th>why</th><th>verify</th>"
            "</tr>"]
    rows += [f"<tr><td>{i.check.id} {html.escape(i.check.title)}</td><td>{i.check.level}</td>"
             f"<td>{html.escape(i.check.nist)}</td><td>{html.escape(printable(i.evidence))}</td>"
             f"<td>{html.escape(i.verify)}</td></tr>" for i in items]
    return [*rows, "</table>"]


def render(report: LintReport, fmt: str) -> str:
    writers = {"markdown": to_markdown, "html": to_html, "table": to_table, "json": to_json}
    return writers[fmt](report) if fmt in writers else lint_report.render(report, fmt)
