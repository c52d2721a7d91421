"""Benchmark: ``rescan`` of 1,000 stored SBOMs (no image I/O).

    python3 bench/rescan_bench.py [--images 1000] [--store URL]

Builds the six corpus Alpine images, catalogs them, and stores 1,000 image SBOMs made from
them (each Alpine base plus 20 old PyPI packages from a rotating list, distinct digests) with
an initial scan against a database of the corpus feeds (PyPI + Go OSV zips, Alpine secdb).
Then times ``rescan_all`` (decode every SBOM, re-match, diff, record). The bar (issue 3):
under 10 s for 1,000 SBOMs. Default store: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from hullguard.model import Digest, Location, Package, PackageType, Sbom

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PYPI = [("requests", "2.19.1"), ("urllib3", "1.24.1"), ("jinja2", "2.10"), ("pyyaml", "5.3"),
        ("django", "3.2.0"), ("pillow", "9.0.0"), ("flask", "0.12"), ("werkzeug", "0.14"),
        ("cryptography", "2.3"), ("paramiko", "2.4.0"), ("lxml", "4.2.0"), ("numpy", "1.16.0"),
        ("sqlalchemy", "1.2.0"), ("pygments", "2.5.0"), ("babel", "2.8.0"), ("tornado", "5.0"),
        ("twisted", "18.9.0"), ("aiohttp", "3.5.0"), ("celery", "4.0.0"), ("ansible", "2.8.0"),
        ("certifi", "2019.3.9"), ("idna", "2.7"), ("setuptools", "40.0.0"), ("pip", "19.0")]


def _base_sboms(tmp: Path) -> list[Sbom]:
    from hullguard.catalog import catalog_image
    from hullguard.images.builder import ImageSpec, rootfs_layer, write_docker_archive

    out = []
    for tarball in sorted((CORPUS / "images" / "alpine").glob("alpine-minirootfs-*.tar.gz")):
        spec = ImageSpec([rootfs_layer(tarball)], config={"Cmd": ["/bin/sh"]})
        archive = write_docker_archive(tmp / f"{tarball.name}.tar", spec, "alpine:bench")
        out.append(catalog_image(f"docker-archive:{archive}"))
    return out


def _pypi(index: int) -> tuple[Package, ...]:
    chosen = [PYPI[(index + k) % len(PYPI)] for k in range(20)]
    return tuple(Package(name, version, PackageType.PYTHON, f"pkg:pypi/{name}@{version}",
                         locations=(Location(f"/app/{name}-{version}.dist-info/METADATA"),))
                 for name, version in chosen)


def _images(bases: list[Sbom], count: int) -> list[Sbom]:
    out = []
    for index in range(count):
        base = bases[index % len(bases)]
        digest = Digest("sha256", hashlib.sha256(f"image-{index}".encode()).hexdigest())
        image = replace(base.image, reference=f"bench.example/app{index}:1", digest=digest)
        out.append(replace(base, image=image, packages=base.packages + _pypi(index)))
    return out


def _database(tmp: Path) -> Path:
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    db = tmp / "vuln.sqlite"
    feeds = ["osv-PyPI-all.zip", "osv-Go-all.zip", "alpine-secdb"]
    import_inputs(db, [ImportInput(CORPUS / "advisories" / name) for name in feeds])
    return db


def _new_advisory(tmp: Path, db: Path) -> None:
    import json

    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    record = {"id": "BENCH-2099-1", "modified": "2099-01-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "requests"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}
    (tmp / "new.json").write_text(json.dumps(record))
    import_inputs(db, [ImportInput(tmp / "new.json")])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--store", default="")
    args = parser.parse_args()
    from hullguard.store import open_store
    from hullguard.store.rescan import rescan_all
    from hullguard.store.scans import record_scan
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.scan import scan_sbom

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db_path, sboms = _database(tmp), _images(_base_sboms(tmp), args.images)
        url = args.store or f"sqlite:///{tmp / 'store.sqlite'}"
        start = time.perf_counter()
        with open_store(url) as factory, VulnDB.open(db_path) as db:
            for sbom in sboms:
                record_scan(factory, scan_sbom(sbom, db), "bench")
        stored = time.perf_counter() - start
        with open_store(url) as factory, VulnDB.open(db_path) as db:
            start = time.perf_counter()
            changes = rescan_all(factory, db)
            elapsed = time.perf_counter() - start
        _new_advisory(tmp, db_path)
        with open_store(url) as factory, VulnDB.open(db_path) as db:
            start = time.perf_counter()
            changed = rescan_all(factory, db)
            elapsed_changed = time.perf_counter() - start
    packages = sum(len(s.packages) for s in sboms)
    findings = sum(c.total for c in changes)
    print(f"stored {len(sboms)} SBOMs ({packages} packages, {findings} findings) "
          f"in {stored:.2f} s (scan + record)")
    print(f"rescan of {len(changes)} stored SBOMs, data unchanged: {elapsed:.2f} s "
          f"({elapsed / len(changes) * 1000:.1f} ms per image)")
    touched = sum(1 for c in changed if c.changed)
    print(f"rescan after a new advisory for requests ({touched} images changed, their "
          f"findings recorded): {elapsed_changed:.2f} s")


if __name__ == "__main__":
    main()
