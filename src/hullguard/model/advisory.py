"""Advisories (what feeds say) and findings (what matched in an image)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from hullguard.model.package import Package


class Severity(IntEnum):
    """Ordered so that comparisons work (``>= Severity.HIGH``)."""

    UNKNOWN = 0
    NEGLIGIBLE = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Lenient: feed ratings (``moderate``, ``important``) map to the nearest level."""
        aliases = {"moderate": "MEDIUM", "important": "HIGH", "none": "NEGLIGIBLE",
                   "minor": "LOW", "info": "NEGLIGIBLE"}
        name = aliases.get(text.strip().lower(), text.strip()).upper()
        return cls[name] if name in cls.__members__ else cls.UNKNOWN

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Event:
    """One OSV range event: exactly one of the fields is set."""

    introduced: str = ""
    fixed: str = ""
    last_affected: str = ""
    limit: str = ""


@dataclass(frozen=True)
class Range:
    type: str  # ECOSYSTEM, SEMVER, GIT
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Affected:
    """One affected package of an advisory (OSV ``affected[]``, or a distro feed entry).

    ``ecosystem`` follows OSV naming with the release after a colon for distros
    (``Alpine:v3.18``, ``Debian:12``, ``PyPI``, ``Go``, ``npm``). ``name`` is normalized for
    the ecosystem (PEP 503 for PyPI). For distro feeds keyed by source package,
    ``by_source`` is True and ``name`` is the source package name.
    """

    ecosystem: str
    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    by_source: bool = False


@dataclass(frozen=True)
class CvssScore:
    version: str  # "2.0", "3.1", "4.0"
    vector: str
    score: float
    severity: Severity


@dataclass(frozen=True)
class Advisory:
    id: str
    source: str  # feed name: osv, alpine-secdb, debian, ...
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    affected: tuple[Affected, ...] = ()
    cvss: tuple[CvssScore, ...] = ()
    severity: Severity = Severity.UNKNOWN  # the feed's own rating when it has one
    published: str = ""
    modified: str = ""
    withdrawn: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Epss:
    score: float
    percentile: float
    date: str = ""


@dataclass(frozen=True)
class Kev:
    date_added: str
    due_date: str = ""
    ransomware: bool = False


@dataclass(frozen=True)
class MatchExplanation:
    """Why a finding matched: the record, the range and the comparison that decided it."""

    advisory_id: str
    source: str
    ecosystem: str
    matched_name: str  # the binary or source name that matched
    installed_version: str
    rule: str  # e.g. "introduced 0 <= 2.19.1 < fixed 2.20.0" or "listed in versions"


@dataclass(frozen=True)
class Finding:
    """One vulnerability in one package of one image (aliases merged)."""

    id: str  # the preferred id (CVE when there is one)
    aliases: tuple[str, ...]
    package: Package
    severity: Severity
    fixed_versions: tuple[str, ...] = ()
    cvss: CvssScore | None = None
    epss: Epss | None = None
    kev: Kev | None = None
    summary: str = ""
    explanations: tuple[MatchExplanation, ...] = ()
    suppressed_by: str = ""  # VEX statement / ignore rule that removed it, when reported
    severity_source: str = ""  # which record/feed gave the severity (vuln.severity.Rated)

    @property
    def has_fix(self) -> bool:
        return bool(self.fixed_versions)
