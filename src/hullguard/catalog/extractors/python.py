"""Installed Python distributions: ``*.dist-info/METADATA``, ``*.egg-info`` (dir or file) and
unzipped eggs (``NAME-VER-pyX.Y.egg/EGG-INFO/PKG-INFO``, easy_install's layout).

The interpreter's own ``Python-2.7.egg-info`` (Debian's python2.7 puts it in lib-dynload)
describes CPython, not a PyPI distribution: it is not reported as ``pkg:pypi/python``.
"""

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
            parent = parent_name(path)
            return parent.endswith(".egg-info") or (
                parent == "EGG-INFO" and parent_name(posixpath.dirname(path)).endswith(".egg"))
        return path.endswith(".egg-info")  # a single-file egg-info (distutils installs)

    def extract(self, scan_input: ScanInput) -> Extraction:
        # The body (long description) can be large; headers end at the first blank line.
        text = text_of(scan_input, MAX_METADATA).split("\n\n", 1)[0]
        headers = HeaderParser().parsestr(text)
        name, version = (headers.get("Name") or "").strip(), (headers.get("Version") or "").strip()
        if not name or not version:
            return Extraction(warnings=(f"{scan_input.path}: no Name/Version, skipped",))
        if _is_interpreter(scan_input.path, name):
            return Extraction()
        package = Package(
            name=name, version=version, type=PackageType.PYTHON,
            purl=purl("pypi", name, version), cataloger=self.name,
            licenses=_licenses(headers.get_all("License-Expression") or [],
                               headers.get_all("License") or [],
                               headers.get_all("Classifier") or []),
            locations=location(scan_input),
            metadata=(("site", _site(scan_input.path)),),
        )
        return Extraction((package,))


def _is_interpreter(path: str, name: str) -> bool:
    """CPython's own metadata file (``lib-dynload/Python-2.7.egg-info``, Name: Python)."""
    return name.lower() == "python" or "/lib-dynload/" in path


def _site(path: str) -> str:
    """The directory the distribution was installed into (site-packages or a --target)."""
    levels = 3 if path.endswith("/EGG-INFO/PKG-INFO") else 1 if path.endswith(
        ".egg-info") else 2
    for _ in range(levels):
        path = posixpath.dirname(path)
    return path


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
