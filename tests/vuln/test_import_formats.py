"""Feed formats are recognized by content and parsed into the shared model."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import yaml

from hullguard.model import Advisory, Event, Severity
from hullguard.vuln.importers import (
    CvssRecord,
    EpssRecord,
    ImportStats,
    KevRecord,
    iter_records,
    load_path,
)
from tests.support.env import corpus_path
from tests.vuln.feeds import osv_record, osv_zip, secdb


def test_osv_json_yaml_dir_and_zip_agree(tmp_path: Path) -> None:
    record = osv_record("PYSEC-1", "Foo_Bar", aliases=["CVE-2020-1"],
                        severity=[{"type": "CVSS_V3",
                                   "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}])
    (tmp_path / "one.json").write_text(json.dumps(record))
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "one.yaml").write_text(yaml.safe_dump(record))
    osv_zip(tmp_path / "all.zip", [record])
    results = [list(load_path(tmp_path / name)) for name in ("one.json", "tree", "all.zip")]
    assert results[0] == results[1] == results[2]
    (adv,) = results[0]
    assert adv.affected[0].name == "foo-bar"  # PEP 503
    assert adv.aliases == ("CVE-2020-1",)
    assert adv.cvss[0].score == 9.8 and adv.cvss[0].severity is Severity.CRITICAL


def test_corpus_pypa_yaml_tree_equals_osv_zip() -> None:
    tree = {a.id: a for a in load_path(corpus_path("advisories", "pypa"))}
    zipped = {a.id: a for a in load_path(corpus_path("advisories", "osv-PyPI-all.zip"))}
    assert len(zipped) == 2661
    assert tree.keys() == zipped.keys()
    different = [i for i in tree if tree[i].affected != zipped[i].affected]
    assert different == []


def test_corpus_go_zip_loads_every_record() -> None:
    stats = ImportStats()
    records = list(load_path(corpus_path("advisories", "osv-Go-all.zip"), stats))
    assert len(records) == 4291 and stats.skipped == 0
    assert all(a.affected for a in records if not a.withdrawn)
    assert {a.affected[0].ecosystem for a in records if a.affected} == {"Go"}


def _secfixes_from_yaml(path: Path) -> set[tuple[str, str, str]]:
    """Independent reading of a secdb YAML file: (origin, fixed, id) triples, 0 excluded."""
    doc = yaml.safe_load(path.read_text())
    triples = set()
    for entry in doc.get("packages") or []:
        for fixed, ids in (entry["pkg"].get("secfixes") or {}).items():
            for item in ids or []:
                # The first word is the id (placeholders like CVE-????-???? are not ids; a
                # suffix like .patch is junk); the rest are aliases or a comment.
                found = re.match(r"[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+", item)
                if str(fixed) != "0" and found:
                    triples.add((entry["pkg"]["name"], str(fixed), found.group(0)))
    return triples


def _triples(advisories: list[Advisory]) -> set[tuple[str, str, str]]:
    return {(aff.name, aff.ranges[0].events[1].fixed, adv.id)
            for adv in advisories for aff in adv.affected}


def test_corpus_alpine_json_and_yaml_match_independent_reading() -> None:
    for branch in ("v3.10", "v3.11", "v3.5"):
        root = corpus_path("advisories", "alpine-secdb", branch)
        expected = _secfixes_from_yaml(root / "main.yaml")
        from_json = list(load_path(root / "main.json"))
        assert _triples(from_json) == expected
        assert _triples(list(load_path(root / "main.yaml"))) == expected
        assert all(a.ecosystem == f"Alpine:{branch}" and a.by_source
                   for adv in from_json for a in adv.affected)


def test_alpine_fixed_zero_means_not_affected(tmp_path: Path) -> None:
    doc = secdb("v3.18", {"musl": {"0": ["CVE-2000-1"], "1.2.4-r1": [
        "CVE-2000-2 XSA-7", "CVE-2000-3 (comment)"]}})
    (tmp_path / "main.json").write_text(json.dumps(doc))
    found = {a.id: a.aliases for a in load_path(tmp_path / "main.json")}
    assert found == {"CVE-2000-2": ("XSA-7",), "CVE-2000-3": ()}


def test_debian_tracker(tmp_path: Path) -> None:
    doc = {"openssl": {
        "CVE-2023-1": {"description": "x", "releases": {
            "bookworm": {"status": "resolved", "fixed_version": "3.0.9-1", "urgency": "high"},
            "bullseye": {"status": "resolved", "fixed_version": "0", "urgency": "low"},
            "sid": {"status": "open", "urgency": "low"}}},
        "CVE-2023-2": {"releases": {"bookworm": {"status": "undetermined"}}}}}
    (tmp_path / "debian.json").write_text(json.dumps(doc))
    advisories = {a.id: a for a in load_path(tmp_path / "debian.json")}
    first = advisories["CVE-2023-1"]
    assert {a.ecosystem for a in first.affected} == {"Debian:12", "Debian:sid"}
    bookworm = next(a for a in first.affected if a.ecosystem == "Debian:12")
    assert bookworm.by_source and bookworm.name == "openssl"
    assert bookworm.ranges[0].events == (Event(introduced="0"), Event(fixed="3.0.9-1"))
    assert first.severity is Severity.HIGH
    assert advisories["CVE-2023-2"].affected[0].ranges[0].events == (Event(introduced="0"),)


def test_nvd_epss_kev(tmp_path: Path) -> None:
    nvd = {"format": "NVD_CVE", "version": "2.0", "vulnerabilities": [{"cve": {
        "id": "CVE-2021-44228", "metrics": {"cvssMetricV31": [{"type": "Primary", "cvssData": {
            "version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            "baseScore": 10.0, "baseSeverity": "CRITICAL"}}]}}}]}
    (tmp_path / "nvd.json.gz").write_bytes(gzip.compress(json.dumps(nvd).encode()))
    (tmp_path / "epss.csv").write_text(
        "#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000\n"
        "cve,epss,percentile\nCVE-2021-44228,0.97,0.999\nCVE-bad,x,y\n")
    kev = {"catalogVersion": "2024.05.01", "vulnerabilities": [
        {"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10", "dueDate": "2021-12-24",
         "knownRansomwareCampaignUse": "Known"}]}
    (tmp_path / "kev.json").write_text(json.dumps(kev))
    stats = ImportStats()
    records = list(iter_records(tmp_path, stats))
    cvss = next(r for r in records if isinstance(r, CvssRecord))
    assert cvss.scores[0].score == 10.0 and cvss.scores[0].severity is Severity.CRITICAL
    epss = next(r for r in records if isinstance(r, EpssRecord))
    assert (epss.epss.score, epss.epss.percentile, epss.epss.date) == (0.97, 0.999, "2024-05-01")
    kev_rec = next(r for r in records if isinstance(r, KevRecord))
    assert kev_rec.kev.date_added == "2021-12-10" and kev_rec.kev.ransomware
    assert stats.skipped == 1 and "bad EPSS row" in stats.warnings[0]
    assert dict(stats.formats) == {"nvd": 1, "epss": 1, "kev": 1}
