"""What one extractor found in one file, as JSON for a layer record, and back.

The per-layer cache (:mod:`hullguard.images.layercache`) keeps the catalog's results per
layer instead of the files it read: every extractor sees one file at a time and its
:class:`~hullguard.catalog.api.Extraction` depends only on that file's header and content and
the layer's verified diffID (the one thing a package's location names), so a layer's results
are the same in every image that holds it. Lists in field order keep records small; the
catalog's cache key hashes this module and the model's, so a record written by another shape
of these values is never read.
"""

from __future__ import annotations

from typing import Any

from hullguard.catalog.api import Extraction, FileOwnership, LicenseEvidence
from hullguard.model import Distro, Location, Package, PackageType

_TYPES = {kind.value: kind for kind in PackageType}  # a dict lookup, not the enum's call


def encode_extraction(extraction: Extraction) -> list[Any]:
    return [
        [_package(package) for package in extraction.packages],
        [[o.owner, sorted(o.paths)] for o in extraction.ownerships],
        _distro(extraction.distro) if extraction.distro else None,
        list(extraction.warnings),
        [[e.owner, list(e.licenses)] for e in extraction.license_evidence],
    ]


def decode_extraction(data: list[Any]) -> Extraction:
    packages, ownerships, distro, warnings, evidence = data
    return Extraction(
        packages=tuple(_unpackage(item) for item in packages),
        ownerships=tuple(FileOwnership(owner, frozenset(paths)) for owner, paths in ownerships),
        distro=_undistro(distro) if distro is not None else None,
        warnings=tuple(warnings),
        license_evidence=tuple(LicenseEvidence(owner, tuple(names)) for owner, names in evidence),
    )


def _package(p: Package) -> list[Any]:
    return [p.name, p.version, p.type.value, p.purl, p.cataloger, p.source_name,
            p.source_version, p.arch, list(p.licenses),
            [[loc.path, loc.layer_diff_id] for loc in p.locations],
            p.introduced_by, p.created_by, p.owned_by, [list(pair) for pair in p.metadata]]


def _unpackage(item: list[Any]) -> Package:
    (name, version, kind, purl, cataloger, source_name, source_version, arch, licenses,
     locations, introduced_by, created_by, owned_by, metadata) = item
    return Package(name, version, _TYPES[kind], purl, cataloger, source_name, source_version,
                   arch, tuple(licenses), tuple(Location(path, diff) for path, diff in locations),
                   introduced_by, created_by, owned_by,
                   tuple((key, value) for key, value in metadata))


def _distro(distro: Distro) -> list[Any]:
    return [distro.id, distro.version_id, distro.codename, distro.pretty_name,
            list(distro.id_like)]


def _undistro(item: list[Any]) -> Distro:
    distro_id, version_id, codename, pretty_name, id_like = item
    return Distro(distro_id, version_id, codename, pretty_name, tuple(id_like))
