"""Benchmark: time from one changed advisory to new findings, over N stored SBOMs.

    python3 bench/rematch_bench.py [--sizes 10000,50000,100000] [--stores sqlite,postgresql]
        [--repeat 3] [--before-src DIR] [--cache DIR] [--out FILE]

The advisory database holds the real corpus feeds (PyPI and Go OSV zips). The store holds N
synthetic but realistic SBOMs: each image has 20 PyPI and 10 Go components whose names are
drawn uniformly from the packages the corpus advisories name, plus each of three "popular"
PyPI packages with probability 10% and each of three "rare" ones with probability 0.2%;
versions come from the advisories' own ``introduced``/``fixed`` events (so images really
have findings); every image has an initial scan matched against the database.

Then a real advisory is changed the way an upstream correction would (its range widened to
every version, ``modified`` bumped) and dropped into the watched folder; the timed step is
the monitor cycle that imports it, detects the change, re-matches the stored components it
names and records the new findings (``time to findings``). Three levels of change: an
advisory of a rare package (0.2% of the fleet), of a typical one (uniformly drawn, about 3%),
of a popular one (10%). ``--repeat`` rounds, each with other advisories of each level.

Each store (size x backend) is built once (fill, component index, baseline cycle: timed
separately, not part of the target) as a template; each variant gets its own copy of it.
``--before-src DIR`` also runs the re-match of another source tree (the code before a
change) on its own copy, interleaved round by round with this tree's, in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hullguard.model import Digest, Distro, ImageInfo, Layer, Package, PackageType, Sbom

CORPUS = next((p for p in (Path(__file__).resolve().parents[1].parent / "shared" / "corpus",
                           Path("/work/shared/corpus")) if p.is_dir()),
              Path("/work/shared/corpus")) / "advisories"
FEEDS = ("osv-PyPI-all.zip", "osv-Go-all.zip")
KINDS = {"PyPI": PackageType.PYTHON, "Go": PackageType.GO_MODULE}
PG_ADMIN = os.environ.get("HULLGUARD_TEST_POSTGRES",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POPULAR = ("django", "pillow", "urllib3")  # in 10% of the fleet each
POPULAR_SHARE, RARE_SHARE = 0.10, 0.002
LEVELS = ("rare", "typical", "popular")


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


def targets(names: dict[str, list[Named]]) -> dict[str, list[Named]]:
    """The packages whose advisories are changed, per level (3 each)."""
    pypi = names["PyPI"]
    popular = [n for n in pypi if n.name.lower() in POPULAR]
    return {"rare": pypi[-3:], "typical": pypi[:3], "popular": popular}


def synthetic_sboms(count: int, names: dict[str, list[Named]], seed: int = 7) -> Iterator[Sbom]:
    rng = random.Random(seed)
    chosen = targets(names)
    special = {n.name for n in chosen["rare"] + chosen["popular"]}
    pool = {"PyPI": [n for n in names["PyPI"] if n.name not in special], "Go": names["Go"]}
    for index in range(count):
        picked = rng.sample(pool["PyPI"], 20) + rng.sample(pool["Go"], 10)
        picked += [n for n in chosen["popular"] if rng.random() < POPULAR_SHARE]
        picked += [n for n in chosen["rare"] if rng.random() < RARE_SHARE]
        packages = [_package(named, rng.choice(named.versions)) for named in picked]
        digest = Digest("sha256", hashlib.sha256(f"bench-image-{index}".encode()).hexdigest())
        layer = Layer(0, None, Digest("sha256", hashlib.sha256(f"l{index}".encode())
                                      .hexdigest()))
        info = ImageInfo(f"bench.example/app{index}:1", "registry", digest, layers=(layer,))
        yield Sbom(info, Distro("alpine", "3.20.3"), tuple(packages))


def _package(named: Named, version: str) -> Package:
    if named.ecosystem == "Go" and not version.startswith("v"):
        version = "v" + version
    kind = KINDS[named.ecosystem]
    purl = f"pkg:{'pypi' if kind is PackageType.PYTHON else 'golang'}/{named.name}@{version}"
    return Package(named.name, version, kind, purl)


# ---------------------------------------------------------------- building a template store


def fill_store(url: str, db_path: Path, sboms: Iterator[Sbom]) -> dict[str, int]:
    """The initial scans and the component index, written in bulk: what ``add_scan`` writes
    per image (the image, its SBOM, a scan, its findings, its names) and what
    ``index_components`` writes per SBOM (``lookup_pairs`` of each package), so a
    100,000-image store is built in minutes. Each distinct package is matched once by the
    real matcher (``match`` does not depend on the rest of the SBOM; ``MatchCache`` relies
    on the same) and its finding rows reused for every image that has it."""
    from sqlalchemy import create_engine, text

    from hullguard.store import open_store
    from hullguard.vuln.db import VulnDB

    matched: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    batch, sizes = [], {"images": 0, "findings": 0, "components": 0}
    with open_store(url):  # creates the schema
        pass
    engine = create_engine(url)  # no per-parameter escaping: the bench's text is plain
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", lambda conn, _r: conn.execute(
            "PRAGMA synchronous = OFF"))
    with VulnDB.open(db_path) as db:
        for sbom in sboms:
            batch.append((sbom, _finding_rows(sbom, db, matched)))
            if len(batch) == 2000:
                _write_bulk(engine, batch, sizes)
                batch = []
        _write_bulk(engine, batch, sizes)
    if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        with engine.begin() as conn:
            for table in ("images", "scans"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                  f" (SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return sizes


def _finding_rows(sbom: Sbom, db: Any, matched: dict[tuple[str, str, str],
                  list[dict[str, Any]]]) -> list[dict[str, Any]]:
    from dataclasses import replace

    from hullguard.store.scans import finding_row
    from hullguard.vuln.scan import match, sort_findings

    rows = []
    for package in sbom.packages:
        key = (package.type.value, package.name, package.version)
        if key not in matched:
            found = sort_findings(match(replace(sbom, packages=(package,)), db)[0])
            matched[key] = [finding_row(0, f) for f in found]
        rows += matched[key]
    return rows


def _write_bulk(engine: Any, batch: list[tuple[Sbom, list[dict[str, Any]]]],
                sizes: dict[str, int]) -> None:
    from hullguard.graph.memory import image_id as graph_id
    from hullguard.graph.memory import image_names
    from hullguard.model import Severity
    from hullguard.monitor.rematch import lookup_pairs
    from hullguard.store.models import (
        ComponentRecord,
        FindingRecord,
        ImageRecord,
        NameRecord,
        SbomRecord,
        ScanRecord,
    )
    from hullguard.store.monitor import INDEXED
    from hullguard.store.scans import encode_sbom, image_key

    if not batch:
        return
    now = datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "images", "sboms", "scans", "findings", "names", "components")}
    for sbom, findings in batch:
        sizes["images"] += 1
        ident, (digest, data) = sizes["images"], encode_sbom(sbom)
        rows["images"].append({"id": ident, "key": image_key(sbom),
                               "digest": str(sbom.image.digest), "reference":
                               sbom.image.reference, "chain": "[]", "sbom_digest": digest,
                               "first_seen": now, "last_seen": now})
        rows["sboms"].append({"digest": digest, "image_id": ident, "created_at": now,
                              "packages": len(sbom.packages), "data": data})
        totals: dict[str, int] = {}
        for row in findings:
            severity = str(Severity(row["severity"]))
            totals[severity] = totals.get(severity, 0) + 1
        rows["scans"].append({"id": ident, "image_id": ident, "sbom_digest": digest,
                              "kind": "scan", "created_at": now, "database": "bench",
                              "counts": json.dumps(totals)})
        rows["findings"] += [{**row, "scan_id": ident} for row in findings]
        rows["names"] += [{"name": n, "digest": graph_id(sbom.image), "first_seen": now,
                           "last_seen": now} for n in image_names(sbom.image)[0]]
        pairs = {pair for p in sbom.packages for pair in lookup_pairs(p, sbom)} | {INDEXED}
        rows["components"] += [{"sbom_digest": digest, "ecosystem": eco, "name": name}
                               for eco, name in sorted(pairs)]
    for name in ("findings", "components"):
        sizes[name] += len(rows[name])
    tables = {"images": ImageRecord, "sboms": SbomRecord, "scans": ScanRecord,
              "findings": FindingRecord, "names": NameRecord, "components": ComponentRecord}
    with engine.begin() as conn:
        for name, record in tables.items():
            _insert(conn, record.__tablename__, rows[name])


def _insert(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """A DB-API ``executemany`` (SQLAlchemy's per-row parameter building was most of the
    fill); times as SQLAlchemy stores them on SQLite (text, no zone)."""
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    columns = list(rows[0])
    sql = (f'INSERT INTO {table} ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
           f'VALUES ({", ".join(["?" if sqlite else "%s"] * len(columns))})')
    conn.exec_driver_sql(sql, [tuple(_plain(row[c], sqlite) for c in columns) for row in rows])


def _plain(value: Any, sqlite: bool) -> Any:
    if sqlite and isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def build_template(url: str, folder: Path, images: int) -> dict[str, Any]:
    """The store (and its advisory database) every variant starts from: filled, indexed,
    baselined. Timed, not part of the target."""
    from hullguard.monitor.rematch import index_components
    from hullguard.monitor.run import MonitorConfig, run_cycle
    from hullguard.store import open_store
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    db_path = folder / "vulndb.sqlite"
    import_inputs(db_path, [ImportInput(CORPUS / feed) for feed in FEEDS])
    names = corpus_packages(CORPUS)
    started = time.perf_counter()
    sizes = fill_store(url, db_path, synthetic_sboms(images, names))
    fill = time.perf_counter() - started
    (folder / "drop").mkdir()
    with open_store(url) as factory:
        started = time.perf_counter()
        index_components(factory)  # nothing left to index: the fill wrote the index
        index = time.perf_counter() - started
        baseline = run_cycle(factory, MonitorConfig(db_path, full_every=timedelta(days=1),
                                                    watch_dir=folder / "drop"))
    return {**sizes, "fill_s": round(fill, 1), "index_s": round(index, 1),
            "baseline_s": round(baseline.seconds, 2)}


# ---------------------------------------------------------------- copies and measuring


def _pg_admin(statement: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def _pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def copy_store(backend: str, template: Path, target: Path) -> str:
    """A copy of the template (store + advisory database + watched folder); its URL."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(template, target)
    if backend == "sqlite":
        return f"sqlite:///{target / 'store.sqlite'}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{target.name}" TEMPLATE "{template.name}"')
    return _pg_url(target.name)


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


