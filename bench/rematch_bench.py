"""Benchmark: time from one changed advisory to new findings, over N stored SBOMs.

    python3 bench/rematch_bench.py [--images 10000] [--store URL] [--packages 30]

The advisory database holds the real corpus feeds (PyPI and Go OSV zips). The store holds N
synthetic but realistic SBOMs: each image has ``--packages`` components (two thirds PyPI,
one third Go modules) whose names are drawn from the package names the corpus advisories
name, with versions from those advisories' own ``introduced``/``fixed`` events (so images
really have findings), and an initial scan matched against the database. Then one real
advisory is changed the way an upstream correction would (its range widened, ``modified``
bumped) and dropped into the watched folder; the timed step is the monitor cycle that
imports it, detects the change, re-matches the stored components it names and records the
new findings (``time to findings``); ``--repeat`` advisories (of different packages) are
changed one cycle after the other and the median is reported with each run. The one-time
component indexing and the baseline cycle (the first fingerprint of the database) are
reported separately.

Default store: a temporary SQLite file; ``--store postgresql://...`` for PostgreSQL.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hullguard.model import Digest, Distro, ImageInfo, Layer, Package, PackageType, Sbom

CORPUS = next((p for p in (Path(__file__).resolve().parents[1].parent / "shared" / "corpus",
                           Path("/work/shared/corpus")) if p.is_dir()),
              Path("/work/shared/corpus")) / "advisories"
FEEDS = ("osv-PyPI-all.zip", "osv-Go-all.zip")
KINDS = {"PyPI": PackageType.PYTHON, "Go": PackageType.GO_MODULE}


@dataclass(frozen=True)
class Named:
    ecosystem: str
    name: str
    versions: tuple[str, ...]
    record: str  # the zip member (to change it later)


def corpus_packages(root: Path) -> dict[str, list[Named]]:
    """ecosystem -> every package the corpus advisories name, with versions they mention."""
    out: dict[str, dict[str, Named]] = {"PyPI": {}, "Go": {}}
    for feed in FEEDS:
        with zipfile.ZipFile(root / feed) as archive:
            for member in archive.namelist():
                for named in _named(json.loads(archive.read(member)), f"{feed}:{member}"):
                    seen = out[named.ecosystem].get(named.name)
                    versions = (seen.versions if seen else ()) + named.versions
                    out[named.ecosystem][named.name] = Named(
                        named.ecosystem, named.name, versions[:8], seen.record if seen
                        else named.record)
    return {eco: sorted(names.values(), key=lambda n: n.name) for eco, names in out.items()}


def _named(doc: dict, record: str) -> Iterator[Named]:  # type: ignore[type-arg]
    for affected in doc.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") not in KINDS:
            continue
        events = [v for r in affected.get("ranges", []) for e in r.get("events", [])
                  for k, v in e.items() if k in ("introduced", "fixed") and v != "0"]
        versions = tuple(events) or ("1.0.0",)
        yield Named(package["ecosystem"], package["name"], versions, record)


def synthetic_sboms(count: int, per_image: int, names: dict[str, list[Named]],
                    seed: int = 7) -> Iterator[Sbom]:
    rng = random.Random(seed)
    for index in range(count):
        packages = []
        for ecosystem, share in (("PyPI", 2 * per_image // 3), ("Go", per_image // 3)):
            for named in rng.sample(names[ecosystem], share):
                version = rng.choice(named.versions)
                if ecosystem == "Go" and not version.startswith("v"):
                    version = "v" + version
                kind = KINDS[ecosystem]
                purl = f"pkg:{'pypi' if kind is PackageType.PYTHON else 'golang'}/" \
                       f"{named.name}@{version}"
                packages.append(Package(named.name, version, kind, purl))
        digest = Digest("sha256", hashlib.sha256(f"bench-image-{index}".encode()).hexdigest())
        layer = Layer(0, None, Digest("sha256", hashlib.sha256(f"l{index}".encode())
                                      .hexdigest()))
        info = ImageInfo(f"bench.example/app{index}:1", "registry", digest, layers=(layer,))
        yield Sbom(info, Distro("alpine", "3.20.3"), tuple(packages))


def fill_store(url: str, db_path: Path, sboms: Iterator[Sbom]) -> int:
    from hullguard.store import open_store
    from hullguard.store.base import write_session
    from hullguard.store.scans import add_scan
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.scan import MatchCache, match

    cache, done, batch = MatchCache(), 0, []
    with VulnDB.open(db_path) as db, open_store(url) as factory:
        for sbom in sboms:
            batch.append((sbom, match(sbom, db, cache)[0]))
            if len(batch) == 500:
                done += _write(factory, write_session, add_scan, batch)
                batch = []
        done += _write(factory, write_session, add_scan, batch)
    return done


def _write(factory, write_session, add_scan, batch) -> int:  # type: ignore[no-untyped-def]
    if batch:
        write_session(factory.kw["bind"], lambda session: [
            add_scan(session, sbom, findings, "bench", "scan") for sbom, findings in batch])
    return len(batch)


def changed_advisory(root: Path, target: Named, folder: Path) -> str:
    """The target's real record, corrected upstream: every version affected, modified now."""
    feed, member = target.record.split(":", 1)
    with zipfile.ZipFile(root / feed) as archive:
        doc = json.loads(archive.read(member))
    for affected in doc["affected"]:
        affected["ranges"] = [{"type": "ECOSYSTEM" if target.ecosystem == "PyPI" else "SEMVER",
                               "events": [{"introduced": "0"}]}]
        affected.pop("versions", None)
    doc["modified"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    (folder / f"{doc['id']}.json").write_text(json.dumps(doc))
    return str(doc["id"])


def run(images: int, store: str | None, per_image: int,
        repeat: int = 3) -> dict[str, object]:
    from hullguard.monitor.rematch import index_components
    from hullguard.monitor.run import MonitorConfig, run_cycle
    from hullguard.store import open_store
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        db_path, folder = tmp / "vulndb.sqlite", tmp / "drop"
        folder.mkdir()
        import_inputs(db_path, [ImportInput(CORPUS / feed) for feed in FEEDS])
        names = corpus_packages(CORPUS)
        url = store or f"sqlite:///{tmp / 'store.sqlite'}"
        started = time.perf_counter()
        stored = fill_store(url, db_path, synthetic_sboms(images, per_image, names))
        fill = time.perf_counter() - started
        config = MonitorConfig(db_path, full_every=timedelta(days=1), watch_dir=folder)
        runs, times = [], []
        with open_store(url) as factory:
            started = time.perf_counter()
            index_components(factory)
            index = time.perf_counter() - started
            baseline = run_cycle(factory, config)
            for target in names["PyPI"][:repeat]:  # one changed advisory per cycle
                vuln = changed_advisory(CORPUS, target, folder)
                started = time.perf_counter()
                report = run_cycle(factory, config)
                times.append(round(time.perf_counter() - started, 2))
                runs.append({"advisory": vuln, "package": target.name, "kind": report.kind,
                             "rematched": report.images_rematched,
                             "changed": report.images_changed,
                             "new_findings": report.events.get("new", 0),
                             "seconds": times[-1],
                             "phases": report.phases})
    return {"images": stored, "store": url.split(":", 1)[0], "fill_s": round(fill, 1),
            "index_s": round(index, 2), "baseline_s": round(baseline.seconds, 2),
            "time_to_findings_median_s": statistics.median(times),
            "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--packages", type=int, default=30)
    parser.add_argument("--store", default=None)
    parser.add_argument("--repeat", type=int, default=3,
                        help="advisories changed one after the other (the median is kept)")
    args = parser.parse_args()
    print(json.dumps(run(args.images, args.store, args.packages, args.repeat),
                     sort_keys=True))


if __name__ == "__main__":
    main()
