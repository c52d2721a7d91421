"""Alpine's installed-package database, /lib/apk/db/installed (apk-tools v2 text format)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from hullguard.catalog.api import Extraction, FileOwnership, ScanInput
from hullguard.catalog.extractors._common import (
    bounded,
    evidence_paths,
    lines,
    location,
    or_warning,
    purl,
    sorted_meta,
    text_of,
    upstream,
)
from hullguard.images.api import FileInfo
from hullguard.model import Location, Package, PackageType

DB_PATHS = frozenset(("/lib/apk/db/installed", "/usr/lib/apk/db/installed"))  # apk-tools 3: /usr


class ApkExtractor:
    name = "apk"

    def file_required(self, info: FileInfo) -> bool:
        return info.path in DB_PATHS

    def extract(self, scan_input: ScanInput) -> Extraction:
        packages, ownerships, warnings = [], [], []
        where = location(scan_input)
        records = bounded(_records(text_of(scan_input)), scan_input.path)
        for number, record in enumerate(records, start=1):
            if not record.get("P") or not record.get("V"):
                warnings.append(f"{scan_input.path}: record {number} has no P:/V:, skipped")
                continue
            package = or_warning(partial(_package, record, where),
                                 f"{scan_input.path}: record {number}", warnings)
            if package is None:
                continue
            packages.append(package)
            owned = evidence_paths(record_files(record))
            ownerships.append(FileOwnership(f"apk:{record['P']}", owned))
        return Extraction(tuple(packages), tuple(ownerships), warnings=tuple(warnings))


class _Record(dict[str, str]):
    """One stanza; F:/R: lines are kept in order because R: is relative to the last F:."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[tuple[str, str]] = []


def _records(text: str) -> Iterator[_Record]:
    record = _Record()
    for line in lines(text):
        if not line.strip():
            if record:
                yield record
            record = _Record()
            continue
        key, sep, value = line.partition(":")
        if not sep or len(key) != 1:
            continue
        if key in "FR":
            record.files.append((key, value))
        record.setdefault(key, value)
    if record:
        yield record


def record_files(record: _Record) -> Iterator[str]:
    """Absolute paths of the files a package installed (R: lines under the last F:)."""
    directory = ""
    for key, value in record.files:
        if key == "F":
            directory = value.strip("/")
        else:
            yield f"/{directory}/{value}" if directory else f"/{value}"


def _package(record: _Record, where: tuple[Location, ...]) -> Package:
    name, version, arch = record["P"], record["V"], record.get("A", "")
    return Package(
        name=name, version=version, type=PackageType.APK,
        purl=purl("apk", name, version, "alpine", {
            "arch": arch, "upstream": upstream(name, version, record.get("o", ""), version)}),
        cataloger="apk", source_name=record.get("o", ""),
        source_version=version if record.get("o") else "", arch=arch,
        licenses=(record["L"],) if record.get("L") else (), locations=where,
        metadata=sorted_meta({"build_time": record.get("t", ""), "commit": record.get("c", ""),
                              "maintainer": record.get("m", ""), "size": record.get("I", "")}),
    )
