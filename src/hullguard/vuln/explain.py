"""``explain ID IMAGE``: which record, which affected range and which version comparison made
a vulnerability match a package, with its severity data, and for every other record with the
id or alias (one per distro branch, per feed) why it did or did not match this image."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hullguard.errors import InputError
from hullguard.model import Advisory, Affected, Finding, MatchExplanation, Package, Sbom
from hullguard.vuln.db import VulnDB
from hullguard.vuln.match import (
    BadBound,
    affected_rules,
    ecosystems_for,
    installed_version,
)
from hullguard.vuln.report.native import finding_dict
from hullguard.vuln.scan import match

MAX_VERDICTS = 20  # lines per record: a record can list hundreds of packages


@dataclass(frozen=True)
class Verdict:
    """One record in the database and why it does or does not apply to the image."""

    record: Advisory
    matched: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    vuln_id: str
    image: str
    findings: tuple[Finding, ...]
    records: tuple[Advisory, ...]  # every distinct record with this id or alias, once
    sbom: Sbom
    ranges: dict[str, list[str]] = field(default_factory=dict)  # advisory id -> ranges
    verdicts: tuple[Verdict, ...] = ()


def explain(vuln_id: str, sbom: Sbom, db: VulnDB) -> Explanation:
    findings, _unparseable = match(sbom, db)
    hits = tuple(f for f in findings if vuln_id in (f.id, *f.aliases))
    records = list(db.advisories(vuln_id))
    for finding in hits:
        for name in (finding.id, *finding.aliases):
            records += db.advisories(name)
    # A record is kept once however many ids led to it; records of several distro branches
    # (same id, different content) are all kept.
    distinct = tuple(dict.fromkeys(records))
    ranges: dict[str, list[str]] = {}
    for explanation in (e for f in hits for e in f.explanations):
        found = ranges.setdefault(explanation.advisory_id, [])
        found += [r for r in _ranges_for(explanation, distinct) if r not in found]
    verdicts = tuple(verdict(record, sbom) for record in distinct)
    return Explanation(vuln_id, sbom.image.name, hits, distinct, sbom, ranges, verdicts)


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


def _ranges_for(explanation: MatchExplanation, records: tuple[Advisory, ...]) -> list[str]:
    out: list[str] = []
    for record in records:
        if record.id != explanation.advisory_id or record.source != explanation.source:
            continue
        for affected in record.affected:
            if affected.ecosystem == explanation.ecosystem and (
                    affected.name.lower() == explanation.matched_name.lower()):
                out += [r for r in _describe(affected) if r not in out]
    return out


# ---------------------------------------------------------------------------- verdicts

def verdict(record: Advisory, sbom: Sbom) -> Verdict:
    """Why ``record`` matches the image's packages, or why not (per affected entry)."""
    if record.withdrawn:
        return Verdict(record, False, (f"withdrawn {record.withdrawn}: never matches",))
    image_ecosystems = {t[0] for p in sbom.packages for t in ecosystems_for(p, sbom.distro)}
    reasons: list[str] = []
    matched = False
    foreign: set[str] = set()
    for affected in record.affected:
        if affected.ecosystem not in image_ecosystems:
            foreign.add(affected.ecosystem)
            continue
        hit, lines = _entry_verdict(affected, sbom)
        matched |= hit
        reasons += lines
    if foreign:
        reasons.append(f"for {', '.join(sorted(foreign)[:5])}: not an ecosystem of this image "
                       f"({', '.join(sorted(image_ecosystems)[:5]) or 'none'})")
    if not record.affected:
        reasons.append("lists no affected packages")
    return Verdict(record, matched, tuple(reasons[:MAX_VERDICTS]))


def _installed(affected: Affected, sbom: Sbom) -> list[tuple[Package, str]]:
    """Packages of the image this entry names, with the version compared for each."""
    out = []
    for package in sbom.packages:
        for ecosystem, name, by_source in ecosystems_for(package, sbom.distro):
            if ecosystem == affected.ecosystem and name.lower() == affected.name.lower() and (
                    by_source == affected.by_source):
                out.append((package, installed_version(package, by_source)))
    return out


