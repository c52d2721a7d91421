"""The scan pipeline: match, enrich, suppress, filter (with the real matcher and database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hullguard.model import Severity
from hullguard.vuln.db import VulnDB
from hullguard.vuln.ignore import IgnoreRule
from hullguard.vuln.scan import ScanOptions, ScanReport, scan_sbom
from tests.vuln.feeds import make_sbom, scan_db, scan_packages


def _scan(tmp_path: Path, options: ScanOptions | None = None) -> ScanReport:
    with VulnDB.open(scan_db(tmp_path)) as db:
        return scan_sbom(make_sbom(scan_packages()), db, options)


def test_findings_are_matched_merged_and_enriched(tmp_path: Path) -> None:
    report = _scan(tmp_path)
    found = {(f.package.name, f.id) for f in report.findings}
    assert found == {("requests", "CVE-2018-18074"), ("Jinja2", "CVE-2019-10906"),
                     ("Jinja2", "PYSEC-2020-9"), ("musl", "CVE-2023-0001"),
                     ("libcrypto3", "CVE-2023-5678")}
    by_id = {f.id: f for f in report.findings}
    requests = by_id["CVE-2018-18074"]
    assert set(requests.aliases) == {"PYSEC-2018-28", "GHSA-xxxx-yyyy-zzzz"}
    assert requests.severity is Severity.CRITICAL
    assert requests.cvss is not None and requests.cvss.score == 9.8
    assert requests.epss is not None and requests.epss.percentile == 0.95
    assert requests.fixed_versions == ("2.20.0",)
    kev = by_id["CVE-2023-5678"].kev
    assert kev is not None and kev.date_added == "2024-02-01"
    assert not by_id["PYSEC-2020-9"].has_fix
    # Sorted by severity first.
    severities = [f.severity for f in report.findings]
    assert severities == sorted(severities, reverse=True)
    assert report.db["sources"]


def test_filters(tmp_path: Path) -> None:
    report = _scan(tmp_path, ScanOptions(severities=frozenset({Severity.CRITICAL}),
                                         ignore_unfixed=True))
    assert [f.id for f in report.findings] == ["CVE-2018-18074"]
    assert report.filtered == 4
    assert len(report.matched) == 5
    assert report.at_or_above(Severity.HIGH)
    unfixed = _scan(tmp_path / "b", ScanOptions(ignore_unfixed=True))
    assert "PYSEC-2020-9" not in {f.id for f in unfixed.findings}


def test_ignore_rules_and_expiry(tmp_path: Path) -> None:
    rules = (IgnoreRule("CVE-2023-0001", "musl is not used", "musl", date(2030, 1, 1), "i.yaml"),
             IgnoreRule("PYSEC-2018-28", "old", "pkg:pypi/requests", date(2020, 1, 1),
                        "i.yaml"),
             IgnoreRule("CVE-2023-5678", "wrong package", "zlib", None, "i.yaml"))
    report = _scan(tmp_path, ScanOptions(ignore=rules, today=date(2025, 6, 1)))
    suppressed = {f.id: f.suppressed_by for f in report.suppressed}
    assert list(suppressed) == ["CVE-2023-0001"]
    assert "musl is not used" in suppressed["CVE-2023-0001"]
    assert "CVE-2018-18074" in {f.id for f in report.findings}
    assert any("expired on 2020-01-01" in w for w in report.warnings)
