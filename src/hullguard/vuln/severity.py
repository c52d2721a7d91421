"""Severity of a finding: the highest CVSS score wins, else the feeds' own rating.

Vectors (CVSS v2, v3.0/3.1, v4.0) are scored with the ``cvss`` library; the scoring function is
shared with the importers (:func:`hullguard.vuln.importers.cvssutil.score_vector`, written for
``db import``) so that one place parses vectors. Selection rules:

1. Every CVSS score known for any id of the finding (the records' own vectors and NVD's, by
   alias) competes; the highest base score wins, ties go to the newer CVSS version.
2. The finding's severity is that score's rating. With no CVSS at all, the highest rating any
   feed gave (GHSA ``moderate``, a distro's ``low``, ...) is used; else ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterable

from hullguard.model import Advisory, CvssScore, Severity
from hullguard.vuln.importers.cvssutil import score_vector

__all__ = ["best_cvss", "finding_severity", "score_vector"]


def _version_rank(score: CvssScore) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in score.version.split("."))
    except ValueError:
        return (0,)


def best_cvss(scores: Iterable[CvssScore]) -> CvssScore | None:
    """The highest base score; on a tie the newest CVSS version, then the vector text."""
    return max(scores, key=lambda s: (s.score, _version_rank(s), s.vector), default=None)


def finding_severity(advisories: Iterable[Advisory],
                     extra_cvss: Iterable[CvssScore] = ()) -> tuple[Severity, CvssScore | None]:
    """``(severity, cvss)`` for a finding merged from ``advisories`` (see module rules)."""
    records = list(advisories)
    best = best_cvss([*extra_cvss, *(s for a in records for s in a.cvss)])
    if best is not None and best.severity is not Severity.UNKNOWN:
        return best.severity, best
    rated = max((a.severity for a in records), default=Severity.UNKNOWN)
    return rated, best
