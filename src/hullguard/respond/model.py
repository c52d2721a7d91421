"""What one ``respond`` run produces: per-image results, the priority queue, the blast radius."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from hullguard.graph.model import BlastRadius
from hullguard.model import Finding, Sbom, Severity
from hullguard.model.inventory import Environment, Inventory, Origin
from hullguard.model.problem import Problem
from hullguard.model.secret import SecretFinding
from hullguard.model.triage import Priority, TriageItem
from hullguard.vuln.coverage import SourceCoverage, skipped_content, uncovered


@dataclass(frozen=True)
class ImageResult:
    """One distinct image of the fleet: scanned (sbom set) or not scanned (problem set)."""

    name: str  # the normalized reference from the inventory
    source: str  # how it was acquired: a registry reference or a local source
    origin: Origin = Origin.INTERNAL
    sbom: Sbom | None = None
    findings: tuple[Finding, ...] = ()
    secrets: tuple[SecretFinding, ...] = ()
    problem: Problem | None = None  # why it could not be scanned (never reported as clean)
    base: str = ""  # the detected base image (longest indexed layer-chain prefix)
    reused: bool = False  # taken from an earlier run's journal (same verified image)
    warnings: tuple[str, ...] = ()  # e.g. an unusable journal entry that was ignored
    coverage: tuple[SourceCoverage, ...] = ()  # per package source: could the DB check it?

    @property
    def uncovered(self) -> list[SourceCoverage]:
        return uncovered(self.coverage)

    @property
    def skipped(self) -> list[str]:
        """Content the catalog could not read: only partly checked, never "clean"."""
        return skipped_content(self.sbom) if self.sbom else []

    @property
    def partly_checked(self) -> bool:
        return self.scanned and bool(self.uncovered or self.skipped)

    @property
    def error(self) -> str:
        """The problem as the one line (plus hint) the CLI and findings.json show."""
        return self.problem.text if self.problem else ""

    @property
    def scanned(self) -> bool:
        return self.sbom is not None and self.problem is None

    @property
    def digest(self) -> str:
        if self.sbom and self.sbom.image.digest:
            return str(self.sbom.image.digest)
        if self.sbom and self.sbom.image.config_digest:
            return str(self.sbom.image.config_digest)
        return ""

    def severity_counts(self) -> Counter[Severity]:
        return Counter(f.severity for f in self.findings)


@dataclass(frozen=True)
class FollowUp:
    """A step respond ran on the incident it wrote (containment, remediation): the folder
    inside the incident folder and its entry file (relative paths), or why it failed."""

    title: str  # "Containment", "Remediation"
    folder: str  # "containment"
    entry: str = ""  # "containment/CONTAINMENT.md"; "" when the step failed
    summary: str = ""
    error: str = ""


@dataclass(frozen=True)
class FirstPull:
    """The first pull of a fleet image's digest in the ingested logs."""

    image: str
    digest: str
    first: str  # ISO time, UTC
    by: str  # actor / client address / user agent of the earliest pull
    count: int  # pulls of the digest in the logs


@dataclass(frozen=True)
class LogAnomaly:
    kind: str  # burst, new-pusher, tag-moved, off-hours (forensics push-anomalies)
    subject: str
    detail: str
    first: str
    last: str
    count: int


@dataclass(frozen=True)
class IocHit:
    """An indicator of compromise found in a fleet image or an ingested log."""

    target: str  # the image, or "logs"
    path: str  # file path, config field, or log file:line
    state: str  # visible, deleted, overwritten, config, log
    indicator: str
    detail: str = ""


@dataclass(frozen=True)
class IocIndicator:
    """One indicator that hit, joined to the fleet and the timeline (forensics/joins.py)."""

    indicator: str
    images: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()  # namespace/Kind/name running those images
    log_records: int = 0
    first_seen: str = ""  # ISO time, UTC; "" when no ingested event names it
    first_seen_by: str = ""


@dataclass(frozen=True)
class ForensicsSummary:
    """What respond's forensics step found in the logs it ingested (``forensics/``)."""

    database: str = ""  # relative path of the case database; "" when the step failed
    events: int = 0
    files: tuple[str, ...] = ()  # one line per ingested file
    first_pulls: tuple[FirstPull, ...] = ()
    not_pulled: tuple[str, ...] = ()  # images with findings whose digest no log pulls
    anomalies: tuple[LogAnomaly, ...] = ()
    error: str = ""
    ioc_searched: tuple[str, ...] = ()  # what --iocs/--yara searched (images, "logs")
    ioc_hits: tuple[IocHit, ...] = ()
    ioc_warnings: tuple[str, ...] = ()
    ioc_indicators: tuple[IocIndicator, ...] = ()


@dataclass(frozen=True)
class Incident:
    id: str
    declared_at: datetime
    inputs: tuple[str, ...]
    inventory: Inventory
    images: tuple[ImageResult, ...]
    triage: tuple[TriageItem, ...] = ()
    blast: BlastRadius | None = None
    database: str = ""  # which advisory data was used
    warnings: tuple[str, ...] = field(default=())
    follow_ups: tuple[FollowUp, ...] = ()
    forensics: ForensicsSummary | None = None

    @property
    def severity(self) -> str:
        """SEV-1 when anything is P0, SEV-2 for P1, SEV-3 otherwise."""
        worst = min((item.priority.rank for item in self.triage), default=3)
        return {0: "SEV-1", 1: "SEV-2"}.get(worst, "SEV-3")

    def priority_counts(self) -> Counter[Priority]:
        return Counter(item.priority for item in self.triage)

    def severity_counts(self) -> Counter[Severity]:
        total: Counter[Severity] = Counter()
        for image in self.images:
            total.update(image.severity_counts())
        return total

    def origin_counts(self) -> Counter[Origin]:
        return Counter(image.origin for image in self.images)

    def production_workloads(self) -> int:
        return sum(1 for w in self.inventory.workloads
                   if w.environment is Environment.PRODUCTION)

    def partly_checked(self) -> list[ImageResult]:
        """Scanned images with packages that went unchecked (no advisory data, skipped
        content): they must not read as clean."""
        return [image for image in self.images if image.partly_checked]

    def unchecked_workloads(self) -> list[str]:
        """Workload keys running a partly checked image."""
        names = {image.name for image in self.partly_checked()}
        return sorted({key for image in self.inventory.images if image.ref.key in names
                       for key in image.workload_keys})

    def secrets(self) -> list[tuple[str, SecretFinding]]:
        return [(image.name, secret) for image in self.images for secret in image.secrets]