def _entry_verdict(affected: Affected, sbom: Sbom) -> tuple[bool, list[str]]:
    installed = _installed(affected, sbom)
    if not installed:
        return False, [f"{affected.ecosystem} {affected.name}: not installed in this image"]
    lines, matched = [], False
    for package, version in installed:
        try:
            rules = affected_rules(affected, version)
        except (InputError, BadBound) as error:
            lines.append(f"{package.name} {version}: cannot compare ({error})")
            continue
        matched |= bool(rules)
        lines.append(f"{package.name} {version}: affected ({'; '.join(rules)})" if rules else
                     f"{package.name} {version}: outside the affected ranges "
                     f"({'; '.join(_describe(affected)) or 'no ranges'})")
    return matched, lines


# ---------------------------------------------------------------------------- rendering

def _record_dict(verdict: Verdict) -> dict[str, Any]:
    record = verdict.record
    return {"id": record.id, "source": record.source, "aliases": list(record.aliases),
            "withdrawn": record.withdrawn, "matched": verdict.matched,
            "reasons": list(verdict.reasons),
            "packages": sorted({f"{a.ecosystem} {a.name}" for a in record.affected})[:50]}


def to_dict(result: Explanation) -> dict[str, Any]:
    return {
        "id": result.vuln_id, "image": result.image, "affected": bool(result.findings),
        "findings": [finding_dict(f, result.sbom) for f in result.findings],
        "ranges": result.ranges,
        "records": [_record_dict(v) for v in result.verdicts],
    }


def render_json(result: Explanation) -> str:
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False) + "\n"


def render_text(result: Explanation) -> str:
    if not result.records:
        return f"{result.vuln_id}: no record with this id or alias in the database\n"
    lines = []
    for finding in result.findings:
        lines += _finding_lines(finding, result)
    if not result.findings:
        lines.append(f"{result.vuln_id} does not affect any package of {result.image}")
    lines += _verdict_lines(result)
    return "\n".join(lines) + "\n"


def _finding_lines(finding: Finding, result: Explanation) -> list[str]:
    package = finding.package
    layer = finding_dict(finding, result.sbom)["layer"]
    source = f" [from {finding.severity_source}]" if finding.severity_source else ""
    lines = [f"{finding.id} affects {package.name} {package.version} ({package.purl})",
             f"  summary:   {finding.summary or '-'}",
             f"  aliases:   {', '.join(finding.aliases) or '-'}",
             f"  severity:  {finding.severity}"
             + (f" (CVSS {finding.cvss.version} {finding.cvss.score} {finding.cvss.vector})"
                if finding.cvss else "") + source,
             "  epss:      " + (f"{finding.epss.score:.5f} (percentile "
                                 f"{finding.epss.percentile:.3f})" if finding.epss else "-"),
             "  kev:       " + (f"added {finding.kev.date_added}" if finding.kev else "-"),
             f"  fixed in:  {', '.join(finding.fixed_versions) or 'no fix yet'}",
             f"  layer:     {layer['diff_id'] or '-'} {layer['created_by']}".rstrip()]
    # One block per matched record (a record can match through several affected entries,
    # e.g. a secdb listing one CVE under two fixed versions), each comparison once.
    blocks: dict[tuple[str, str, str, str], list[str]] = {}
    for e in finding.explanations:
        rules = blocks.setdefault((e.advisory_id, e.source, e.ecosystem, e.matched_name), [])
        rule = f"    installed {e.installed_version}: {e.rule}"
        if rule not in rules:
            rules.append(rule)
    for (advisory_id, source, ecosystem, name), rules in blocks.items():
        lines.append(f"  matched record {advisory_id} (source {source}) as {ecosystem} {name}")
        lines += rules
        lines += [f"    range {text}" for text in result.ranges.get(advisory_id, [])
                  if text.startswith(f"{ecosystem} {name}:")]
    return lines


def _verdict_lines(result: Explanation) -> list[str]:
    lines = ["  records in the database:"]
    for v in result.verdicts:
        branches = sorted({a.ecosystem for a in v.record.affected})
        where = f" [{', '.join(branches[:6])}]" if branches else ""
        state = "matches" if v.matched else "does not match"
        lines.append(f"    {v.record.id} ({v.record.source}){where}: {state}")
        lines += [f"      {reason}" for reason in v.reasons]
    return lines
