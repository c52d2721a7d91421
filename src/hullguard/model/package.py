"""Packages, distros and SBOMs: what the catalog stage finds and every later stage reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from hullguard.model.image import ImageInfo


class PackageType(StrEnum):
    """Package kinds; the value is the PURL type where one exists."""

    APK = "apk"
    DEB = "deb"
    RPM = "rpm"
    PYTHON = "pypi"
    NPM = "npm"
    GO_MODULE = "golang"
    JAVA = "maven"
    GEM = "gem"
    COMPOSER = "composer"
    CARGO = "cargo"
    NUGET = "nuget"

    @property
    def is_os(self) -> bool:
        return self in (PackageType.APK, PackageType.DEB, PackageType.RPM)


# The one ecosystem table: language package type -> OSV ecosystem name (the advisory DB key,
# the osv-* feed name, the hullguard.vuln.versions scheme). Ordered as the default OSV feeds.
LANGUAGE_ECOSYSTEMS: dict[PackageType, str] = {
    PackageType.PYTHON: "PyPI", PackageType.GO_MODULE: "Go", PackageType.NPM: "npm",
    PackageType.JAVA: "Maven", PackageType.GEM: "RubyGems", PackageType.CARGO: "crates.io",
    PackageType.NUGET: "NuGet", PackageType.COMPOSER: "Packagist",
}
_PEP503_RUNS = re.compile(r"[-_.]+")


@lru_cache(maxsize=16_384)
def pep503_name(name: str) -> str:
    """PEP 503 normalization (``Jinja2`` -> ``jinja2``, ``zope.interface`` -> ``zope-interface``):
    the one copy, used by the advisory DB keys, suppressions, remediation and graph lookups."""
    return _PEP503_RUNS.sub("-", name).lower()


# OS package types -> the OSV ecosystem whose version ordering they use (no distro release).
OS_ECOSYSTEMS: dict[PackageType, str] = {
    PackageType.APK: "Alpine", PackageType.DEB: "Debian", PackageType.RPM: "Red Hat"}


@dataclass(frozen=True, order=True)
class Location:
    """Where in the image a package's evidence lives: the path and the layer that holds it."""

    path: str
    layer_diff_id: str = ""  # "" for sources without layers (dir:, sbom:)


@dataclass(frozen=True)
class Distro:
    """The operating system of an image, from /etc/os-release and friends."""

    id: str  # alpine, debian, ubuntu, rhel, ...
    version_id: str = ""  # 3.18.9, 12, 22.04
    codename: str = ""  # bookworm, jammy
    pretty_name: str = ""
    id_like: tuple[str, ...] = ()

    @property
    def release(self) -> str:
        """The branch advisories are keyed by: alpine ``v3.18``, debian ``bookworm``/``12``."""
        if self.id == "alpine":
            return "v" + ".".join(self.version_id.split(".")[:2])
        return self.codename or self.version_id


@dataclass(frozen=True)
class Package:
    """One package found in an image.

    ``key`` identifies it within one SBOM. ``introduced_by`` is the diffID of the layer that
    first added it and ``created_by`` that layer's Dockerfile command when known. ``owned_by``
    names the OS package (``deb:node-lodash``) that installed a language package, so the
    vulnerability stage does not count it twice.
    """

    name: str
    version: str
    type: PackageType
    purl: str
    cataloger: str = ""
    source_name: str = ""  # dpkg Source:, apk origin, rpm source rpm
    source_version: str = ""
    arch: str = ""
    licenses: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    introduced_by: str = ""  # layer diffID
    created_by: str = ""  # history created_by of that layer
    owned_by: str = ""
    metadata: tuple[tuple[str, str], ...] = ()  # format-specific extras, sorted pairs

    @property
    def key(self) -> str:
        """Stable id within an SBOM: purl plus first location (same purl can occur twice)."""
        first = self.locations[0].path if self.locations else ""
        return f"{self.purl}#{first}"

    def meta(self, name: str, default: str = "") -> str:
        return dict(self.metadata).get(name, default)


class Status(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # some inputs failed; the rest were used
    FAILED = "failed"


@dataclass(frozen=True)
class PluginStatus:
    """How one cataloger (or other plugin) fared: a status per plugin instead of crashes."""

    name: str
    status: Status = Status.OK
    files: int = 0
    packages: int = 0
    message: str = ""


@dataclass(frozen=True)
class Sbom:
    """The catalog of one image: the unit the SBOM formats write and the matcher reads."""

    image: ImageInfo
    distro: Distro | None = None
    packages: tuple[Package, ...] = ()
    statuses: tuple[PluginStatus, ...] = ()
    warnings: tuple[str, ...] = ()
    tool: str = "hullguard"
    tool_version: str = ""
    extra: tuple[tuple[str, str], ...] = field(default=())

    def sorted(self) -> Sbom:
        """The same SBOM with packages in deterministic order."""
        ordered = tuple(sorted(self.packages, key=lambda p: (p.type, p.name, p.version, p.key)))
        return Sbom(
            self.image, self.distro, ordered, self.statuses, self.warnings,
            self.tool, self.tool_version, self.extra,
        )
