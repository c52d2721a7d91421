"""Accuracy bar 1: on every corpus Alpine image the apk set equals /lib/apk/db/installed.

The expectation is parsed here, independently of the apk extractor, straight from the
minirootfs tarball.
"""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

from hullguard.model import PackageType
from tests.catalog.conftest import catalog_archive
from tests.support.env import alpine_tarballs


def _expected(version: str) -> set[tuple[str, str, str]]:
    tarball = next(t for t in alpine_tarballs() if t.name.split("-")[2] == version)
    with tarfile.open(fileobj=gzip.open(tarball)) as tar:
        member = next(m for m in tar if m.name.lstrip("./") == "lib/apk/db/installed")
        handle = tar.extractfile(member)
        assert handle is not None
        text = handle.read().decode()
    found = set()
    for stanza in text.strip().split("\n\n"):
        fields = dict(line.split(":", 1) for line in stanza.splitlines() if line[1:2] == ":"
                      and line[0] in "PVo")
        found.add((fields["P"], fields["V"], fields.get("o", "")))
    return found


def test_every_alpine_image_matches_its_installed_db(alpine_archives: dict[str, Path]) -> None:
    assert alpine_archives, "no Alpine corpus images"
    for version, archive in alpine_archives.items():
        sbom = catalog_archive(archive)
        apk = {(p.name, p.version, p.source_name) for p in sbom.packages
               if p.type is PackageType.APK}
        assert apk == _expected(version), version
        assert sbom.distro is not None and sbom.distro.id == "alpine"
        assert sbom.distro.version_id == version
        assert {p.type for p in sbom.packages} == {PackageType.APK}, version
        for package in sbom.packages:
            assert package.purl.startswith(f"pkg:apk/alpine/{package.name}@")
            assert f"distro=alpine-{version}" in package.purl
            assert package.introduced_by == str(sbom.image.layers[0].diff_id)
