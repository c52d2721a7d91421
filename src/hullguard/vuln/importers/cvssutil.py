"""CVSS vectors to scores with the ``cvss`` library (v2, v3.x, v4)."""

from __future__ import annotations

from hullguard.model import CvssScore, Severity


def _v2_severity(score: float) -> Severity:
    # CVSS v2 has no official rating; NVD's bands are the common convention.
    if score >= 7.0:
        return Severity.HIGH
    return Severity.MEDIUM if score >= 4.0 else Severity.LOW


def score_vector(vector: str) -> CvssScore | None:
    """Parse one vector (``CVSS:3.1/...``, ``CVSS:4.0/...`` or a bare v2 vector); None when the
    library rejects it."""
    import cvss

    vector = vector.strip()
    try:
        if vector.startswith("CVSS:4"):
            v4 = cvss.CVSS4(vector)
            return CvssScore("4.0", vector, float(v4.base_score), Severity.parse(v4.severity))
        if vector.startswith("CVSS:3"):
            v3 = cvss.CVSS3(vector)
            score = float(v3.scores()[0])
            return CvssScore(vector[5:8], vector, score, Severity.parse(v3.severities()[0]))
        v2 = cvss.CVSS2(vector.removeprefix("CVSS:2.0/"))
        score = float(v2.scores()[0])
        return CvssScore("2.0", vector, score, _v2_severity(score))
    except (cvss.CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None
