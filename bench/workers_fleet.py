"""Fleet throughput through Celery workers: N images on a docker-registry on 127.0.0.1,
scanned by the Celery executor with 1 worker and with 2 workers (RabbitMQ), by the
in-process executor, and by trivy once per image, in the same run, ``--rounds`` times with
the order of the cases rotated each round (the machine is shared: a case never always runs
first or last).

  python3 bench/workers_fleet.py --images 200 --rounds 2  # -> bench/.work/workers_fleet.md

Every image is distinct (an Alpine minirootfs from the corpus, cycled, plus a small layer of
its own and an old Python package). Each hullguard case runs the fleet use case
(:func:`~hullguard.pipeline.fleet.scan_fleet` with a fresh journal, then the results
recorded in a fresh SQLite store as ``scan-fleet --store`` does, timed as write) and the
per-layer cache off, so every layer of every image is downloaded and walked (a full re-walk;
the "shared bases" case turns a fresh per-layer cache on: each corpus base is walked once).
Every image's outcome says where its time went (registry I/O, walk, match, journal write;
plus the run's store write:
:mod:`hullguard.pipeline.timing`); the table sums them per case, as a share of the case's
worker time (workers x wall). hullguard catalogs, matches (corpus Alpine secdb v3.10 and
v3.11) and scans for secrets; trivy (no vulnerability DB here: offline) pulls from the
registry, catalogs and scans for secrets (``--scanners secret`` with a CycloneDX SBOM): the
same registry I/O and walk, without the matching.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.support.brokers import start_broker, start_worker  # noqa: E402
from tests.support.registry import start_registry  # noqa: E402

from hullguard.images.builder import (  # noqa: E402
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_oci_layout,
)
from hullguard.images.registry import RegistryClient, push_layout  # noqa: E402
from hullguard.model.inventory import Inventory  # noqa: E402
from hullguard.pipeline.executors import Executor, InProcessExecutor  # noqa: E402
from hullguard.pipeline.fleet import scan_fleet  # noqa: E402
from hullguard.pipeline.jobs import ImageJob, ImageOutcome, JobOptions  # noqa: E402
from hullguard.pipeline.timing import Timings  # noqa: E402
from hullguard.respond.journal import Journal  # noqa: E402
from hullguard.respond.persist import record_fleet  # noqa: E402

CORPUS = Path(os.environ.get("HULLGUARD_CORPUS", REPO.parent / "shared" / "corpus"))
PEERS = Path(os.environ.get("HULLGUARD_PEERS_DIR", Path.home() / ".cache/hullguard/peers"))
WORK = REPO / "bench" / ".work"
HARBOR_PER_WORKER_HOUR = 33.0  # 110,000 images, 75 workers, ~55 h (the figure)


def push_fleet(host: str, root: Path, count: int) -> list[str]:
    tarballs = sorted((CORPUS / "images" / "alpine").glob("alpine-minirootfs-*-x86_64.tar.gz"))
    layers = [rootfs_layer(t) for t in tarballs]
    refs = []
    with RegistryClient(host) as client:
        for i in range(count):
            own = LayerSpec((FileSpec(f"srv/app-{i}.txt", f"image {i}\n".encode()), FileSpec(
                "usr/lib/python3.8/site-packages/requests-2.19.1.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.1\n")))
            layout = write_oci_layout(root / f"l{i}", ImageSpec([layers[i % len(layers)], own]))
            push_layout(client, layout, f"bench/app{i}", "v1")
            refs.append(f"{host}/bench/app{i}:v1")
    return refs


def build_db(path: Path) -> Path:
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    feeds = [f for branch in ("v3.10", "v3.11")
             for f in sorted((CORPUS / "advisories" / "alpine-secdb" / branch).glob("*.json"))]
    import_inputs(path, [ImportInput(f) for f in feeds])
    return path


@dataclass
class Run:
    """One case of one round: wall seconds, the summed per-image timings, the load."""

    case: str
    round: int
    workers: int
    wall: float
    images: int
    spent: Timings | None = None  # None: a peer, which reports no phases
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at start, at end


def fleet_jobs(refs: list[str], db: Path, layer_cache: str) -> list[ImageJob]:
    options = JobOptions(str(db), layer_cache=layer_cache)
    return [ImageJob(ref, ref, options=options) for ref in refs]


def hullguard_run(tmp: Path, name: str, jobs: list[ImageJob], executor: Executor) -> Run:
    """The fleet use case over ``jobs``; it counts only if every image was scanned and has
    packages (a run that reported images as not scanned would time nothing)."""
    spent: list[Timings] = []

    def heard(_job: ImageJob, outcome: ImageOutcome) -> None:
        spent.append(outcome.timings)

    load = os.getloadavg()[0]
    started = time.perf_counter()
    results = scan_fleet(jobs, journal=Journal(tmp / f"journal-{name}"), executor=executor,
                         on_outcome=heard)
    stored = time.perf_counter()
    record_fleet(f"sqlite:///{tmp / f'store-{name}.sqlite'}", Inventory(), results,
                 jobs[0].options.db_path if jobs else "none")  # as scan-fleet --store does
    store_s = time.perf_counter() - stored
    wall = time.perf_counter() - started
    failed = [r.name + ": " + r.error for r in results if not r.scanned or not r.sbom
              or not r.sbom.packages]
    if failed:
        raise SystemExit(f"{name}: not scanned (or empty): {failed[:3]}")
    total = Timings(write_s=store_s)  # the one store write of the run, after the scans
    for timings in spent:
        total = total.plus(timings)
    return Run(name, 0, 1, wall, len(results), total, (load, os.getloadavg()[0]))


def trivy_run(tmp: Path, refs: list[str]) -> Run:
    trivy = PEERS / "bin" / "trivy"
    env = {**os.environ, "TRIVY_CACHE_DIR": str(tmp / "trivy-cache"), "TRIVY_INSECURE": "true"}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    for i, ref in enumerate(refs):
        done = subprocess.run(
            [str(trivy), "image", "--image-src", "remote", "--scanners", "secret",
             "--format", "cyclonedx", "--output", str(tmp / f"trivy-{i}.json"),
             "--cache-backend", "memory", "--skip-version-check", "--disable-telemetry",
             "--skip-db-update", "--skip-java-db-update", "--offline-scan", "--no-progress",
             ref], capture_output=True, text=True, env=env, check=False, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"trivy {ref} failed: {done.stderr[-2000:]}")
    wall = time.perf_counter() - started
    return Run("trivy", 0, 1, wall, len(refs), None, (load, os.getloadavg()[0]))


CASE_NAMES = {
    "inprocess": "hullguard in-process",
    "shared": "hullguard in-process, shared bases (per-layer cache on)",
    "celery1": "hullguard, Celery, 1 worker",
    "celery2": "hullguard, Celery, 2 workers",
    "trivy": "trivy once per image (SBOM + secrets)",
}


def cases(tmp: Path, refs: list[str], db: Path, broker: str) -> dict[str, Callable[[int], Run]]:
    """Each case as a function of the round (fresh journal and cache directories each time)."""

    def inprocess(r: int) -> Run:
        return hullguard_run(tmp, f"inprocess-{r}", fleet_jobs(refs, db, "off"),
                             InProcessExecutor())

    def shared(r: int) -> Run:
        jobs = fleet_jobs(refs, db, str(tmp / f"layer-cache-{r}"))
        return hullguard_run(tmp, f"shared-{r}", jobs, InProcessExecutor())

    def celery(workers: int) -> Callable[[int], Run]:
        def run(r: int) -> Run:
            from hullguard.workers.client import CeleryExecutor

            with ExitStack() as stack:  # the workers start (and are ready) before the clock
                for n in range(workers):
                    stack.enter_context(start_worker(broker, tmp / f"w{workers}-{r}-{n}.log"))
                done = hullguard_run(tmp, f"celery{workers}-{r}", fleet_jobs(refs, db, "off"),
                                     CeleryExecutor(broker))
            done.workers = workers
            return done
        return run

    return {"inprocess": inprocess, "shared": shared, "celery1": celery(1),
            "celery2": celery(2), "trivy": lambda r: trivy_run(tmp, refs)}


def share(run: Run, seconds: float) -> str:
    return f"{100 * seconds / (run.workers * run.wall):.0f}%"


def run_row(run: Run) -> str:
    per_min = run.images / run.wall * 60
    cells = [CASE_NAMES[run.case], str(run.round), str(run.workers), f"{run.wall:.1f}",
             f"{per_min:.1f}", f"{per_min * 60 / run.workers:,.0f}"]
    if run.spent is not None:
        spent = run.spent
        other = run.workers * run.wall - spent.total_s
        cells += [share(run, s) for s in (spent.registry_s, spent.walk_s, spent.match_s,
                                          spent.write_s, other)]
        cells.append("/".join(f"{1000 * s / run.images:.0f}" for s in (
            spent.registry_s, spent.walk_s, spent.match_s, spent.write_s)))
    else:
        cells += ["-"] * 6
    cells.append(f"{run.load[0]:.1f} -> {run.load[1]:.1f}")
    return "| " + " | ".join(cells) + " |"


def summary(runs: list[Run]) -> list[str]:
    lines = ["", "Median over the rounds:", "",
             "| run | workers | images/min, median (each round) | images per worker-hour |",
             "|---|---|---|---|"]
    for case in CASE_NAMES:
        mine = [r for r in runs if r.case == case]
        if not mine:
            continue
        rates = [r.images / r.wall * 60 for r in mine]
        median = statistics.median(rates)
        each = ", ".join(f"{x:.1f}" for x in rates)
        lines.append(f"| {CASE_NAMES[case]} | {mine[0].workers} | **{median:.1f}** ({each}) | "
                     f"{median * 60 / mine[0].workers:,.0f} |")
    lines.append(f"| Harbor (published: 110,000 images, 75 workers, ~55 h) | 75 | "
                 f"{HARBOR_PER_WORKER_HOUR * 75 / 60:.0f} (all 75) | "
                 f"~{HARBOR_PER_WORKER_HOUR:.0f} |")
    return lines


def table(count: int, runs: list[Run]) -> str:
    cpus = os.cpu_count()
    lines = [f"Fleet of {count} images on a docker-registry on 127.0.0.1 ({cpus} cores shared "
             "with other jobs; load: the 1-minute load average at the start and the end of "
             "each case). Shares: the per-image phase timings summed, as a share of the "
             "case's worker time (workers x wall); other: the rest (queue, process, idle, "
             "journal lookup, the submitting process). ms/image: registry/walk/match/write.",
             "",
             "| run | round | workers | wall s | images/min | images per worker-hour | "
             "registry | walk | match | write | other | ms/image | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [run_row(run) for run in runs]
    lines += summary(runs)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cases", default=",".join(CASE_NAMES),
                        help=f"comma separated, of: {', '.join(CASE_NAMES)}")
    args = parser.parse_args()
    chosen = [c.strip() for c in args.cases.split(",") if c.strip() in CASE_NAMES]
    WORK.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        tmp = Path(scratch)
        db = build_db(tmp / "vuln.sqlite")
        with start_registry(tmp / "registry") as registry, \
                start_broker("rabbitmq", tmp / "rabbitmq") as broker:
            refs = push_fleet(registry.host, tmp / "layouts", args.images)
            run_case = cases(tmp, refs, db, broker.url)
            for r in range(1, args.rounds + 1):
                shift = (r - 1) % len(chosen)
                for case in chosen[shift:] + chosen[:shift]:
                    done = run_case[case](r)
                    done.case, done.round = case, r
                    runs.append(done)
                    print(run_row(done), flush=True)
    text = table(args.images, runs)
    (WORK / "workers_fleet.md").write_text(text)
    (WORK / "workers_fleet.json").write_text(json.dumps([{
        "case": r.case, "round": r.round, "workers": r.workers, "wall": r.wall,
        "images": r.images, "load": r.load,
        "spent": None if r.spent is None else vars(r.spent)} for r in runs], indent=1))
    print(text)


if __name__ == "__main__":
    main()
