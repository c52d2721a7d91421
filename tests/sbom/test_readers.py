"""read_sbom on our own CycloneDX/SPDX and on hostile or wrong input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hullguard.errors import HullguardError, InputError, LimitExceeded
from hullguard.model import Sbom
from hullguard.sbom import ids, read_sbom, render


def written(sbom: Sbom, fmt: str, path: Path) -> Sbom:
    path.write_text(render(sbom, fmt))
    return read_sbom(path)


def facts(sbom: Sbom) -> list[tuple[str, ...]]:
    return sorted((p.name, p.version, p.purl, p.type.value, p.introduced_by, p.cataloger,
                   p.source_name, p.source_version, p.arch,
                   ";".join(loc.path for loc in p.locations)) for p in sbom.packages)


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_our_standard_formats_read_back(sbom: Sbom, tmp_path: Path, fmt: str) -> None:
    back = written(sbom, fmt, tmp_path / "out.json")
    expected = replace(sbom, packages=ids.unique_packages(sbom))
    assert facts(back) == facts(expected)
    assert back.distro is not None and (back.distro.id, back.distro.version_id) == (
        "alpine", "3.18.9")
    assert back.image.digest == sbom.image.digest
    assert back.image.config_digest == sbom.image.config_digest
    assert back.image.chain == sbom.image.chain
    assert back.image.source_kind == "sbom"
    assert back.warnings == ()


def test_cyclonedx_keeps_owner_metadata_and_platform(sbom: Sbom, tmp_path: Path) -> None:
    back = written(sbom, "cyclonedx-json", tmp_path / "out.json")
    lodash = next(p for p in back.packages if p.name == "lodash")
    assert lodash.owned_by == "apk:nodejs-lodash"
    stdlib = next(p for p in back.packages if p.name == "stdlib")
    assert stdlib.metadata == next(p for p in sbom.packages if p.name == "stdlib").metadata
    assert str(back.image.platform) == "linux/amd64"
    assert back.image.reference == sbom.image.reference


def test_spdx_reads_free_text_license_back_as_text(sbom: Sbom, tmp_path: Path) -> None:
    back = written(sbom, "spdx-json", tmp_path / "out.json")
    assert next(p for p in back.packages if p.name == "requests").licenses == ("Apache 2.0",)


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def assert_one_error(path: Path, kind: type[HullguardError], words: str) -> None:
    with pytest.raises(kind) as caught:
        read_sbom(path)
    assert words in caught.value.message
    assert caught.value.where.startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    assert_one_error(tmp_path / "nope.json", InputError, "file not found")


def test_directory(tmp_path: Path) -> None:
    assert_one_error(tmp_path, InputError, "not a regular file")


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{\"bomFormat\": \"CycloneDX\",")
    assert_one_error(path, InputError, "not valid JSON")


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(InputError) as caught:
        read_sbom(path)
    assert caught.value.where == str(path)


def test_not_an_object(tmp_path: Path) -> None:
    assert_one_error(write_json(tmp_path / "x.json", [1, 2]), InputError, "expected a JSON object")


def test_wrong_format_names_what_was_expected(tmp_path: Path) -> None:
    path = write_json(tmp_path / "x.json", {"hello": "world"})
    with pytest.raises(InputError) as caught:
        read_sbom(path)
    assert "not an SBOM" in caught.value.message and "CycloneDX" in caught.value.hint


def test_syft_native_json_gets_a_hint(tmp_path: Path) -> None:
    path = write_json(tmp_path / "x.json", {"artifacts": [], "source": {}, "distro": {}})
    with pytest.raises(InputError) as caught:
        read_sbom(path)
    assert "cyclonedx-json" in caught.value.hint


@pytest.mark.parametrize("doc", [{"bomFormat": "CycloneDX", "specVersion": "1.1"},
                                 {"spdxVersion": "SPDX-3.0"}])
def test_unsupported_versions(tmp_path: Path, doc: dict[str, str]) -> None:
    assert_one_error(write_json(tmp_path / "x.json", doc), InputError, "is not supported")


def test_deeply_nested(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"bomFormat": "CycloneDX", "a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_one_error(path, LimitExceeded, "nested too deeply")


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: costs no disk
        handle.truncate((512 << 20) + 1)
    assert_one_error(path, LimitExceeded, "byte limit")


@pytest.mark.parametrize("change", [
    lambda d: d.update(components="x"),
    lambda d: d["components"][0].update(properties=[1]),
    lambda d: d["components"][0].update(licenses=[{"license": "MIT"}]),
    lambda d: d["metadata"].update(component=[]),
    lambda d: d["components"][0].update(name={"x": 1}),
])
def test_cyclonedx_wrong_types_are_input_errors(sbom: Sbom, tmp_path: Path,
                                                change: Any) -> None:
    doc = json.loads(render(sbom, "cyclonedx-json"))
    change(doc)
    with pytest.raises(InputError) as caught:
        read_sbom(write_json(tmp_path / "x.json", doc))
    assert caught.value.where == str(tmp_path / "x.json")


@pytest.mark.parametrize("change", [
    lambda d: d.update(packages={"a": 1}),
    lambda d: d["packages"][2].update(externalRefs="x"),
    lambda d: d.update(relationships=[None]),
    lambda d: d["creationInfo"].update(creators=[1]),
])
def test_spdx_wrong_types_are_input_errors(sbom: Sbom, tmp_path: Path, change: Any) -> None:
    doc = json.loads(render(sbom, "spdx-json"))
    change(doc)
    with pytest.raises(InputError):
        read_sbom(write_json(tmp_path / "x.json", doc))


def test_unrepresentable_components_are_skipped_with_one_warning(sbom: Sbom,
                                                                 tmp_path: Path) -> None:
    doc = json.loads(render(sbom, "cyclonedx-json"))
    doc["components"] += [
        {"type": "library", "name": "a", "purl": "pkg:generic/a@1", "bom-ref": "x1"},
        {"type": "library", "name": "b", "purl": "pkg:generic/b@1", "bom-ref": "x2"},
        {"type": "library", "name": "c", "bom-ref": "x3"},
        {"type": "library", "name": "d", "purl": "not a purl", "bom-ref": "x4"},
    ]
    back = read_sbom(write_json(tmp_path / "x.json", doc))
    assert len(back.packages) == len(ids.unique_packages(sbom))
    assert back.warnings == ("skipped components the model cannot represent: 1 with malformed "
                             "purl, 1 with no purl, 2 with purl type 'generic'",)


def test_nested_components_are_read(sbom: Sbom, tmp_path: Path) -> None:
    doc = json.loads(render(sbom, "cyclonedx-json"))
    first, *rest = doc["components"]
    first["components"] = rest
    back = read_sbom(write_json(tmp_path / "x.json", {**doc, "components": [first]}))
    assert len(back.packages) == len(ids.unique_packages(sbom))


def test_cyclonedx_1_4_tools_list_and_licenses_with_text(tmp_path: Path) -> None:
    doc = {
        "bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
        "metadata": {"tools": [{"vendor": "acme", "name": "scanner", "version": "2.0"}],
                     "component": {"type": "container", "name": "app",
                                   "version": "sha256:" + "e" * 64}},
        "components": [{"type": "library", "name": "flask", "version": "2.0.1",
                        "purl": "pkg:pypi/flask@2.0.1",
                        "licenses": [{"license": {"name": "BSD", "text": {"content": "…"}}}]}],
    }
    back = read_sbom(write_json(tmp_path / "x.json", doc))
    assert (back.tool, back.tool_version) == ("scanner", "2.0")
    assert str(back.image.digest) == "sha256:" + "e" * 64
    assert [(p.name, p.licenses) for p in back.packages] == [("flask", ("BSD",))]
    assert back.distro is None
