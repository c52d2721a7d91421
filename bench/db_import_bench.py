"""Benchmark: ``db import`` of the corpus OSV zips (PyPI + Go) into a fresh database.

    python3 bench/db_import_bench.py [--runs 5]

Prints the median wall time of the library call and of the real CLI (subprocess), and the
record counts. The bar (issue 3): under 5 s for both zips.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "advisories"
ZIPS = [CORPUS / "osv-PyPI-all.zip", CORPUS / "osv-Go-all.zip"]


def _library(db: Path) -> tuple[float, int]:
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    start = time.perf_counter()
    reports = import_inputs(db, [ImportInput(p) for p in ZIPS])
    return time.perf_counter() - start, sum(r.stats.total for r in reports)


def _cli(db: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hullguard", "db", "import", "--db", str(db), "-q",
                    *map(str, ZIPS)], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    lib, cli, records = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            elapsed, records = _library(Path(tmp) / f"lib{run}.sqlite")
            lib.append(elapsed)
            cli.append(_cli(Path(tmp) / f"cli{run}.sqlite"))
        size = (Path(tmp) / "lib0.sqlite").stat().st_size
    print(f"records: {records}  database size: {size / 1e6:.1f} MB")
    print(f"library import_inputs: median {statistics.median(lib):.2f} s "
          f"(min {min(lib):.2f}, max {max(lib):.2f}) over {runs} runs")
    print(f"CLI `hullguard db import`: median {statistics.median(cli):.2f} s "
          f"(min {min(cli):.2f}, max {max(cli):.2f})")


if __name__ == "__main__":
    main()
