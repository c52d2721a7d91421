"""Accuracy bar 2: on a Debian image built from Debian's packages (mmdebstrap minbase), the
dpkg set equals what ``dpkg-query -W`` reports for that root (run here on its extracted
var/lib/dpkg)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hullguard.model import PackageType
from tests.catalog.conftest import catalog_archive
from tests.catalog.images import extract_dpkg_admindir, machine_dpkg_image
from tests.support.env import missing, tool

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("catalog-debian")]


def _dpkg_query(admindir: Path) -> set[tuple[str, str, str, str]]:
    fmt = "${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\n"
    out = subprocess.run([tool("dpkg-query"), "-W", f"--admindir={admindir}", "-f", fmt],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines() if line]
    return {(name, version, arch, source) for status, name, version, arch, source in rows
            if status == "installed"}


def _dpkg_set(archive: Path) -> set[tuple[str, str, str, str]]:
    sbom = catalog_archive(archive)
    assert sbom.distro is not None and sbom.distro.id == "debian"
    assert all(f"distro=debian-{sbom.distro.version_id}" in p.purl for p in sbom.packages)
    return {(p.name, p.version, p.arch, p.source_name) for p in sbom.packages
            if p.type is PackageType.DEB}


def test_dpkg_set_of_this_machine_equals_dpkg_query(tmp_path: Path) -> None:
    if not Path("/var/lib/dpkg/status").exists():
        missing("this machine has no dpkg database")
    expected = _dpkg_query(Path("/var/lib/dpkg"))
    assert len(expected) > 100
    assert _dpkg_set(machine_dpkg_image(tmp_path)) == expected


def test_dpkg_set_equals_dpkg_query(debian_archive: tuple[Path, Path], tmp_path: Path) -> None:
    archive, rootfs = debian_archive
    expected = _dpkg_query(extract_dpkg_admindir(rootfs, tmp_path))
    assert len(expected) > 80  # minbase has ~90 packages
    sbom = catalog_archive(archive)
    found = {(p.name, p.version, p.arch, p.source_name) for p in sbom.packages
             if p.type is PackageType.DEB}
    assert found == expected
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.version_id) == ("debian",
                                                                                    "12")
    assert all("distro=debian-12" in p.purl for p in sbom.packages if p.type.is_os)
    assert {p.type for p in sbom.packages} == {PackageType.DEB}
