"""Installed npm packages: ``node_modules/**/package.json`` and Debian's /usr/share/nodejs."""

from __future__ import annotations

import posixpath
from typing import Any

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import json_of, location, purl
from hullguard.images.api import FileInfo
from hullguard.model import Package, PackageType

SYSTEM_ROOTS = ("/usr/share/nodejs/", "/usr/lib/nodejs/", "/usr/share/javascript/")
MAX_MANIFEST = 4 << 20


class NodeExtractor:
    name = "node"

    def file_required(self, info: FileInfo) -> bool:
        """Only the package.json at the top of an installed package directory: the project
        that ran ``npm install`` and files nested inside a package are not installed packages."""
        path = info.path
        if not path.endswith("/package.json") or info.size > MAX_MANIFEST:
            return False
        parts = posixpath.dirname(path).split("/")
        if len(parts) >= 3 and parts[-2] == "node_modules":
            return not parts[-1].startswith(".")
        if len(parts) >= 4 and parts[-3] == "node_modules" and parts[-2].startswith("@"):
            return True
        return any(path.startswith(root) for root in SYSTEM_ROOTS) and _system_package(path)

    def extract(self, scan_input: ScanInput) -> Extraction:
        doc = json_of(scan_input, MAX_MANIFEST)
        if isinstance(doc, Extraction):  # not usable JSON: the warning saying why
            return doc
        if not isinstance(doc, dict):
            return Extraction()
        name, version = doc.get("name"), doc.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            return Extraction()
        scope, _, bare = name.rpartition("/")
        package = Package(
            name=name, version=version, type=PackageType.NPM,
            purl=purl("npm", bare, version, scope or None), cataloger=self.name,
            licenses=_licenses(doc), locations=location(scan_input),
        )
        return Extraction((package,))


def _system_package(path: str) -> bool:
    """/usr/share/nodejs/NAME/package.json or /usr/share/nodejs/@scope/NAME/package.json."""
    rest = next(path[len(root):] for root in SYSTEM_ROOTS if path.startswith(root))
    parts = rest.split("/")[:-1]
    return len(parts) == 1 or (len(parts) == 2 and parts[0].startswith("@"))


def _licenses(doc: dict[str, Any]) -> tuple[str, ...]:
    """``license`` (SPDX string, legacy ``{"type": ...}`` object) else legacy ``licenses``.
    Old packages put the legacy array under either key, also mixed with plain strings:
    ``"license": [{"type": "MIT", "url": ...}, "Apache-2.0"]``; all shapes are read alike."""
    for key in ("license", "licenses"):
        found = _license_items(doc.get(key))
        if found:
            return found
    return ()


def _license_items(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    found = [item.get("type") or item.get("name") if isinstance(item, dict) else item
             for item in items[:50]]
    names = (item.strip() for item in found if isinstance(item, str))
    return tuple(dict.fromkeys(name for name in names if name and len(name) < 200))
