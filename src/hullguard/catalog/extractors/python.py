"""Installed Python distributions: ``*.dist-info/METADATA`` and ``*.egg-info`` (dir or file)."""

from __future__ import annotations

import posixpath
from email.parser import HeaderParser

from hullguard.catalog.api import Extraction, ScanInput
from hullguard.catalog.extractors._common import location, parent_name, purl, text_of
from hullguard.images.api import FileInfo
from hullguard.model import Package, PackageType

MAX_METADATA = 8 << 20
_CANDIDATES = ("/METADATA", "/PKG-INFO", ".egg-info")


class PythonExtractor:
    name = "python"

    def file_required(self, info: FileInfo) -> bool:
        path = info.path
        if not path.endswith(_CANDIDATES):
            return False
        if path.endswith("/METADATA"):
            return parent_name(path).endswith(".dist-info")
        if path.endswith("/PKG-INFO"):
            return parent_name(path).endswith(".egg-info")
        return path.endswith(".egg-info")  # a single-file egg-info (distutils installs)

    def extract(self, scan_input: ScanInput) -> Extraction:
        # The body (long description) can be large; headers end at the first blank line.
        text = text_of(scan_input, MAX_METADATA).split("\n\n", 1)[0]
        headers = HeaderParser().parsestr(text)
        name, version = (headers.get("Name") or "").strip(), (headers.get("Version") or "").strip()
        if not name or not version:
            return Extraction(warnings=(f"{scan_input.path}: no Name/Version, skipped",))
        package = Package(
            name=name, version=version, type=PackageType.PYTHON,
            purl=purl("pypi", name, version), cataloger=self.name,
            licenses=_licenses(headers.get_all("License-Expression") or [],
                               headers.get_all("License") or [],
                               headers.get_all("Classifier") or []),
            locations=location(scan_input),
            metadata=(("site", posixpath.dirname(posixpath.dirname(scan_input.path))),),
        )
        return Extraction((package,))


def _licenses(expressions: list[str], fields: list[str], classifiers: list[str]) -> tuple[str, ...]:
    """License-Expression, else a short License field, else the license classifiers."""
    if expressions:
        return (str(expressions[0]).strip(),)
    short = [str(f).strip() for f in fields if str(f).strip() not in ("", "UNKNOWN")]
    if short and "\n" not in short[0] and len(short[0]) < 100:
        return (short[0],)
    found = [str(c).split("::")[-1].strip() for c in classifiers
             if str(c).startswith("License ::") and str(c).count("::") >= 2]
    return tuple(dict.fromkeys(found))
