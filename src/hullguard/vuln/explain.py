"""``explain ID IMAGE``: which record, which affected range and which version comparison made
a vulnerability match a package, with its severity data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hullguard.model import Advisory, Affected, Finding, MatchExplanation, Sbom
from hullguard.vuln.db import VulnDB
from hullguard.vuln.report.native import finding_dict
from hullguard.vuln.scan import match


@dataclass(frozen=True)
class Explanation:
    vuln_id: str
    image: str
    findings: tuple[Finding, ...]
    records: tuple[Advisory, ...]  # every record in the database with this id or alias
    sbom: Sbom
    ranges: dict[str, list[str]] = field(default_factory=dict)  # advisory id -> ranges


def explain(vuln_id: str, sbom: Sbom, db: VulnDB) -> Explanation:
    findings, _unparseable = match(sbom, db)
    hits = tuple(f for f in findings if vuln_id in (f.id, *f.aliases))
    records = {(a.source, a.id): a for a in db.advisories(vuln_id)}
    for finding in hits:
        for name in (finding.id, *finding.aliases):
            records.update({(a.source, a.id): a for a in db.advisories(name)})
    ranges = {e.advisory_id: _ranges_for(e, list(records.values()))
              for f in hits for e in f.explanations}
    return Explanation(vuln_id, sbom.image.name, hits, tuple(records.values()), sbom, ranges)


def _describe(affected: Affected) -> list[str]:
    out = []
    for rng in affected.ranges:
        events = ", ".join(f"{k} {v}" for e in rng.events
                           for k, v in vars(e).items() if v)
        out.append(f"{affected.ecosystem} {affected.name}: {rng.type} [{events}]")
    if affected.versions:
        shown = ", ".join(affected.versions[:8])
        more = f" (+{len(affected.versions) - 8} more)" if len(affected.versions) > 8 else ""
        out.append(f"{affected.ecosystem} {affected.name}: versions [{shown}{more}]")
    return out


def _ranges_for(explanation: MatchExplanation, records: list[Advisory]) -> list[str]:
    out = []
    for record in records:
        if record.id != explanation.advisory_id or record.source != explanation.source:
            continue
        for affected in record.affected:
            if affected.ecosystem == explanation.ecosystem and (
                    affected.name.lower() == explanation.matched_name.lower()):
                out += _describe(affected)
    return out


def to_dict(result: Explanation) -> dict[str, Any]:
    return {
        "id": result.vuln_id, "image": result.image, "affected": bool(result.findings),
        "findings": [finding_dict(f, result.sbom) for f in result.findings],
        "ranges": result.ranges,
        "records": [{"id": r.id, "source": r.source, "aliases": list(r.aliases),
                     "withdrawn": r.withdrawn, "packages": sorted(
                         {f"{a.ecosystem} {a.name}" for a in r.affected})[:50]}
                    for r in result.records],
    }


def render_json(result: Explanation) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"


def render_text(result: Explanation) -> str:
    if not result.findings:
        return _not_found(result)
    lines = []
    for finding in result.findings:
        lines += _finding_lines(finding, result)
    return "\n".join(lines) + "\n"


def _finding_lines(finding: Finding, result: Explanation) -> list[str]:
    package = finding.package
    layer = finding_dict(finding, result.sbom)["layer"]
    lines = [f"{finding.id} affects {package.name} {package.version} ({package.purl})",
             f"  summary:   {finding.summary or '-'}",
             f"  aliases:   {', '.join(finding.aliases) or '-'}",
             f"  severity:  {finding.severity}"
             + (f" (CVSS {finding.cvss.version} {finding.cvss.score} {finding.cvss.vector})"
                if finding.cvss else ""),
             "  epss:      " + (f"{finding.epss.score:.5f} (percentile "
                                 f"{finding.epss.percentile:.3f})" if finding.epss else "-"),
             "  kev:       " + (f"added {finding.kev.date_added}" if finding.kev else "-"),
             f"  fixed in:  {', '.join(finding.fixed_versions) or 'no fix yet'}",
             f"  layer:     {layer['diff_id'] or '-'} {layer['created_by']}".rstrip()]
    for explanation in finding.explanations:
        lines += [f"  matched record {explanation.advisory_id} (source {explanation.source}) "
                  f"as {explanation.ecosystem} {explanation.matched_name}",
                  f"    installed {explanation.installed_version}: {explanation.rule}"]
        lines += [f"    range {text}" for text in result.ranges.get(explanation.advisory_id, [])]
    return lines


def _not_found(result: Explanation) -> str:
    if not result.records:
        return f"{result.vuln_id}: no record with this id or alias in the database\n"
    lines = [f"{result.vuln_id} does not affect any package of {result.image}",
             "  records in the database:"]
    for record in result.records:
        names = sorted({f"{a.ecosystem} {a.name}" for a in record.affected})
        state = " (withdrawn)" if record.withdrawn else ""
        lines.append(f"    {record.id} ({record.source}){state}: {', '.join(names[:10])}")
    return "\n".join(lines) + "\n"
