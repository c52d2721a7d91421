"""PHP Composer packages: ``vendor/composer/installed.json`` (Composer 1 list or 2 object)."""

from __future__ import annotations

from functools import partial
from typing import Any

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import json_of, location, or_warning, purl
from hullguard.images.api import FileInfo
from hullguard.model import Location, Package, PackageType


class ComposerExtractor:
    name = "php"

    def file_required(self, info: FileInfo) -> bool:
        return info.path.endswith("/vendor/composer/installed.json")

    def extract(self, scan_input: ScanInput) -> Extraction:
        doc = json_of(scan_input)
        if isinstance(doc, Extraction):  # not usable JSON: the warning saying why
            return doc
        entries = doc.get("packages") if isinstance(doc, dict) else doc
        if not isinstance(entries, list):
            return Extraction(warnings=(f"{scan_input.path}: no package list",))
        where, warnings = location(scan_input), list[str]()
        found = (or_warning(partial(_package, entry, where), f"{scan_input.path}: {number}",
                            warnings) for number, entry in enumerate(entries)
                 if isinstance(entry, dict))
        packages = tuple(p for p in found if p is not None)
        return Extraction(packages, warnings=tuple(warnings))


def _package(entry: dict[str, Any], where: tuple[Location, ...]) -> Package | None:
    name, version = entry.get("name"), entry.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or "/" not in name:
        return None
    vendor, _, project = name.partition("/")
    return Package(
        name=name, version=version, type=PackageType.COMPOSER,
        purl=purl("composer", project, version, vendor), cataloger="php",
        licenses=_licenses(entry.get("license")),
        locations=where,
    )


def _licenses(value: object) -> tuple[str, ...]:
    """``license``: a list of SPDX ids, or one string (composer.json allows both and Composer 1
    copied it as written); anything else in the list is not a license name."""
    items = value if isinstance(value, list) else [value]
    return tuple(item for item in items[:50] if isinstance(item, str) and 0 < len(item) < 200)
