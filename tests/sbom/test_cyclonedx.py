"""CycloneDX 1.6 output: schema-valid, and every fact of the catalog where a reader expects it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hullguard.model import Sbom
from hullguard.sbom import cyclonedx, ids, render

SCHEMAS = Path(str(__import__("cyclonedx").__file__)).parent / "schema" / "_res"


def document(sbom: Sbom) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(sbom, "cyclonedx-json"))
    return data


def components_by_ref(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in doc["components"]}


def props(component: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for prop in component.get("properties", []):
        out.setdefault(prop["name"], []).append(prop["value"])
    return out


def test_validates_with_the_library_validator(sbom: Sbom, fixed_epoch: int) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(render(sbom, "cyclonedx-json"))
    assert errors is None, errors


def test_validates_with_jsonschema_against_the_published_schema(sbom: Sbom,
                                                                 fixed_epoch: int) -> None:
    from jsonschema import Draft7Validator  # type: ignore[import-untyped,unused-ignore]
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    def resource(name: str) -> Any:
        return DRAFT7.create_resource(json.loads((SCHEMAS / name).read_text()))

    names = ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json",
             "cryptography-defs.SNAPSHOT.schema.json")
    registry = Registry().with_resources(
        [(f"http://cyclonedx.org/schema/{name}", resource(name)) for name in names])
    schema = json.loads((SCHEMAS / "bom-1.6.SNAPSHOT.schema.json").read_text())
    validator = Draft7Validator(schema, registry=registry,
                                format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = [error.message for error in validator.iter_errors(document(sbom))]
    assert errors == []


def test_header_names_the_image_and_the_tool(sbom: Sbom, fixed_epoch: int) -> None:
    doc = document(sbom)
    assert doc["specVersion"] == "1.6"
    assert doc["serialNumber"] == f"urn:uuid:{ids.document_uuid(sbom)}"
    image = doc["metadata"]["component"]
    assert image["type"] == "container"
    assert image["version"] == str(sbom.image.digest)
    assert image["hashes"] == [{"alg": "SHA-256", "content": sbom.image.digest.hex}]  # type: ignore[union-attr]
    image_props = props(image)
    assert image_props["hullguard:image:config_digest"] == [str(sbom.image.config_digest)]
    assert image_props["hullguard:image:platform"] == ["linux/amd64"]
    assert image_props["hullguard:image:layer:1:diff_id"] == [str(sbom.image.layers[1].diff_id)]
    tools = doc["metadata"]["tools"]["components"]
    assert [t["name"] for t in tools] == ["hullguard"]


def test_every_package_is_a_component_with_its_facts(sbom: Sbom) -> None:
    comps = components_by_ref(document(sbom))
    packages = ids.unique_packages(sbom)
    assert len(comps) == len(packages) + 1  # + the operating system
    for package in packages:
        component = comps[ids.bom_ref(package)]
        assert (component["name"], component["version"]) == (package.name, package.version)
        assert component["purl"] == package.purl
        found = props(component)
        assert found.get("hullguard:package:layer_diff_id") == [package.introduced_by]
        assert found["hullguard:location:0:path"] == [package.locations[0].path]
        assert found["hullguard:package:cataloger"] == [package.cataloger]


def test_source_package_owner_and_metadata_are_properties(sbom: Sbom) -> None:
    comps = list(document(sbom)["components"])
    libcrypto = next(c for c in comps if c["name"] == "libcrypto3")
    assert props(libcrypto)["hullguard:package:source_name"] == ["openssl"]
    lodash = next(c for c in comps if c["name"] == "lodash")
    assert props(lodash)["hullguard:package:owned_by"] == ["apk:nodejs-lodash"]
    stdlib = next(c for c in comps if c["name"] == "stdlib")
    assert props(stdlib)["hullguard:metadata:main_module"] == ["example.org/app"]


@pytest.mark.parametrize(("name", "expected"), [
    ("musl", [{"license": {"id": "MIT"}}]),
    ("ca-certificates-bundle", [{"expression": "MPL-2.0 AND MIT"}]),
    ("requests", [{"license": {"name": "Apache 2.0"}}]),
    ("@babel/core", [{"expression": "MIT OR Apache-2.0"}]),
])
def test_licenses_are_ids_expressions_or_names(sbom: Sbom, name: str,
                                               expected: list[Any]) -> None:
    component = next(c for c in document(sbom)["components"] if c["name"] == name)
    assert component["licenses"] == expected


def test_two_licenses_never_mix_an_expression_in(sbom: Sbom) -> None:
    vendored = next(c for c in document(sbom)["components"]
                    if c["name"] == "urllib3" and len(c.get("licenses", [])) == 2)
    assert all("license" in choice for choice in vendored["licenses"])


def test_dependencies_link_image_os_and_packages(sbom: Sbom) -> None:
    doc = document(sbom)
    graph = {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}
    image_ref = doc["metadata"]["component"]["bom-ref"]
    os_ref = next(c["bom-ref"] for c in doc["components"] if c["type"] == "operating-system")
    os_packages = {ids.bom_ref(p) for p in ids.unique_packages(sbom) if p.type.is_os}
    assert graph[os_ref] == os_packages
    assert os_ref in graph[image_ref]
    assert not os_packages & graph[image_ref]
    known = {image_ref, *components_by_ref(doc)}
    assert set(graph) <= known and all(deps <= known for deps in graph.values())


def test_build_bom_is_reusable_for_a_vulnerability_section(sbom: Sbom) -> None:
    """The contract with the vulnerability report: add to the Bom, find components by ref."""
    from cyclonedx.model.bom_ref import BomRef
    from cyclonedx.model.vulnerability import BomTarget, Vulnerability
    from cyclonedx.output.json import JsonV1Dot6

    bom = cyclonedx.build_bom(sbom)
    musl = next(p for p in sbom.packages if p.name == "musl")
    bom.vulnerabilities.add(Vulnerability(id="CVE-2025-26519",
                                          affects=[BomTarget(ref=cyclonedx.bom_ref(musl))]))
    refs = {str(c.bom_ref) for c in bom.components}
    assert cyclonedx.bom_ref(musl) in refs
    out = json.loads(JsonV1Dot6(bom).output_as_string())
    assert out["vulnerabilities"][0]["affects"][0]["ref"] == cyclonedx.bom_ref(musl)
    assert isinstance(bom.metadata.component.bom_ref, BomRef)  # type: ignore[union-attr]


def test_a_catalog_without_distro_or_digest_is_still_valid(sbom: Sbom) -> None:
    from dataclasses import replace

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    bare = replace(sbom, distro=None, image=replace(sbom.image, digest=None, layers=()))
    text = render(bare, "cyclonedx-json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert "version" not in doc["metadata"]["component"]
    assert not any(c["type"] == "operating-system" for c in doc["components"])
