"""The native JSON: every model field, a schema version, and a lossless round trip."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from hullguard.errors import InputError
from hullguard.model import Package, Sbom
from hullguard.sbom import native, read_sbom, render


def test_round_trip_through_a_file_is_lossless(sbom: Sbom, tmp_path: Path) -> None:
    path = tmp_path / "sbom.json"
    path.write_text(render(sbom, "json"))
    assert read_sbom(path) == sbom.sorted()


def test_every_package_field_is_written(sbom: Sbom) -> None:
    doc = json.loads(render(sbom, "json"))
    assert doc["schema"] == "hullguard-sbom" and doc["schema_version"] == 1
    written = set(doc["packages"][0])
    assert written == {f.name for f in fields(Package)}


def test_image_layers_config_distro_statuses_and_warnings(sbom: Sbom) -> None:
    doc = json.loads(render(sbom, "json"))
    image = doc["image"]
    assert image["digest"] == str(sbom.image.digest)
    assert image["platform"] == {"os": "linux", "architecture": "amd64", "variant": ""}
    assert [layer["diff_id"] for layer in image["layers"]] == list(sbom.image.chain)
    assert image["layers"][1]["created_by"] == "RUN pip install requests"
    assert image["config"]["labels"] == [["org.opencontainers.image.source",
                                          "https://example.org/app"]]
    assert doc["distro"]["id"] == "alpine"
    assert {s["name"]: s["status"] for s in doc["statuses"]} == {"apk": "ok",
                                                                 "python": "partial"}
    assert doc["warnings"] == list(sbom.warnings)


def test_packages_are_sorted(sbom: Sbom) -> None:
    doc = json.loads(render(replace(sbom, packages=tuple(reversed(sbom.packages))), "json"))
    keys = [(p["type"], p["name"], p["version"]) for p in doc["packages"]]
    assert keys == sorted(keys)


def bad_document(sbom: Sbom, change: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render(sbom, "json"))
    change(doc)
    return doc


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d.update(schema_version=99), "schema_version 99"),
    (lambda d: d["packages"][0].update(name=7), "'name' must be a string"),
    (lambda d: d["packages"][0].update(type="deb2"), "unknown package type"),
    (lambda d: d["packages"][1].update(locations="x"), "'locations' must be a list"),
    (lambda d: d["packages"][0].update(metadata=[["a"]]), "[name, value]"),
    (lambda d: d["image"].update(digest="sha256:xyz"), "malformed digest"),
    (lambda d: d.update(packages=[1]), "expected an object"),
    (lambda d: d["statuses"][0].update(status="great"), "unknown status"),
])
def test_wrong_types_are_one_clear_error(sbom: Sbom, tmp_path: Path, change: Any,
                                         words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad_document(sbom, change)))
    with pytest.raises(InputError) as caught:
        read_sbom(path)
    assert words in caught.value.message
    assert str(path) in caught.value.where


def test_missing_optional_fields_read_as_empty(sbom: Sbom) -> None:
    doc = bad_document(sbom, lambda d: [p.pop("owned_by") for p in d["packages"]])
    assert all(p.owned_by == "" for p in native.from_dict(doc, "x").packages)
