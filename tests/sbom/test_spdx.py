"""SPDX 2.3 output: valid for spdx-tools, and shaped the way syft and trivy read SPDX."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hullguard.model import Sbom
from hullguard.sbom import ids, render


def write(sbom: Sbom, path: Path) -> dict[str, Any]:
    text = render(sbom, "spdx-json")
    path.write_text(text)
    data: dict[str, Any] = json.loads(text)
    return data


def test_parses_and_validates_with_spdx_tools(sbom: Sbom, tmp_path: Path) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    write(sbom, tmp_path / "out.spdx.json")
    parsed = parse_file(str(tmp_path / "out.spdx.json"))
    messages = validate_full_spdx_document(parsed)
    assert [m.validation_message for m in messages] == []
    assert len(parsed.packages) == len(ids.unique_packages(sbom)) + 2  # + image, + OS


def test_namespace_and_describes_the_image(sbom: Sbom, tmp_path: Path) -> None:
    doc = write(sbom, tmp_path / "a.json")
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert doc["documentNamespace"] == f"urn:uuid:{ids.document_uuid(sbom)}"
    image = next(p for p in doc["packages"] if p.get("primaryPackagePurpose") == "CONTAINER")
    assert image["versionInfo"] == str(sbom.image.digest)
    assert image["checksums"] == [{"algorithm": "SHA256",
                                   "checksumValue": sbom.image.digest.hex}]  # type: ignore[union-attr]
    describes = [r for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"]
    assert describes == [{"spdxElementId": "SPDXRef-DOCUMENT",
                          "relatedSpdxElement": image["SPDXID"],
                          "relationshipType": "DESCRIBES"}]


def test_every_package_has_its_purl_and_is_contained(sbom: Sbom, tmp_path: Path) -> None:
    doc = write(sbom, tmp_path / "a.json")
    by_id = {p["SPDXID"]: p for p in doc["packages"]}
    contained = {r["relatedSpdxElement"]: r["spdxElementId"] for r in doc["relationships"]
                 if r["relationshipType"] == "CONTAINS"}
    os_id = next(i for i, p in by_id.items()
                 if p.get("primaryPackagePurpose") in ("OPERATING-SYSTEM", "OPERATING_SYSTEM"))
    for package in ids.unique_packages(sbom):
        spdx = by_id[ids.spdx_id(package)]
        purls = [r["referenceLocator"] for r in spdx["externalRefs"]
                 if r["referenceType"] == "purl"]
        assert purls == [package.purl]
        assert spdx["name"] == package.name
        parent = contained[ids.spdx_id(package)]
        assert (parent == os_id) == package.type.is_os


def test_free_text_licenses_become_declared_license_refs(sbom: Sbom, tmp_path: Path) -> None:
    doc = write(sbom, tmp_path / "a.json")
    requests = next(p for p in doc["packages"] if p["name"] == "requests")
    extracted = {e["licenseId"]: e for e in doc["hasExtractedLicensingInfos"]}
    assert requests["licenseDeclared"] in extracted
    assert extracted[requests["licenseDeclared"]]["extractedText"] == "Apache 2.0"
    busybox = next(p for p in doc["packages"] if p["name"] == "busybox")
    assert busybox["licenseDeclared"] == "GPL-2.0-only"
    stdlib = next(p for p in doc["packages"] if p["name"] == "stdlib")
    assert stdlib["licenseDeclared"] == "NOASSERTION"


def test_source_package_layer_and_checksum(sbom: Sbom, tmp_path: Path) -> None:
    doc = write(sbom, tmp_path / "a.json")
    libcrypto = next(p for p in doc["packages"] if p["name"] == "libcrypto3")
    assert libcrypto["sourceInfo"] == "built package from: openssl 3.1.7-r0"
    assert f"LayerDiffID: {sbom.packages[0].introduced_by}" in libcrypto["comment"]
    assert libcrypto["checksums"][0]["algorithm"] == "SHA1"


def test_a_line_break_in_a_value_cannot_forge_a_fact(sbom: Sbom, tmp_path: Path) -> None:
    from dataclasses import replace

    forged = replace(sbom.packages[0], created_by="RUN x\nOwnedBy: deb:forged")
    doc = write(replace(sbom, packages=(forged,)), tmp_path / "a.json")
    package = next(p for p in doc["packages"] if p["name"] == forged.name)
    lines = package["comment"].splitlines()
    assert "CreatedBy: RUN x OwnedBy: deb:forged" in lines
    assert not any(line.startswith("OwnedBy:") for line in lines)
