"""The priority matrix (documented in the package docstring) and its application to a fleet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hullguard.errors import InputError
from hullguard.model import Finding, Severity
from hullguard.model.inventory import Criticality, Environment, Exposure, Workload
from hullguard.model.triage import Exploitability, Priority, TriageItem

_CRITICALITY_POINTS = {Criticality.CRITICAL: 3, Criticality.HIGH: 2, Criticality.MEDIUM: 1,
                       Criticality.UNKNOWN: 1, Criticality.LOW: 0}
_EXPLOIT_POINTS = {Exploitability.EASY: 3, Exploitability.MODERATE: 1, Exploitability.HARD: 0}
_ENVIRONMENT_POINTS = {Environment.PRODUCTION: 1, Environment.STAGING: 0,
                       Environment.UNKNOWN: 0, Environment.DEVELOPMENT: -2}
_THRESHOLDS = ((8, Priority.P0), (6, Priority.P1), (3, Priority.P2))
EPSS_EASY, EPSS_MODERATE = 0.1, 0.01


@dataclass(frozen=True)
class Sla:
    """Hours to fix per priority; None means "next cycle" (no fixed deadline)."""

    hours: Mapping[Priority, int | None] = field(default_factory=lambda: {
        Priority.P0: 6, Priority.P1: 24, Priority.P2: 7 * 24, Priority.P3: None})

    def deadline(self, priority: Priority, now: datetime) -> str:
        hours = self.hours.get(priority)
        if hours is None:
            return "next cycle"
        return (now + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%MZ")


DEFAULT_SLA = Sla()
_DURATION_UNITS = {"h": 1, "d": 24, "w": 24 * 7}


def parse_sla(text: str) -> Sla:
    """``P0=4h,P1=1d,P2=2w,P3=none``: hours per priority (h, d or w); unnamed ones keep the
    default; ``none`` means "next cycle"."""
    hours = dict(DEFAULT_SLA.hours)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        try:
            priority = Priority(name.strip().upper())
            hours[priority] = _hours(value.strip().lower())
        except (ValueError, KeyError):
            raise InputError(f"{item!r} is not PRIORITY=DURATION (e.g. P0=6h, P2=7d, P3=none)",
                             where="--sla") from None
    return Sla(hours)


def _hours(value: str) -> int | None:
    if value == "none":
        return None
    number, unit = int(value[:-1]), _DURATION_UNITS[value[-1]]
    if number <= 0:
        raise ValueError(value)
    return number * unit


@dataclass(frozen=True)
class Context:
    """Where an image runs, as triage sees it."""

    criticality: Criticality = Criticality.UNKNOWN
    exposure: Exposure = field(default_factory=Exposure)
    environment: Environment = Environment.UNKNOWN
    workload: str = ""

    @classmethod
    def of(cls, workload: Workload) -> Context:
        return cls(workload.criticality, workload.exposure, workload.environment, workload.key)


def exploitability(finding: Finding) -> tuple[Exploitability, str]:
    """How easy exploitation is, from KEV, EPSS, CVSS and whether a fix exists, with why."""
    if finding.kev is not None:
        return Exploitability.EASY, f"in KEV since {finding.kev.date_added}"
    epss = finding.epss.score if finding.epss else 0.0
    network = bool(finding.cvss and "AV:N" in finding.cvss.vector)
    if epss >= EPSS_EASY:
        return Exploitability.EASY, f"EPSS {epss:.2f}"
    if finding.severity >= Severity.CRITICAL and network:
        return _unless_unfixed(finding, Exploitability.EASY, "critical, network-exploitable")
    if finding.severity >= Severity.HIGH or epss >= EPSS_MODERATE or (
            finding.severity >= Severity.MEDIUM and network):
        return _unless_unfixed(finding, Exploitability.MODERATE, f"{finding.severity}")
    return Exploitability.HARD, f"{finding.severity}"


def _unless_unfixed(finding: Finding, level: Exploitability, why: str) -> tuple[
        Exploitability, str]:
    # With no fix released the flaw is less well documented (no patch diff to study), so an
    # unfixed finding not in KEV and without a high EPSS counts one level lower.
    if finding.has_fix:
        return level, why
    lower = Exploitability.MODERATE if level is Exploitability.EASY else Exploitability.HARD
    return lower, f"{why}, no fix yet"


def prioritize_finding(finding: Finding, context: Context) -> tuple[Priority, Exploitability,
                                                                     str]:
    """The priority of one finding where it runs, and its one-line explanation."""
    level, why = exploitability(finding)
    points = (_CRITICALITY_POINTS[context.criticality] + _EXPLOIT_POINTS[level]
              + (2 if context.exposure.internet_facing else 0)
              + _ENVIRONMENT_POINTS[context.environment])
    priority = next((p for limit, p in _THRESHOLDS if points >= limit), Priority.P3)
    if context.criticality is Criticality.LOW and context.environment is \
            Environment.DEVELOPMENT:
        priority = Priority.P3
    if finding.kev is not None and context.exposure.internet_facing:
        priority = min(priority, Priority.P1, key=lambda p: p.rank)
    return priority, level, _reason(priority, finding, why, context)


def _reason(priority: Priority, finding: Finding, why: str, context: Context) -> str:
    fix = f"fix {finding.fixed_versions[0]}" if finding.fixed_versions else "no fix"
    parts = [f"{priority}: {finding.id} in {finding.package.name} {finding.package.version} "
             f"({why}; {fix})", str(context.exposure),
             f"criticality {context.criticality}", f"environment {context.environment}"]
    return "; ".join(parts)


def _worst(findings: Iterable[Finding], context: Context) -> tuple[
        Priority, Exploitability, str, Finding] | None:
    best: tuple[Priority, Exploitability, str, Finding] | None = None
    for finding in findings:
        priority, level, reason = prioritize_finding(finding, context)
        key = (priority.rank, -finding.severity, finding.id)
        if best is None or key < (best[0].rank, -best[3].severity, best[3].id):
            best = (priority, level, reason, finding)
    return best


def triage(findings_by_image: Mapping[str, Sequence[Finding]],
           workloads_by_image: Mapping[str, Sequence[Workload]],
           now: datetime, sla: Sla = DEFAULT_SLA) -> list[TriageItem]:
    """One item per (image, workload) with findings; images no workload runs get one item
    with an unknown context. Sorted most urgent first."""
    items = []
    for image, findings in findings_by_image.items():
        contexts = [Context.of(w) for w in workloads_by_image.get(image, ())] or [Context()]
        for context in contexts:
            worst = _worst(findings, context)
            if worst is None:
                continue
            priority, level, reason, finding = worst
            items.append(TriageItem(priority, image, context.workload, finding.id,
                                    finding.package.name, level,
                                    sla.deadline(priority, now), reason, len(findings)))
    return sorted(items, key=lambda i: (i.priority.rank, i.image, i.workload))
