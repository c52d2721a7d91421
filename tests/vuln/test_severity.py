"""Severity selection: highest CVSS wins (vectors scored by the cvss library), else feed rating."""

from __future__ import annotations

import pytest

from hullguard.model import Advisory, CvssScore, Severity
from hullguard.vuln.severity import best_cvss, finding_severity, score_vector

V31_CRIT = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8 (NVD example)
V31_MED = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"  # 4.2
V2 = "AV:N/AC:L/Au:N/C:P/I:P/A:P"  # 7.5
V4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"  # 9.3


@pytest.mark.parametrize(("vector", "version", "score", "severity"), [
    (V31_CRIT, "3.1", 9.8, Severity.CRITICAL), (V31_MED, "3.1", 4.2, Severity.MEDIUM),
    (V2, "2.0", 7.5, Severity.HIGH), (V4, "4.0", 9.3, Severity.CRITICAL)])
def test_score_vector(vector: str, version: str, score: float, severity: Severity) -> None:
    scored = score_vector(vector)
    assert scored is not None
    assert (scored.version, scored.score, scored.severity, scored.vector) == \
        (version, score, severity, vector)


@pytest.mark.parametrize("vector", ["", "CVSS:3.1/AV:X", "garbage", "CVSS:4.0/AV:N"])
def test_bad_vectors_are_none(vector: str) -> None:
    assert score_vector(vector) is None


def _scored(vector: str) -> CvssScore:
    scored = score_vector(vector)
    assert scored is not None
    return scored


def test_highest_cvss_wins_and_ties_prefer_newer_version() -> None:
    assert best_cvss([_scored(V31_MED), _scored(V2), _scored(V31_CRIT)]) == _scored(V31_CRIT)
    v30 = CvssScore("3.0", "CVSS:3.0/x", 9.8, Severity.CRITICAL)
    assert best_cvss([v30, _scored(V31_CRIT)]) == _scored(V31_CRIT)
    assert best_cvss([]) is None


def test_finding_severity_prefers_cvss_over_feed_rating() -> None:
    rated_low = Advisory("DSA-1", "debian", severity=Severity.LOW, cvss=(_scored(V31_CRIT),))
    other = Advisory("GHSA-1", "ghsa", severity=Severity.MEDIUM, cvss=(_scored(V31_MED),))
    assert finding_severity([rated_low, other]) == (Severity.CRITICAL, _scored(V31_CRIT))


def test_extra_cvss_from_nvd_counts() -> None:
    record = Advisory("GO-1", "osv")
    assert finding_severity([record], [_scored(V2)]) == (Severity.HIGH, _scored(V2))


def test_feed_rating_without_cvss() -> None:
    records = [Advisory("A", "x", severity=Severity.LOW), Advisory("B", "y",
                                                                   severity=Severity.HIGH)]
    assert finding_severity(records) == (Severity.HIGH, None)
    assert finding_severity([Advisory("C", "z")]) == (Severity.UNKNOWN, None)
