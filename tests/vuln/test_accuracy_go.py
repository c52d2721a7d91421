"""Accuracy: real Go binaries from Debian (skopeo, docker-registry) against the Go vuln DB.

The expectation is computed here with a deliberately simple evaluator over the raw OSV JSON
(the ``semver`` library for ordering, the OSV spec's event walk), independent of our matcher
and version code. Debian builds these binaries without module build info, so the binary yields
the ``stdlib`` (toolchain) package and its main module at ``(devel)``, which is reported as
unparseable; module matching is exercised with real module versions from the same database.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import semver

from hullguard.model import Package, PackageType, Sbom
from hullguard.vuln.match import match_sbom
from tests.support.env import corpus_path, missing
from tests.vuln.accuracy_support import catalog, index, load, osv_records

pytestmark = pytest.mark.xdist_group("go-accuracy")


def _sv(text: str) -> semver.Version:
    return semver.Version.parse(text.removeprefix("v"))


def _affected(version: str, ranges: list[dict[str, Any]]) -> bool:
    """OSV spec evaluation, written out again for SEMVER ranges (``"0"``: before everything)."""
    installed = _sv(version)
    for rng in ranges:
        if rng["type"] != "SEMVER":
            continue
        events = [(kind, value) for event in rng["events"] for kind, value in event.items()]
        zero = [e for e in events if e[1] == "0"]
        rest = sorted((e for e in events if e[1] != "0"), key=lambda e: _sv(e[1]))
        vulnerable = False
        for kind, value in zero + rest:
            if kind == "introduced" and (value == "0" or installed >= _sv(value)):
                vulnerable = True
            elif (kind == "fixed" and installed >= _sv(value)) or (
                    kind == "last_affected" and installed > _sv(value)):
                vulnerable = False
        if vulnerable:
            return True
    return False


def _expected(packages: dict[str, str], records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    out = set()
    for record in records:
        if record.get("withdrawn"):  # withdrawn records are not findings (GO-2025-3543, runc)
            continue
        for affected in record.get("affected", []):
            name = affected["package"]["name"]
            if name in packages and _affected(packages[name], affected.get("ranges", [])):
                out.add((name, record["id"]))
    return out


@pytest.fixture(scope="module")
def go_db() -> tuple[list[dict[str, Any]], dict]:  # type: ignore[type-arg]
    zip_path = corpus_path("advisories", "osv-Go-all.zip")
    return osv_records(zip_path), index(load([zip_path]))


def _toolchain(version: str) -> str:
    match = re.fullmatch(r"go(\d+)\.(\d+)(?:\.(\d+))?", version)
    assert match, version
    return f"{match[1]}.{match[2]}.{match[3] or 0}"


@pytest.mark.parametrize("binary", ["skopeo", "docker-registry"])
def test_debian_go_binary(binary: str, go_db: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    path = shutil.which(binary)
    if path is None:
        missing(f"{binary} not installed (Debian package)")
    shutil.copy(str(path), tmp_path / binary)
    sbom = catalog_dir(tmp_path)
    records, lookup = go_db
    (stdlib,) = [p for p in sbom.packages if p.name == "stdlib"]
    modules = {p.name: p.version for p in sbom.packages
               if p.type is PackageType.GO_MODULE and p.version.startswith("v")}
    expected = _expected({"stdlib": _toolchain(stdlib.version), **modules}, records)
    result = match_sbom(sbom, lambda eco, name: lookup.get((eco, name), []))
    found = {(f.package.name, e.advisory_id) for f in result.findings for e in f.explanations}
    assert found == expected
    assert len(expected) > 20  # Debian's Go 1.19 toolchain has many fixed stdlib flaws since
    devel = [u for u in result.unparseable if u.version == "(devel)"]
    assert {u.package.name for u in result.unparseable} == {u.package.name for u in devel}


def catalog_dir(root: Path) -> Sbom:
    return catalog(root) if root.suffix == ".tar" else _catalog_dir(root)


def _catalog_dir(root: Path) -> Sbom:
    from hullguard.catalog import catalog_image

    return catalog_image(f"dir:{root}")


MODULE_SAMPLES = {  # real module versions named in the Go database, vulnerable or not
    "golang.org/x/net": "v0.0.0-20200226121028-0de0cce0169b",
    "golang.org/x/crypto": "v0.0.0-20201203163018-be400aefbc4c",
    "golang.org/x/text": "v0.3.5",
    "github.com/gorilla/websocket": "v1.4.0",
    "github.com/docker/distribution": "v2.7.1+incompatible",
    "gopkg.in/yaml.v2": "v2.2.7",
    "github.com/opencontainers/runc": "v1.1.12",
}


def test_go_modules(go_db: tuple) -> None:  # type: ignore[type-arg]
    records, lookup = go_db
    packages = tuple(Package(name, version, PackageType.GO_MODULE, f"pkg:golang/{name}@{version}")
                     for name, version in MODULE_SAMPLES.items())
    from hullguard.model.image import ImageInfo

    result = match_sbom(Sbom(ImageInfo("modules", "dir"), None, packages),
                        lambda eco, name: lookup.get((eco, name), []))
    found = {(f.package.name, e.advisory_id) for f in result.findings for e in f.explanations}
    expected = _expected(dict(MODULE_SAMPLES), records)
    assert found == expected
    assert len(expected) > 10 and result.unparseable == ()
