"""VEX: OpenVEX and CycloneDX documents suppress what they say is not affected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hullguard.errors import InputError
from hullguard.vuln.db import VulnDB
from hullguard.vuln.purl import purl_matches
from hullguard.vuln.scan import ScanOptions, ScanReport, load_suppressions, scan_sbom
from tests.vuln.feeds import make_sbom, scan_db, scan_packages


def _scan_with(tmp_path: Path, *docs: dict[str, object]) -> tuple[ScanReport, list[str]]:
    paths = []
    for index, doc in enumerate(docs):
        paths.append(tmp_path / f"vex{index}.json")
        paths[-1].write_text(json.dumps(doc))
    statements, _rules, warnings = load_suppressions(paths, None)
    with VulnDB.open(scan_db(tmp_path)) as db:
        return scan_sbom(make_sbom(scan_packages()), db, ScanOptions(vex=statements)), warnings


def _openvex(*statements: dict[str, object]) -> dict[str, object]:
    return {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.test/vex/1",
            "author": "security@example.test", "timestamp": "2024-05-01T00:00:00Z",
            "version": 1, "statements": list(statements)}


def test_openvex_not_affected_by_alias_and_unversioned_purl(tmp_path: Path) -> None:
    doc = _openvex(
        {"vulnerability": {"name": "GHSA-xxxx-yyyy-zzzz"},  # an alias of the CVE finding
         "products": [{"@id": "pkg:pypi/requests"}], "status": "not_affected",
         "justification": "vulnerable_code_not_in_execute_path",
         "impact_statement": "we never send credentials"},
        {"vulnerability": {"name": "CVE-2023-0001"}, "products": [{"@id": "pkg:apk/alpine/musl"}],
         "status": "not_affected"},  # no justification: ignored with a warning
        {"vulnerability": {"name": "CVE-2019-10906"}, "products": [{"@id": "pkg:pypi/jinja2"}],
         "status": "affected"})
    report, warnings = _scan_with(tmp_path, doc)
    (suppressed,) = report.suppressed
    assert suppressed.id == "CVE-2018-18074" and suppressed.package.name == "requests"
    assert "vulnerable_code_not_in_execute_path" in suppressed.suppressed_by
    assert "we never send credentials" in suppressed.suppressed_by
    assert {"CVE-2023-0001", "CVE-2019-10906"} <= {f.id for f in report.findings}
    assert "without a justification" in warnings[0]


def test_openvex_image_product_with_subcomponents(tmp_path: Path) -> None:
    image_purl = "pkg:oci/app@sha256%3A" + "c" * 64
    doc = _openvex({"vulnerability": {"name": "CVE-2023-5678"},
                    "products": [{"@id": image_purl, "subcomponents": [
                        {"@id": "pkg:apk/alpine/libcrypto3@3.1.4-r0"}]}],
                    "status": "not_affected", "justification": "component_not_present"},
                   {"vulnerability": {"name": "CVE-2023-0001"},
                    "products": [{"@id": "pkg:oci/app@sha256%3A" + "d" * 64}],  # other image
                    "status": "not_affected", "justification": "component_not_present"})
    report, _ = _scan_with(tmp_path, doc)
    assert [f.id for f in report.suppressed] == ["CVE-2023-5678"]


def test_cyclonedx_vex_with_bom_refs(tmp_path: Path) -> None:
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
           "components": [{"type": "library", "name": "jinja2", "bom-ref": "jinja",
                           "purl": "pkg:pypi/jinja2@2.10"}],
           "vulnerabilities": [
               {"id": "CVE-2019-10906", "affects": [{"ref": "jinja"}],
                "analysis": {"state": "not_affected", "justification": "code_not_reachable",
                             "detail": "sandbox unused"}},
               {"id": "PYSEC-2020-9", "affects": [{"ref": "urn:cdx:1234/1#jinja"}],
                "analysis": {"state": "in_triage"}},
               {"id": "CVE-2023-0001", "affects": [
                   {"ref": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&package-id=abc"}],
                "analysis": {"state": "false_positive"}}]}
    report, _ = _scan_with(tmp_path, doc)
    assert sorted(f.id for f in report.suppressed) == ["CVE-2019-10906", "CVE-2023-0001"]
    assert "sandbox unused" in next(f.suppressed_by for f in report.suppressed
                                    if f.id == "CVE-2019-10906")


def test_bad_vex_documents(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    for name in ("bad.json", "other.json", "missing.json"):
        with pytest.raises(InputError):
            load_suppressions([tmp_path / name], None)


@pytest.mark.parametrize(("pattern", "purl", "expected"), [
    ("pkg:pypi/requests", "pkg:pypi/requests@2.19.1", True),
    ("pkg:pypi/Requests", "pkg:pypi/requests@2.19.1", True),
    ("pkg:pypi/requests@2.19.1", "pkg:pypi/requests@2.19.1", True),
    ("pkg:pypi/requests@2.20.0", "pkg:pypi/requests@2.19.1", False),
    ("pkg:npm/requests", "pkg:pypi/requests@2.19.1", False),
    ("pkg:apk/alpine/musl?arch=x86_64", "pkg:apk/alpine/musl@1?arch=x86_64&distro=a", True),
    ("pkg:apk/alpine/musl?arch=aarch64", "pkg:apk/alpine/musl@1?arch=x86_64", False),
    ("pkg:apk/wolfi/musl", "pkg:apk/alpine/musl@1", False),
    ("not a purl", "pkg:pypi/requests@1", False),
])
def test_purl_matching(pattern: str, purl: str, expected: bool) -> None:
    assert purl_matches(pattern, purl) is expected


def _cdx(*vulnerabilities: object, **extra: object) -> dict[str, object]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "vulnerabilities": list(vulnerabilities), **extra}


_NOT_AFFECTED = {"state": "not_affected", "justification": "code_not_reachable"}


@pytest.mark.parametrize(("doc", "warning"), [
    (_openvex({"vulnerability": {"name": "CVE-2019-10906"}, "products": 1,
               "status": "not_affected", "justification": "component_not_present"}),
     "products is a int, not a list"),
    # a product that names nothing must not leave an empty list (= every product) behind
    (_openvex({"vulnerability": {"name": "CVE-2019-10906"}, "products": [1],
               "status": "not_affected", "justification": "component_not_present"}),
     "a products entry names no product"),
    (_openvex({"vulnerability": {"name": "CVE-2019-10906"}, "status": "not_affected",
               "products": [{"@id": "pkg:pypi/jinja2", "subcomponents": "x"}],
               "justification": "component_not_present"}),
     "subcomponents is a str, not a list"),
    (_cdx({"id": "CVE-2019-10906", "analysis": _NOT_AFFECTED, "affects": 1.5}),
     "affects is a float, not a list"),
    (_cdx({"id": "CVE-2019-10906", "analysis": _NOT_AFFECTED, "affects": [{"x": 1}]}),
     "an affects entry has no ref"),
])
def test_vex_statements_of_the_wrong_shape_are_ignored_with_a_warning(
        tmp_path: Path, doc: dict[str, object], warning: str) -> None:
    """Before: TypeError, or a statement read as covering every product."""
    report, warnings = _scan_with(tmp_path, doc)
    assert not report.suppressed
    assert "CVE-2019-10906" in {f.id for f in report.findings}
    assert len(warnings) == 1 and warning in warnings[0] and "ignored" in warnings[0]


def test_vex_fields_of_the_wrong_type_never_suppress(tmp_path: Path) -> None:
    """A list state or a list bom-ref (TypeError before) is no statement and no reference."""
    doc = _cdx({"id": "CVE-2019-10906", "analysis": {"state": ["not_affected"]}},
               {"id": "CVE-2018-18074", "analysis": _NOT_AFFECTED, "affects": [{"ref": "r"}]},
               components=[{"bom-ref": [], "purl": "pkg:pypi/requests@2.19.1"},
                           {"bom-ref": "r", "purl": "pkg:npm/other@1"}])
    report, warnings = _scan_with(tmp_path, doc)
    assert not report.suppressed and not warnings


@pytest.mark.parametrize("text", [
    json.dumps({"bomFormat": "CycloneDX", "vulnerabilities": 7}),
    json.dumps({"bomFormat": "CycloneDX", "components": {"a": 1}}),
    "[" * 100_000 + "]" * 100_000,
    '{"statements": [' + "9" * 5000 + "]}",
    b'{"statements": ["\xff"]}'.decode("latin-1"),  # not UTF-8
])
def test_bad_vex_documents_are_one_clear_error(tmp_path: Path, text: str) -> None:
    from hullguard.errors import HullguardError
    from hullguard.vuln.vex import load_vex

    path = tmp_path / "vex.json"
    path.write_text(text, encoding="latin-1")
    with pytest.raises(HullguardError) as caught:
        load_vex(path)
    assert caught.value.where.startswith(str(path))


def test_vex_in_utf16_with_a_bom_still_loads(tmp_path: Path) -> None:
    from hullguard.vuln.vex import load_vex

    path = tmp_path / "vex.json"
    path.write_bytes(json.dumps(_openvex()).encode("utf-16"))
    assert load_vex(path) == ([], [])
