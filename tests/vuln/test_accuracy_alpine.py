"""Accuracy: Alpine corpus images against the corpus secdb.

Expectation, written independently of the matcher: for every installed package (read here from
/lib/apk/db/installed of the minirootfs), every secdb entry of the image's branch for the
package's *origin* whose fixed version is greater than the installed version (compared with
univers' AlpineLinuxVersion, a different implementation from ours) is a finding; nothing else.
Images whose branch has no secdb file (3.12 and later in this corpus) get no findings.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from univers.versions import AlpineLinuxVersion

from hullguard.vuln.match import match_sbom
from tests.support.env import alpine_params, alpine_tarballs, corpus_path, missing
from tests.vuln.accuracy_support import catalog, index, load

pytestmark = pytest.mark.xdist_group("alpine-accuracy")


def _installed(tarball: Path) -> list[dict[str, str]]:
    """P (name), V (version), o (origin) of each package in the apk database."""
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(tarball.read_bytes()))) as tar:
        names = {m.name.removeprefix("./"): m for m in tar.getmembers()}
        member = tar.extractfile(names["lib/apk/db/installed"])
        assert member is not None
        text = member.read().decode()
    packages = []
    for block in text.split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if line[1:2] == ":")
        if "P" in fields:
            packages.append({"name": fields["P"], "version": fields["V"],
                             "origin": fields.get("o", fields["P"])})
    return packages


def _branch(tarball: Path) -> str:
    return "v" + ".".join(tarball.name.split("-")[2].split(".")[:2])


def _secfixes(secdb: Path, branch: str) -> dict[str, dict[str, list[str]]]:
    fixes: dict[str, dict[str, list[str]]] = {}
    for repo in sorted((secdb / branch).glob("*.json")) if (secdb / branch).is_dir() else []:
        for entry in json.loads(repo.read_text())["packages"]:
            fixes.setdefault(entry["pkg"]["name"], {}).update(entry["pkg"]["secfixes"] or {})
    return fixes


def _expected(packages: list[dict[str, str]], fixes: dict[str, dict[str, list[str]]],
              ) -> set[tuple[str, str]]:
    expected = set()
    for package in packages:
        for fixed, cves in fixes.get(package["origin"], {}).items():
            if fixed != "0" and AlpineLinuxVersion(fixed) > AlpineLinuxVersion(package["version"]):
                expected |= {(package["name"], cve) for cve in cves for cve in cve.split()}
    return expected


@pytest.fixture(scope="module")
def secdb_lookup() -> tuple[Path, dict]:  # type: ignore[type-arg]
    secdb = corpus_path("advisories", "alpine-secdb")
    return secdb, index(load(sorted(secdb.glob("v*/*.json"))))


@pytest.mark.parametrize("tarball", alpine_params(),
                         ids=lambda p: p.name.split("-")[2] if p else "corpus-missing")
def test_alpine_image_findings_equal_secdb(tarball: Path | None, secdb_lookup: tuple,  # type: ignore[type-arg]
                                          alpine_archives: dict[str, Path]) -> None:
    if tarball is None:
        missing("no alpine-minirootfs-*-x86_64.tar.gz in the corpus")
    assert tarball is not None
    secdb, lookup = secdb_lookup
    sbom = catalog(alpine_archives[tarball.name.split("-")[2]])
    result = match_sbom(sbom, lambda eco, name: lookup.get((eco, name), []))
    found = {(f.package.name, i) for f in result.findings for i in (f.id, *f.aliases)}
    expected = _expected(_installed(tarball), _secfixes(secdb, _branch(tarball)))
    assert found == expected
    assert result.unparseable == ()
    for finding in result.findings:
        rule = finding.explanations[0].rule
        assert rule.startswith("ECOSYSTEM introduced 0 <= ") and "< fixed " in rule


def test_alpine_downgraded_packages_match_exactly(secdb_lookup: tuple,  # type: ignore[type-arg]
                                                  alpine_archives: dict[str, Path]) -> None:
    """3.10.3 is fully patched against this secdb snapshot (every fix equals the installed
    version, so the image must have no findings). To exercise real hits, the same SBOM is
    rewritten with each secdb-covered package set to the *oldest* fixed version of its origin
    (and musl to an invented older build); the expectation is recomputed independently."""
    secdb, lookup = secdb_lookup
    tarball = next(t for t in alpine_tarballs() if "-3.10." in t.name)
    fixes = _secfixes(secdb, _branch(tarball))
    sbom = catalog(alpine_archives[tarball.name.split("-")[2]])
    older = {"musl": "1.1.14-r0"}
    packages = []
    rows = []
    for package in sbom.packages:
        origin = package.source_name or package.name
        versions = sorted((v for v in fixes.get(origin, {}) if v != "0"), key=AlpineLinuxVersion)
        version = older.get(origin) or (versions[0] if versions else package.version)
        packages.append(replace(package, version=version,
                                source_version=version if package.source_version else ""))
        rows.append({"name": package.name, "version": version, "origin": origin})
    result = match_sbom(replace(sbom, packages=tuple(packages)),
                        lambda eco, name: lookup.get((eco, name), []))
    found = {(f.package.name, i) for f in result.findings for i in (f.id, *f.aliases)}
    expected = _expected(rows, fixes)
    assert len(expected) > 10
    assert found == expected
