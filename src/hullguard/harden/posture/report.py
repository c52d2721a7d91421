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
        lines.append(f"| {f.check.id} {_md(f.check.title)} | {f.status.upper()} | "
                     f"{f.check.level} | {f.check.nist} | {_md(evidence(f))} | {fix} |")
    lines += [f"\n> warning: {_md(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


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
                     f"<td class=\"{f.status}\">{f.status.upper()}</td><td>{f.check.level}</td>"
                     f"<td>{html.escape(f.check.nist)}</td>"
                     f"<td>{html.escape(printable(evidence(f)))}</td><td>{fix}</td></tr>")
    parts.append("</table>")
    parts += [f"<p>warning: {html.escape(printable(w))}</p>" for w in report.warnings]
    return "\n".join(parts) + "\n</body></html>\n"


def render(report: LintReport, fmt: str) -> str:
    if fmt == "markdown":
        return to_markdown(report)
    if fmt == "html":
        return to_html(report)
    return lint_report.render(report, fmt)