def measure(url: str, folder: Path, round_: int) -> list[dict[str, Any]]:
    """One round: one advisory of each level changed, one monitor cycle each (timed)."""
    from hullguard.monitor.run import MonitorConfig, run_cycle
    from hullguard.store import open_store

    config = MonitorConfig(folder / "vulndb.sqlite", full_every=timedelta(days=1),
                           watch_dir=folder / "drop")
    chosen, out = targets(corpus_packages(CORPUS)), []
    with open_store(url) as factory:
        for level in LEVELS:
            target = chosen[level][round_ % len(chosen[level])]
            vuln = changed_advisory(CORPUS, target, folder / "drop")
            started, cpu = time.perf_counter(), time.process_time()
            report = run_cycle(factory, config)
            out.append({"level": level, "advisory": vuln, "package": target.name,
                        "kind": report.kind, "seconds": round(time.perf_counter() - started, 2),
                        "cpu_s": round(time.process_time() - cpu, 2),  # this process only
                        "rematched": report.images_rematched, "changed": report.images_changed,
                        "events": report.events, "phases": report.phases})
    return out


def _measure_in(src: Path, url: str, folder: Path, round_: int) -> list[dict[str, Any]]:
    """:func:`measure` in a fresh interpreter whose ``hullguard`` comes from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, __file__, "--measure", url, str(folder),
                           str(round_)], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"measure failed ({src}):\n{done.stderr[-3000:]}")
    return list(json.loads(done.stdout.splitlines()[-1]))


def run_size(backend: str, images: int, variants: dict[str, Path], repeat: int,
             cache: Path, before_rounds: int | None = None) -> dict[str, Any]:
    name = f"rematch_{backend}_{images}"
    template = cache / name
    built = cache / f"{name}.json"
    if not built.is_file():
        shutil.rmtree(template, ignore_errors=True)
        template.mkdir(parents=True)
        url = f"sqlite:///{template / 'store.sqlite'}"
        if backend == "postgresql":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _pg_admin(f'CREATE DATABASE "{name}"')
            url = _pg_url(name)
        built.write_text(json.dumps({**build_template(url, template, images),
                                     "load_after_build": os.getloadavg()}))
    result: dict[str, Any] = {"backend": backend, "images": images,
                              "build": json.loads(built.read_text()), "variants": {}}
    if not variants:  # --build-only
        return result
    copies = {v: copy_store(backend, template, cache / f"{name}_{v}") for v in variants}
    for round_ in range(repeat):
        for variant, src in variants.items():  # interleaved, round by round
            if variant == "before" and before_rounds is not None and round_ >= before_rounds:
                continue
            runs = _measure_in(src, copies[variant], cache / f"{name}_{variant}", round_)
            result["variants"].setdefault(variant, []).extend(
                {**r, "round": round_, "load": os.getloadavg()[0]} for r in runs)
    result["medians"] = {v: {level: statistics.median(r["seconds"] for r in runs
                                                      if r["level"] == level)
                             for level in LEVELS} for v, runs in result["variants"].items()}
    for variant in variants:
        if backend == "postgresql":
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}_{variant}" WITH (FORCE)')
        shutil.rmtree(cache / f"{name}_{variant}", ignore_errors=True)
    return result


def main() -> None:
    if sys.argv[1:2] == ["--measure"]:
        url, folder, round_ = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(measure(url, folder, round_)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--stores", default="sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (the median is kept)")
    parser.add_argument("--before-src", type=Path, default=None,
                        help="another source tree to measure on its own copy, interleaved")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rematch",
                        help="where the template stores are built (kept for later runs)")
    parser.add_argument("--before-rounds", type=int, default=None,
                        help="rounds of --before-src (fewer than --repeat when it is slow)")
    parser.add_argument("--build-only", action="store_true",
                        help="only build the template stores (to measure later)")
    parser.add_argument("--out", type=Path, default=None, help="append each result (JSON)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1] / "src"
    variants = {"after": here} if args.before_src is None else {"before": args.before_src,
                                                                 "after": here}
    variants = {} if args.build_only else variants
    for backend in args.stores.split(","):
        for images in (int(n) for n in args.sizes.split(",")):
            result = run_size(backend, images, variants, args.repeat, args.cache,
                              args.before_rounds)
            line = json.dumps(result, sort_keys=True)
            print(line, flush=True)
            if args.out is not None:
                with args.out.open("a") as out:
                    out.write(line + "\n")


if __name__ == "__main__":
    main()
