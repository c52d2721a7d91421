"""Crashes the fuzz harnesses found (``python3 fuzz/run.py``), one explicit regression test each,
built from the shrunk reproducer and fed to the parser's public entry point.

The oracle is the harnesses': the call returns or raises a HullguardError subclass. A crash not
fixed yet is a strict xfail naming the owning area; when the fix is merged the test passes, the
strict xfail turns that into a failure, and the lead removes the mark together with the crash's
signature in ``KNOWN_FINDINGS`` (the only crashes tests/test_fuzz_harnesses.py tolerates).
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hullguard.catalog.api import Extraction, Extractor, ScanInput
from hullguard.errors import HullguardError
from hullguard.images.api import FileInfo, FileKind, MemoryEntry

# harness -> {signature (fuzz.core.signature) -> the regression test below}
KNOWN_FINDINGS: dict[str, dict[str, str]] = {}  # every finding so far is fixed

DEEP = "[" * 100_000 + "]" * 100_000  # past the stdlib json decoder's recursion limit
HUGE_INT = "9" * 5000  # past CPython's 4300-digit int conversion limit


def _finding(parser: str, what: str, raises: type[BaseException]) -> pytest.MarkDecorator:
    """A strict xfail that holds only for the crash found (``raises``), not any failure."""
    return pytest.mark.xfail(strict=True, raises=raises, reason=(
        f"fuzz finding: {parser}: {what}; fixed in branch of the owning area"))


def _result_or_hullguard_error(call: Callable[[], object]) -> None:
    """The oracle: any exception but a HullguardError fails (and makes the xfail hold)."""
    with contextlib.suppress(HullguardError):
        call()


def _extract(extractor: Extractor, path: str, data: bytes) -> Extraction | None:
    info = FileInfo(path, FileKind.FILE, size=len(data))
    if not extractor.file_required(info):
        raise AssertionError(f"{extractor.name} does not ask for {path}")
    return extractor.extract(ScanInput(MemoryEntry(info, data), 0, "sha256:" + "a" * 64))


# ---------------------------------------------------------------------------- images

def test_docker_archive_deeply_nested_manifest_json(tmp_path: Path) -> None:
    import tarfile

    from hullguard.images.api import SourceOptions
    from hullguard.images.archive import open_docker_archive

    path = tmp_path / "image.tar"
    with tarfile.open(path, "w") as tar:
        data = DEEP.encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    _result_or_hullguard_error(lambda: open_docker_archive(str(path), SourceOptions()))


# ---------------------------------------------------------------------------- catalog

def test_apk_name_of_only_whitespace() -> None:
    from hullguard.catalog.extractors.apk import ApkExtractor

    _result_or_hullguard_error(lambda: _extract(
        ApkExtractor(), "/lib/apk/db/installed", "P:\u0085\nV:1.0-r0\n".encode()))


def test_rpm_header_index_shorter_than_its_count() -> None:
    from hullguard.catalog.extractors.rpmheader import parse_header

    _result_or_hullguard_error(lambda: parse_header(struct.pack(">ii", 1, 0)))


def _rpmdb(fields: dict[int, tuple[int, object]]) -> bytes:
    """An rpmdb.sqlite holding one header blob of ``fields`` (see fuzz.seeds.rpm_header)."""
    import sqlite3

    from fuzz.seeds import rpm_header

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    connection.execute("INSERT INTO Packages (blob) VALUES (?)", (rpm_header(fields),))
    connection.commit()
    data = bytes(connection.serialize())
    connection.close()
    return data


def _rpm_extract(fields: dict[int, tuple[int, object]]) -> None:
    from hullguard.catalog.extractors.rpm import RpmExtractor

    data = _rpmdb(fields)
    _result_or_hullguard_error(lambda: _extract(
        RpmExtractor(), "/var/lib/rpm/rpmdb.sqlite", data))


def test_rpm_name_of_only_whitespace() -> None:
    _rpm_extract({1000: (6, " "), 1001: (6, "1.0")})


def test_rpm_dirindexes_of_string_type() -> None:
    _rpm_extract({1000: (6, "x"), 1001: (6, "1.0"), 1116: (8, [""]), 1117: (8, ["a"]),
                  1118: (8, ["/"])})


def test_rpm_epoch_of_string_type() -> None:
    _rpm_extract({1000: (6, "x"), 1001: (6, "1.0"), 1003: (8, ["a"])})


def test_npm_deeply_nested_package_json() -> None:
    from hullguard.catalog.extractors.node import NodeExtractor

    _result_or_hullguard_error(lambda: _extract(
        NodeExtractor(), "/app/node_modules/x/package.json", DEEP.encode()))


def test_npm_lone_surrogate_in_name() -> None:
    from hullguard.catalog.extractors.node import NodeExtractor

    data = b'{"name": "\\ud800", "version": "1.0.0"}'
    _result_or_hullguard_error(lambda: _extract(
        NodeExtractor(), "/app/node_modules/x/package.json", data))


def test_npm_name_of_only_whitespace() -> None:
    from hullguard.catalog.extractors.node import NodeExtractor

    data = b'{"name": " ", "version": "1.0.0"}'
    _result_or_hullguard_error(lambda: _extract(
        NodeExtractor(), "/app/node_modules/x/package.json", data))


def test_npm_name_of_only_a_slash() -> None:
    from hullguard.catalog.extractors.node import NodeExtractor

    data = b'{"name": "/", "version": "1.0.0"}'
    _result_or_hullguard_error(lambda: _extract(
        NodeExtractor(), "/app/node_modules/x/package.json", data))


def _corrupt_jar() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n" * 20)
    data = bytearray(buffer.getvalue())
    start = 30 + len("META-INF/MANIFEST.MF")  # local header, then the deflate stream
    data[start:start + 8] = b"\xff" * 8  # an invalid block type: zlib.error on inflate
    return bytes(data)


def test_jar_corrupt_deflate_stream() -> None:
    from hullguard.catalog.extractors.java import JavaArchiveExtractor

    _result_or_hullguard_error(lambda: _extract(
        JavaArchiveExtractor(), "/opt/app/lib/x-1.0.jar", _corrupt_jar()))


def test_dotnet_deeply_nested_deps_json() -> None:
    from hullguard.catalog.extractors.dotnet import DotnetDepsExtractor

    _result_or_hullguard_error(lambda: _extract(
        DotnetDepsExtractor(), "/app/app.deps.json", DEEP.encode()))


def test_composer_deeply_nested_installed_json() -> None:
    from hullguard.catalog.extractors.php import ComposerExtractor

    _result_or_hullguard_error(lambda: _extract(
        ComposerExtractor(), "/app/vendor/composer/installed.json", DEEP.encode()))


def test_composer_lone_surrogate_in_name() -> None:
    from hullguard.catalog.extractors.php import ComposerExtractor

    data = b'{"packages": [{"name": "\\ud800/x", "version": "1.0.0"}]}'
    _result_or_hullguard_error(lambda: _extract(
        ComposerExtractor(), "/app/vendor/composer/installed.json", data))


def test_gemspec_name_of_only_whitespace() -> None:
    from hullguard.catalog.extractors.ruby import RubyGemExtractor

    data = b'Gem::Specification.new do |s|\n  s.name = " "\n  s.version = "1.0"\nend\n'
    _result_or_hullguard_error(lambda: _extract(
        RubyGemExtractor(), "/usr/lib/ruby/gems/3.2.0/specifications/x-1.0.gemspec", data))


# ---------------------------------------------------------------------------- inventory

def test_yaml_integer_over_4300_digits(tmp_path: Path) -> None:
    from hullguard.inventory.collect import collect

    path = tmp_path / "compose.yaml"
    path.write_text(f"name: {HUGE_INT}\nservices: {{}}\n")
    _result_or_hullguard_error(lambda: collect([path], environ={}))


def test_kubectl_json_integer_over_4300_digits(tmp_path: Path) -> None:
    from hullguard.inventory.collect import collect

    path = tmp_path / "dump.json"
    path.write_text('{"apiVersion": "v1", "kind": "List", "items": ' + HUGE_INT + "}")
    _result_or_hullguard_error(lambda: collect([path], environ={}))


def test_yaml_loader_top_level_integer_over_4300_digits() -> None:
    from hullguard.inventory.yamlsafe import loads_all

    _result_or_hullguard_error(lambda: loads_all(f"- {HUGE_INT}\n", "fuzz.yaml"))


def test_yaml_loader_text_with_lone_surrogate() -> None:
    from hullguard.inventory.yamlsafe import loads_all

    _result_or_hullguard_error(lambda: loads_all("a: \ud800\n", "fuzz.yaml"))


# ---------------------------------------------------------------------------- vuln, sbom

def test_osv_range_type_is_a_list(tmp_path: Path) -> None:
    from hullguard.vuln.importers import iter_records

    record = {"id": "OSV-1", "modified": "2024-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "x"},
         "ranges": [{"type": [], "events": [{"introduced": "0"}]}]}]}
    path = tmp_path / "osv.json"
    path.write_text(json.dumps(record))
    _result_or_hullguard_error(lambda: list(iter_records(path)))


def test_epss_csv_with_a_carriage_return(tmp_path: Path) -> None:
    from hullguard.vuln.importers import iter_records

    path = tmp_path / "epss.csv"
    path.write_bytes(b"\rcve,epss,percentile\nCVE-2023-1234,0.00043,0.0812\n")
    _result_or_hullguard_error(lambda: list(iter_records(path)))


def test_sbom_integer_over_4300_digits(tmp_path: Path) -> None:
    from hullguard.sbom.readers import read_sbom

    path = tmp_path / "sbom.json"
    path.write_text('{"bomFormat": ' + HUGE_INT + "}")
    _result_or_hullguard_error(lambda: read_sbom(path))


def _vex(tmp_path: Path, doc: object | str) -> None:
    from hullguard.vuln.vex import load_vex

    path = tmp_path / "vex.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    _result_or_hullguard_error(lambda: load_vex(path))


def test_vex_cyclonedx_bom_ref_is_a_list(tmp_path: Path) -> None:
    _vex(tmp_path, {"bomFormat": "CycloneDX",
                    "components": [{"bom-ref": [], "purl": "pkg:npm/x@1"}]})


def test_vex_cyclonedx_affects_is_a_number(tmp_path: Path) -> None:
    _vex(tmp_path, {"bomFormat": "CycloneDX", "vulnerabilities": [
        {"id": "CVE-1", "analysis": {"state": "not_affected"}, "affects": 1.5}]})


def test_vex_cyclonedx_state_is_a_list(tmp_path: Path) -> None:
    _vex(tmp_path, {"bomFormat": "CycloneDX", "vulnerabilities": [
        {"id": "CVE-1", "analysis": {"state": ["not_affected"]}}]})


def test_vex_openvex_products_is_a_number(tmp_path: Path) -> None:
    _vex(tmp_path, {"statements": [{"vulnerability": {"name": "CVE-1"}, "products": 1,
                                    "status": "not_affected", "justification": "x"}]})


def test_vex_deeply_nested_document(tmp_path: Path) -> None:
    _vex(tmp_path, DEEP)
