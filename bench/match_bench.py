"""Benchmark: match a realistic 1,000-package SBOM against the corpus advisories.

The SBOM uses real package names and versions taken from the corpus data itself: 400 PyPI
packages (versions from the PyPA records' ``versions`` lists, so many are vulnerable), 300 Go
modules and the Go stdlib (versions from the Go records' events), 300 Alpine packages on a
v3.10 image (versions from the secdb fixes). Two lookups are timed: an in-memory index, and
the real SQLite database (``hullguard.vuln.db.VulnDB``) built once by ``db import``; "cold" is
a freshly opened database, "warm" a second match with its per-package cache filled.

Usage: python3 bench/match_bench.py [--corpus ../shared/corpus] [--repeat 5]
Target (issue 3): < 0.2 s for the match.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from hullguard.model import Advisory, Distro, Package, PackageType, Sbom
from hullguard.model.image import ImageInfo
from hullguard.vuln.importers import load_path
from hullguard.vuln.match import match_sbom

Lookup = Callable[[str, str], Sequence[Advisory]]


def _versions_of(advisory: Advisory) -> list[str]:
    out = [v for a in advisory.affected for v in a.versions]
    for affected in advisory.affected:
        for rng in affected.ranges:
            out += [e.introduced or e.fixed or e.last_affected for e in rng.events]
    return [v for v in out if v and v != "0"]


def _pick(records: list[Advisory], ecosystem: str, count: int, rnd: random.Random,
          ) -> list[tuple[str, str]]:
    by_name: dict[str, set[str]] = defaultdict(set)
    for advisory in records:
        for affected in advisory.affected:
            if affected.ecosystem.startswith(ecosystem):
                by_name[affected.name].update(_versions_of(advisory))
    names = sorted(n for n, v in by_name.items() if v)
    rnd.shuffle(names)
    return [(n, rnd.choice(sorted(by_name[n]))) for n in names[:count]]


def build_sbom(pypi: list[Advisory], go: list[Advisory], alpine: list[Advisory]) -> Sbom:
    rnd = random.Random(1000)
    packages = [Package(n, v, PackageType.PYTHON, f"pkg:pypi/{n}@{v}")
                for n, v in _pick(pypi, "PyPI", 400, rnd)]
    go_picks = _pick(go, "Go", 300, rnd)
    packages += [Package(n, v if n == "stdlib" else "v" + v.removeprefix("v"),
                         PackageType.GO_MODULE, f"pkg:golang/{n}@{v}") for n, v in go_picks]
    packages += [Package(f"{n}-libs", v, PackageType.APK, f"pkg:apk/alpine/{n}@{v}",
                         source_name=n) for n, v in _pick(alpine, "Alpine:v3.10", 300, rnd)]
    packages = packages[:1000]
    while len(packages) < 1000:  # pad with clean packages (no advisories) if the corpus is small
        i = len(packages)
        packages.append(Package(f"clean-{i}", "1.0.0", PackageType.PYTHON, f"pkg:pypi/c{i}@1"))
    return Sbom(ImageInfo("bench:1000", "sbom"), Distro("alpine", "3.10.3"), tuple(packages))


def in_memory(records: list[Advisory]) -> Lookup:
    table: dict[tuple[str, str], list[Advisory]] = defaultdict(list)
    for advisory in records:
        for key in {(a.ecosystem, a.name) for a in advisory.affected}:
            table[key].append(advisory)
    return lambda eco, name: table.get((eco, name), [])


def timed(label: str, run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    best, median = min(times), statistics.median(times)
    print(f"{label:<44} best {best * 1000:7.1f} ms   median {median * 1000:7.1f} ms   {result}")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2]
                        / "shared" / "corpus")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    adv = args.corpus / "advisories"
    zips = [adv / "osv-PyPI-all.zip", adv / "osv-Go-all.zip"]
    secdb = sorted((adv / "alpine-secdb").glob("v*/*.json"))
    pypi, go = (list(load_path(z)) for z in zips)
    alpine = [a for path in secdb for a in load_path(path)]
    sbom = build_sbom(pypi, go, alpine)
    print(f"SBOM: {len(sbom.packages)} packages; records: {len(pypi)} PyPI, {len(go)} Go, "
          f"{len(alpine)} secdb")

    def summary(result: object) -> str:
        findings, unparseable = result.findings, result.unparseable  # type: ignore[attr-defined]
        return f"{len(findings)} findings, {len(unparseable)} unparseable"

    lookup = in_memory(pypi + go + alpine)
    # The corpus records parsed above (12k advisories) stay alive in this process only to build
    # the SBOM and the in-memory index; a real scan has none of them. Freeze them out of the
    # garbage collector's scans so they do not slow every collection the matcher triggers.
    gc.freeze()
    timed("match, in-memory lookup (first run, cold caches)",
          lambda: summary(match_sbom(sbom, lookup)), 1)
    timed("match, in-memory lookup (repeat)", lambda: summary(match_sbom(sbom, lookup)),
          args.repeat)
    _bench_db(sbom, [*zips, *secdb], args.repeat, summary)
    return 0


_COLD_RUN = """
import pickle, sys, time
from hullguard.vuln.db import VulnDB
from hullguard.vuln.match import match_sbom
sbom = pickle.loads(open(sys.argv[1], "rb").read())
start = time.perf_counter()
with VulnDB.open(sys.argv[2]) as db:
    result = match_sbom(sbom, db.advisories_for, db.enrich)
print(time.perf_counter() - start, len(result.findings))
"""


def timed_in_fresh_processes(sbom: Sbom, db_path: Path, repeat: int) -> None:
    """A scan opens the database and matches once per process: time exactly that, each run
    in a new interpreter (repeating in one process lets the range cache grow and slows GC)."""
    import pickle
    import subprocess

    sbom_file = db_path.with_suffix(".sbom.pickle")
    sbom_file.write_bytes(pickle.dumps(sbom))
    times, findings = [], ""
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _COLD_RUN, str(sbom_file), str(db_path)],
                             capture_output=True, text=True, check=True).stdout.split()
        times.append(float(out[0]))
        findings = out[1]
    print(f"{'match, VulnDB (fresh process, one match)':<44} best {min(times) * 1000:7.1f} ms"
          f"   median {statistics.median(times) * 1000:7.1f} ms   {findings} findings")


def _bench_db(sbom: Sbom, inputs: list[Path], repeat: int,
              summary: Callable[[object], str]) -> None:
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vuln.db"
        import_inputs(path, [ImportInput(p) for p in inputs])

        timed_in_fresh_processes(sbom, path, repeat)
        with VulnDB.open(path) as db:
            match_sbom(sbom, db.advisories_for, db.enrich)
            timed("match, VulnDB (warm, same connection)",
                  lambda: summary(match_sbom(sbom, db.advisories_for, db.enrich)), repeat)


if __name__ == "__main__":
    sys.exit(main())
