"""Severity of a finding: the highest CVSS score wins, else the feeds' own rating, taken from
every source the database has for the finding's ids and aliases.

Vectors (CVSS v2, v3.0/3.1, v4.0) are scored with the ``cvss`` library; the scoring function is
shared with the importers (:func:`hullguard.vuln.importers.cvssutil.score_vector`, written for
``db import``) so that one place parses vectors. Sources, each recorded with the finding as
``severity_source``:

* the CVSS vectors of the matched records and of every other record whose id or alias is one
  of the finding's ids (an OSV ``severity`` list: a GHSA or PYSEC record, any ecosystem);
* NVD's CVSS for those ids (``nvd-*`` feeds);
* the feeds' own ratings of those records: GHSA ``database_specific.severity`` (OSV feeds),
  Debian's ``urgency`` (``debian`` feed, by CVE id).

Selection: the highest CVSS base score wins (ties go to the newer CVSS version); the finding's
severity is that score's rating. With no CVSS at all, the highest feed rating is used; else
``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hullguard.model import Advisory, CvssScore, Severity
from hullguard.vuln.importers.cvssutil import score_vector

__all__ = ["Rated", "best_cvss", "finding_severity", "rate", "ratings_of", "score_vector"]


@dataclass(frozen=True)
class Rated:
    """One severity statement and where it came from."""

    severity: Severity
    source: str  # e.g. "CVSS 3.1 in osv record GHSA-...", "urgency in debian record CVE-..."
    cvss: CvssScore | None = None


def _version_rank(score: CvssScore) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in score.version.split("."))
    except ValueError:
        return (0,)


def best_cvss(scores: Iterable[CvssScore]) -> CvssScore | None:
    """The highest base score; on a tie the newest CVSS version, then the vector text."""
    return max(scores, key=lambda s: (s.score, _version_rank(s), s.vector), default=None)


_RATING_NAMES = {"debian": "urgency", "osv": "database_specific.severity"}


def ratings_of(advisory: Advisory) -> list[Rated]:
    """Every severity statement one record makes (its CVSS vectors, its feed's rating)."""
    where = f"{advisory.source} record {advisory.id}"
    out = [Rated(s.severity, f"CVSS {s.version} in {where}", s) for s in advisory.cvss]
    if advisory.severity is not Severity.UNKNOWN:
        name = _RATING_NAMES.get(advisory.source, "rating")
        out.append(Rated(advisory.severity, f"{name} in {where}"))
    return out


def nvd_ratings(cve: str, scores: Iterable[CvssScore]) -> list[Rated]:
    return [Rated(s.severity, f"CVSS {s.version} from NVD for {cve}", s) for s in scores]


def rate(ratings: Iterable[Rated]) -> Rated:
    """The winning statement (see module rules); ``unknown`` with no source when none."""
    found = list(ratings)
    scored = [r for r in found if r.cvss is not None]
    best = best_cvss(r.cvss for r in scored if r.cvss is not None)
    if best is not None and best.severity is not Severity.UNKNOWN:
        return next(r for r in scored if r.cvss == best)
    rated = [r for r in found if r.cvss is None and r.severity is not Severity.UNKNOWN]
    if rated:
        return max(rated, key=lambda r: (r.severity, r.source))
    return Rated(Severity.UNKNOWN, "", best)


def finding_severity(advisories: Iterable[Advisory],
                     extra_cvss: Iterable[CvssScore] = ()) -> tuple[Severity, CvssScore | None]:
    """``(severity, cvss)`` for a finding merged from ``advisories`` (see module rules)."""
    ratings = [r for a in advisories for r in ratings_of(a)]
    ratings += [Rated(s.severity, f"CVSS {s.version}", s) for s in extra_cvss]
    winner = rate(ratings)
    return winner.severity, winner.cvss
