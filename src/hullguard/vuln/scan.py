"""The scan pipeline after cataloging: match -> enrich -> suppress -> filter.

``scan_sbom`` is pure with respect to its inputs (an SBOM and an open database), so ``scan``,
``rescan`` and ``explain`` share it; cataloging and output happen at the edges.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hullguard.model import Finding, Package, Sbom, Severity
from hullguard.vuln.coverage import SourceCoverage, image_coverage, skipped_content, uncovered
from hullguard.vuln.db import VulnDB
from hullguard.vuln.ignore import IgnoreRule, load_ignore_file, today
from hullguard.vuln.vex import VexStatement, load_vex


@dataclass(frozen=True)
class ScanOptions:
    severities: frozenset[Severity] = frozenset()  # empty: all
    ignore_unfixed: bool = False
    vex: tuple[VexStatement, ...] = ()
    ignore: tuple[IgnoreRule, ...] = ()
    today: date | None = None  # for expiry checks; None = today (UTC)


@dataclass(frozen=True)
class ScanReport:
    sbom: Sbom
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...] = ()  # each with ``suppressed_by`` set
    unparseable: tuple[Any, ...] = ()  # from the matcher: versions it could not order
    warnings: tuple[str, ...] = ()
    filtered: int = 0  # dropped by --severity / --ignore-unfixed
    db: dict[str, Any] = field(default_factory=dict)
    matched: tuple[Finding, ...] = ()  # everything matched, before suppressions and filters
    coverage: tuple[SourceCoverage, ...] = ()  # per package source: could the DB check it?

    @property
    def uncovered(self) -> list[SourceCoverage]:
        return uncovered(self.coverage)

    @property
    def skipped(self) -> list[str]:
        """Content the catalog could not read: the image was only partly checked."""
        return skipped_content(self.sbom)

    @property
    def kept_and_suppressed(self) -> tuple[Finding, ...]:
        return self.matched or (*self.findings, *self.suppressed)

    def at_or_above(self, level: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity >= level]


def load_suppressions(vex_paths: Iterable[Path], ignore_file: Path | None
                      ) -> tuple[tuple[VexStatement, ...], tuple[IgnoreRule, ...], list[str]]:
    statements, warnings = [], []
    for path in vex_paths:
        found, notes = load_vex(path)
        statements += found
        warnings += notes
    rules = load_ignore_file(ignore_file) if ignore_file else []
    return tuple(statements), tuple(rules), warnings


def match(sbom: Sbom, db: VulnDB, cache: MatchCache | None = None
          ) -> tuple[list[Finding], list[Any]]:
    """The matcher (hullguard.vuln.match) over this database, enriched with CVSS/EPSS/KEV.
    With a ``cache``, packages already matched (in another SBOM) are not matched again."""
    from hullguard.vuln.match import match_sbom

    if cache is None:
        result = match_sbom(sbom, db.advisories_for, db.enrich)
        return list(result.findings), list(result.unparseable)
    return cache.match(sbom, lambda s: match_sbom(s, db.advisories_for, db.enrich))


def _identity(package: Package) -> tuple[Any, ...]:
    """What matching depends on: everything but where the package was found."""
    return (package.type, package.name, package.version, package.purl, package.source_name,
            package.source_version, package.owned_by, package.arch, package.metadata)


class MatchCache:
    """Findings per (distro, package identity), for matching many SBOMs against one database
    (``rescan``): fleets share base images, so most packages repeat. Matching one package does
    not depend on the rest of its SBOM, so cached findings are re-bound to each package."""

    def __init__(self) -> None:
        self._done: dict[tuple[Any, ...], tuple[list[Finding], list[Any]]] = {}

    def match(self, sbom: Sbom, run: Callable[[Sbom], Any]) -> tuple[list[Finding], list[Any]]:
        keys = [(sbom.distro, _identity(p)) for p in sbom.packages]
        todo = {k: p for k, p in zip(keys, sbom.packages, strict=True) if k not in self._done}
        if todo:
            self._fill(sbom, todo, run)
        findings, problems = [], []
        for key, package in zip(keys, sbom.packages, strict=True):
            found, bad = self._done[key]
            findings += [dataclasses.replace(f, package=package) for f in found]
            problems += [p._replace(package=package) for p in bad]
        return findings, problems

    def _fill(self, sbom: Sbom, todo: dict[tuple[Any, ...], Package],
              run: Callable[[Sbom], Any]) -> None:
        result = run(dataclasses.replace(sbom, packages=tuple(todo.values())))
        by_package: dict[int, tuple[list[Finding], list[Any]]] = {
            id(p): ([], []) for p in todo.values()}
        for finding in result.findings:
            by_package[id(finding.package)][0].append(finding)
        for problem in result.unparseable:
            by_package[id(problem.package)][1].append(problem)
        for key, package in todo.items():
            self._done[key] = by_package[id(package)]


def scan_sbom(sbom: Sbom, db: VulnDB, options: ScanOptions | None = None) -> ScanReport:
    options = options or ScanOptions()
    findings, unparseable = match(sbom, db)
    kept, suppressed, warnings = suppress(findings, sbom, options)
    shown = [f for f in kept if _passes(f, options)]
    return ScanReport(sbom, tuple(sort_findings(shown)), tuple(sort_findings(suppressed)),
                      tuple(unparseable), tuple(warnings), len(kept) - len(shown),
                      db=database_info(db), matched=tuple(sort_findings([*kept, *suppressed])),
                      coverage=image_coverage(sbom, db))


def database_info(db: VulnDB) -> dict[str, Any]:
    """What the report says about the data it used: path, sources, age."""
    return {"path": str(db.path), "oldest_age_days": db.oldest_age_days(),
            "sources": [{"name": s.name, "records": s.records, "imported_at": s.imported_at}
                        for s in db.sources()]}


def _passes(finding: Finding, options: ScanOptions) -> bool:
    if options.severities and finding.severity not in options.severities:
        return False
    return not (options.ignore_unfixed and not finding.has_fix)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity, f.package.name, f.package.version,
                                           f.id, f.package.key))


def suppress(findings: Sequence[Finding], sbom: Sbom, options: ScanOptions
             ) -> tuple[list[Finding], list[Finding], list[str]]:
    """Split findings into kept and suppressed (VEX first, then the ignore file)."""
    day = options.today or today()
    active = [rule for rule in options.ignore if not rule.expired(day)]
    warnings = [f"ignore rule {rule.id} ({rule.origin}) expired on {rule.expires}; "
                "it no longer suppresses" for rule in options.ignore if rule.expired(day)]
    kept, suppressed = [], []
    for finding in findings:
        reason = _suppression(finding, sbom, options.vex, active)
        if reason:
            suppressed.append(dataclasses.replace(finding, suppressed_by=reason))
        else:
            kept.append(finding)
    return kept, suppressed, warnings


def _suppression(finding: Finding, sbom: Sbom, vex: Sequence[VexStatement],
                 rules: Sequence[IgnoreRule]) -> str:
    for statement in vex:
        if statement.applies(finding, sbom.image):
            return statement.describe()
    for rule in rules:
        if rule.applies(finding):
            return rule.describe()
    return ""
