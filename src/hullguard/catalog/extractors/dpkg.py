"""Debian packages: /var/lib/dpkg/status, distroless status.d/ and info/*.list for ownership."""

from __future__ import annotations

import posixpath
import re
from functools import partial

from hullguard.catalog.api import Extraction, FileOwnership, LicenseEvidence, ScanInput
from hullguard.catalog.extractors._common import (
    bounded,
    evidence_paths,
    lines,
    location,
    or_warning,
    paragraphs,
    purl,
    sorted_meta,
    text_of,
    upstream,
)
from hullguard.images.api import FileInfo
from hullguard.model import Location, Package, PackageType

STATUS = "/var/lib/dpkg/status"
STATUS_D = "/var/lib/dpkg/status.d"
INFO = "/var/lib/dpkg/info"
DOC = "/usr/share/doc"
MAX_COPYRIGHT = 1 << 20
_LICENSE_FIELD_RE = re.compile(r"^License:[ \t]*(?P<name>\S[^\n]*)$", re.MULTILINE)
_COMMON_LICENSE_RE = re.compile(r"/usr/share/common-licenses/(?P<name>[A-Za-z0-9.+_-]+)")
_SOURCE_RE = re.compile(r"^(?P<name>\S+)(\s+\((?P<version>[^)]+)\))?")


class DpkgExtractor:
    name = "dpkg"

    def file_required(self, info: FileInfo) -> bool:
        path = info.path
        if not path.startswith(("/var/lib/dpkg/", "/usr/share/doc/")):
            return False
        if path == STATUS:
            return True
        parent = posixpath.dirname(path)
        if parent == STATUS_D:
            return True
        if path.endswith("/copyright"):
            return posixpath.dirname(parent) == DOC and info.size <= MAX_COPYRIGHT
        return parent == INFO and path.endswith(".list")

    def extract(self, scan_input: ScanInput) -> Extraction:
        path = scan_input.path
        if path.endswith(".list") and posixpath.dirname(path) == INFO:
            return _ownership_from_list(scan_input)
        if path.endswith("/copyright"):
            return _copyright(scan_input)
        if path.endswith(".md5sums"):
            return _ownership_from_md5sums(scan_input)
        return _status(scan_input, distroless=path != STATUS)


def _status(scan_input: ScanInput, distroless: bool) -> Extraction:
    packages, warnings = [], []
    where = location(scan_input)
    for fields in bounded(paragraphs(text_of(scan_input)), scan_input.path):
        if not fields.get("Package") or not fields.get("Version"):
            warnings.append(f"{scan_input.path}: a stanza without Package:/Version:, skipped")
            continue
        # distroless status.d files carry no Status: field; everything there is installed
        status = fields.get("Status", "install ok installed" if distroless else "")
        package = or_warning(partial(_package, fields, where), scan_input.path, warnings) \
            if status.split()[-1:] == ["installed"] else None
        if package is not None:
            packages.append(package)
    return Extraction(tuple(packages), warnings=tuple(warnings))


def _package(fields: dict[str, str], where: tuple[Location, ...]) -> Package:
    name, version, arch = fields["Package"], fields["Version"], fields.get("Architecture", "")
    source_name, source_version = name, version
    match = _SOURCE_RE.match(fields.get("Source", ""))
    if match:
        source_name = match["name"]
        source_version = match["version"] or version
    return Package(
        name=name, version=version, type=PackageType.DEB,
        purl=purl("deb", name, version, "debian", {
            "arch": arch, "upstream": upstream(name, version, source_name, source_version)}),
        cataloger="dpkg", source_name=source_name, source_version=source_version, arch=arch,
        locations=where,
        metadata=sorted_meta({"maintainer": fields.get("Maintainer", ""),
                              "installed_size": fields.get("Installed-Size", ""),
                              "multi_arch": fields.get("Multi-Arch", "")}),
    )


def _owner(path: str, suffix: str) -> str:
    stem = posixpath.basename(path)[: -len(suffix)]
    return "deb:" + stem.split(":")[0]  # info/libc6:amd64.list -> libc6


def _ownership_from_list(scan_input: ScanInput) -> Extraction:
    paths = evidence_paths(line for line in lines(text_of(scan_input))
                           if line.startswith("/") and line != "/.")
    return Extraction(ownerships=(FileOwnership(_owner(scan_input.path, ".list"), paths),))


def _ownership_from_md5sums(scan_input: ScanInput) -> Extraction:
    """distroless status.d/NAME.md5sums: ``<md5>  relative/path`` per installed file."""
    paths = set()
    for line in lines(text_of(scan_input)):
        _digest, _, rel = line.partition("  ")
        if rel:
            paths.add("/" + rel.lstrip("/"))
    owner = _owner(scan_input.path, ".md5sums")
    return Extraction(ownerships=(FileOwnership(owner, evidence_paths(paths)),))


def _copyright(scan_input: ScanInput) -> Extraction:
    """License short names from a copyright file: machine-readable (DEP-5) ``License:``
    fields, or references to /usr/share/common-licenses/ in free-form files."""
    text = text_of(scan_input, MAX_COPYRIGHT)
    names = [m["name"].strip() for m in _LICENSE_FIELD_RE.finditer(text)]
    names += [m["name"].rstrip(".") for m in _COMMON_LICENSE_RE.finditer(text)]
    licenses = tuple(dict.fromkeys(name for name in names if len(name) < 80))
    if not licenses:
        return Extraction()
    owner = "deb:" + posixpath.basename(posixpath.dirname(scan_input.path))
    return Extraction(license_evidence=(LicenseEvidence(owner, licenses),))
