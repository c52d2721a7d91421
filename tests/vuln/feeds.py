"""Small feed documents built by code for the importer, database and scan tests."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any


def osv_record(vuln_id: str, name: str, fixed: str = "2.0.0", ecosystem: str = "PyPI",
               **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": vuln_id, "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                      "ranges": [{"type": "ECOSYSTEM",
                                  "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
    }
    record.update(extra)
    return record


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def osv_zip(path: Path, records: list[dict[str, Any]]) -> Path:
    return write_zip(path, {f"{r['id']}.json": json.dumps(r).encode() for r in records})


def secdb(branch: str, packages: dict[str, dict[str, list[str]]],
          repo: str = "main") -> dict[str, Any]:
    return {
        "distroversion": branch, "reponame": repo, "archs": ["x86_64"],
        "urlprefix": "http://dl-cdn.alpinelinux.org/alpine",
        "apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/"
                  "{{pkg.name}}-{{pkg.ver}}.apk",
        "packages": [{"pkg": {"name": n, "secfixes": fixes}} for n, fixes in packages.items()],
    }


CVSS_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
CVSS_MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N"


def pypi(name: str, version: str, layer: str = "sha256:" + "a" * 64) -> Any:
    from hullguard.model import Location, Package, PackageType

    path = f"/usr/lib/python3/site-packages/{name}-{version}.dist-info/METADATA"
    return Package(name, version, PackageType.PYTHON, f"pkg:pypi/{name.lower()}@{version}",
                   cataloger="python", locations=(Location(path, layer),), introduced_by=layer,
                   created_by="RUN pip install")


def apk(name: str, version: str, origin: str = "") -> Any:
    from hullguard.model import Location, Package, PackageType

    purl = f"pkg:apk/alpine/{name}@{version}?arch=x86_64&distro=alpine-3.18.9"
    return Package(name, version, PackageType.APK, purl, cataloger="apk",
                   source_name=origin or name, source_version=version,
                   locations=(Location("/lib/apk/db/installed", "sha256:" + "b" * 64),))


def make_sbom(packages: list[Any], reference: str = "example.test/app:1") -> Any:
    from hullguard.model import Digest, Distro, ImageInfo, Layer, Sbom

    layers = (Layer(0, None, Digest.parse("sha256:" + "b" * 64), created_by="ADD rootfs /"),
              Layer(1, None, Digest.parse("sha256:" + "a" * 64), created_by="RUN pip install"))
    image = ImageInfo(reference, "registry", Digest.parse("sha256:" + "c" * 64), layers=layers)
    return Sbom(image, Distro("alpine", "3.18.9"), tuple(packages))


def scan_feeds(root: Path) -> list[Path]:
    """A small, fully known feed set: PyPI OSV records, an Alpine secdb, EPSS and KEV."""
    root.mkdir(parents=True, exist_ok=True)
    records = [
        osv_record("PYSEC-2018-28", "requests", fixed="2.20.0", aliases=["CVE-2018-18074"],
                   summary="requests leaks \x1b[31mcredentials\x1b[0m",
                   severity=[{"type": "CVSS_V3", "score": CVSS_CRITICAL}]),
        osv_record("GHSA-xxxx-yyyy-zzzz", "requests", fixed="2.20.0",
                   aliases=["CVE-2018-18074"]),
        osv_record("PYSEC-2019-1", "jinja2", fixed="2.10.1", aliases=["CVE-2019-10906"],
                   severity=[{"type": "CVSS_V3", "score": CVSS_MEDIUM}]),
        {"id": "PYSEC-2020-9", "modified": "2024-01-01T00:00:00Z", "affected": [
            {"package": {"ecosystem": "PyPI", "name": "jinja2"},
             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]},
        osv_record("PYSEC-2021-5", "urllib3", fixed="1.26.5", withdrawn="2024-01-01T00:00:00Z"),
    ]
    osv_zip(root / "all.zip", records)
    (root / "main.json").write_text(json.dumps(secdb("v3.18", {
        "musl": {"1.2.4-r3": ["CVE-2023-0001"], "0": ["CVE-2023-0002"]},
        "openssl": {"3.1.4-r1": ["CVE-2023-5678"]}})))
    (root / "epss.csv").write_text("#model_version:v1,score_date:2024-05-01T00:00:00+0000\n"
                                   "cve,epss,percentile\nCVE-2018-18074,0.12,0.95\n")
    (root / "kev.json").write_text(json.dumps({"catalogVersion": "1", "vulnerabilities": [
        {"cveID": "CVE-2023-5678", "dateAdded": "2024-02-01"}]}))
    return [root / "all.zip", root / "main.json", root / "epss.csv", root / "kev.json"]


def scan_db(tmp_path: Path) -> Path:
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    db_path = tmp_path / "vuln.sqlite"
    import_inputs(db_path, [ImportInput(p) for p in scan_feeds(tmp_path / "feeds")])
    return db_path


def scan_packages() -> list[Any]:
    return [pypi("requests", "2.19.1"), pypi("Jinja2", "2.10"), pypi("urllib3", "1.24.1"),
            apk("musl", "1.2.4-r2"), apk("libcrypto3", "3.1.4-r0", origin="openssl"),
            apk("zlib", "1.3-r0")]


def corpus_db(path: Path, *feeds: Path) -> Path:
    """A database imported from these real corpus feeds only (coverage tests)."""
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    import_inputs(path, [ImportInput(feed) for feed in feeds])
    return path


def pypa_db(path: Path) -> Path:
    """The PyPA OSV data only: no distro feed at all."""
    from tests.support.env import corpus_path

    return corpus_db(path, corpus_path("advisories", "osv-PyPI-all.zip"))


def secdb_db(path: Path, branch: str) -> Path:
    """One Alpine secdb branch only (main and community)."""
    from tests.support.env import corpus_path

    folder = corpus_path("advisories", "alpine-secdb", branch)
    return corpus_db(path, *sorted(folder.glob("*.json")))
