"""Coverage: per package source, could the database check it? Real corpus images and feeds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hullguard.model import Distro, Package, PackageType
from hullguard.vuln.coverage import image_coverage, uncovered
from hullguard.vuln.db import VulnDB
from tests.support.env import corpus_path
from tests.vuln.accuracy_support import catalog
from tests.vuln.feeds import apk, make_sbom, pypi


def test_pypa_only_database_does_not_cover_alpine(alpine_archives: dict[str, Path],
                                                  pypa_only_db: Path) -> None:
    sbom = catalog(alpine_archives["3.20.3"])
    with VulnDB.open(pypa_only_db) as db:
        items = image_coverage(sbom, db)
    assert [(i.source, i.kind, i.covered) for i in items] == [("alpine 3.20", "distro", False)]
    apks = sum(1 for p in sbom.packages if p.type is PackageType.APK)
    assert items[0].packages == apks > 10
    assert "Alpine:v3.20" in items[0].reason and not items[0].feeds


def test_secdb_branch_covers_its_release_only(alpine_archives: dict[str, Path],
                                              secdb_310_db: Path) -> None:
    with VulnDB.open(secdb_310_db) as db:
        old = image_coverage(catalog(alpine_archives["3.10.3"]), db)
        new = image_coverage(catalog(alpine_archives["3.20.3"]), db)
    assert [(i.source, i.covered) for i in old] == [("alpine 3.10", True)]
    assert old[0].feeds and old[0].last_updated and old[0].age_days is not None
    assert old[0].age_days < 1
    assert [(i.source, i.covered) for i in new] == [("alpine 3.20", False)]
    assert new[0].fix == ("hullguard db update --source alpine-v3.20-main "
                          "--source alpine-v3.20-community")


def test_language_ecosystems_and_unknown_distros(pypa_only_db: Path) -> None:
    sbom = make_sbom([pypi("requests", "2.19.1"), pypi("jinja2", "2.10")])
    with VulnDB.open(pypa_only_db) as db:
        items = image_coverage(sbom, db)
        debian = image_coverage(dataclasses.replace(
            sbom, distro=Distro("debian", "12", "bookworm"), packages=tuple(_debs(3))), db)
    assert [(i.source, i.packages, i.covered) for i in items] == [("PyPI", 2, True)]
    assert items[0].feeds == (str(corpus_path("advisories", "osv-PyPI-all.zip").resolve()),)
    assert [(i.source, i.packages, i.covered) for i in debian] == [("debian 12", 3, False)]
    assert "Debian:12" in debian[0].reason
    assert debian[0].fix == "hullguard db update --source debian"
    assert uncovered(image_coverage(sbom, None))[0].reason == "no advisory database was used"


def _debs(count: int) -> list[Package]:
    return [Package(f"lib{n}", "1.0-1", PackageType.DEB, f"pkg:deb/debian/lib{n}@1.0-1")
            for n in range(count)]


def test_os_packages_of_an_unidentified_distro_are_not_covered(secdb_310_db: Path) -> None:
    """No os-release: the apk packages cannot be keyed to a release, so they were not
    checked, whatever the database holds."""
    sbom = dataclasses.replace(make_sbom([apk("musl", "1.1.22-r2")]), distro=None)
    with VulnDB.open(secdb_310_db) as db:
        [item] = image_coverage(sbom, db)
    assert (item.source, item.covered, item.packages) == (
        "apk packages (distribution not identified)", False, 1)
    assert item.reason == "the image's distribution was not identified" and item.fix
