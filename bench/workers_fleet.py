"""Fleet throughput through Celery workers: N images on a docker-registry on 127.0.0.1,
scanned by ``scan-fleet --executor celery`` with 1 worker and with 2 workers (RabbitMQ), by
the in-process executor, and by trivy once per image, in the same run.

  python3 bench/workers_fleet.py --images 12      # -> bench/.work/workers_fleet.md

Every image is distinct (an Alpine minirootfs from the corpus, cycled, plus a small layer of
its own and an old Python package), so no run reuses another's work: each hullguard run gets
a fresh journal and no store. hullguard catalogs, matches (corpus Alpine secdb v3.10 and
v3.11) and scans for secrets; trivy (no vulnerability DB here: offline) pulls from the
registry, catalogs and scans for secrets (``--scanners secret`` with a CycloneDX SBOM): the
same registry I/O and walk, without the matching.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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


def hullguard(*args: str) -> float:
    """Wall seconds of one scan-fleet run that scanned every image (a run that reported
    images as not scanned would time nothing: it stops the benchmark)."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "hullguard", *args], capture_output=True,
                          text=True, env=env, check=False, timeout=3600)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"hullguard {' '.join(args)} failed: {done.stderr[-2000:]}")
    rows = json.loads(done.stdout)["images"]
    failed = [row for row in rows if not row["scanned"] or not row["packages"]]
    if failed:
        raise SystemExit(f"not scanned (or empty): {failed[:3]}")
    return seconds


def fleet_run(tmp: Path, name: str, listing: Path, db: Path, *extra: str) -> float:
    return hullguard("scan-fleet", str(listing), "--db", str(db), "--no-store", "--quiet",
                     "--state", str(tmp / f"state-{name}"), "--format", "json", *extra)


def trivy_run(tmp: Path, refs: list[str]) -> float:
    trivy = PEERS / "bin" / "trivy"
    env = {**os.environ, "TRIVY_CACHE_DIR": str(tmp / "trivy-cache"), "TRIVY_INSECURE": "true"}
    started = time.monotonic()
    for i, ref in enumerate(refs):
        done = subprocess.run(
            [str(trivy), "image", "--image-src", "remote", "--scanners", "secret",
             "--format", "cyclonedx", "--output", str(tmp / f"trivy-{i}.json"),
             "--cache-backend", "memory", "--skip-version-check", "--disable-telemetry",
             "--skip-db-update", "--skip-java-db-update", "--offline-scan", "--no-progress",
             ref], capture_output=True, text=True, env=env, check=False, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"trivy {ref} failed: {done.stderr[-2000:]}")
    return time.monotonic() - started


def table(count: int, timings: dict[str, tuple[int, float]]) -> str:
    lines = [f"Fleet of {count} images on a docker-registry on 127.0.0.1 (2-core VM shared "
             "with other jobs; one run each).", "",
             "| run | workers | wall s | images/min | images per worker-hour |",
             "|---|---|---|---|---|"]
    for name, (workers, seconds) in timings.items():
        per_min = count / seconds * 60
        lines.append(f"| {name} | {workers} | {seconds:.1f} | {per_min:.1f} | "
                     f"{per_min * 60 / workers:,.0f} |")
    lines.append(f"| Harbor (published: 110,000 images, 75 workers, ~55 h) | 75 | - | - | "
                 f"~{HARBOR_PER_WORKER_HOUR:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        tmp = Path(scratch)
        db = build_db(tmp / "vuln.sqlite")
        with start_registry(tmp / "registry") as registry, \
                start_broker("rabbitmq", tmp / "rabbitmq") as broker:
            refs = push_fleet(registry.host, tmp / "layouts", args.images)
            listing = tmp / "compose.yaml"
            listing.write_text("services:\n" + "".join(
                f"  s{i}:\n    image: {ref}\n" for i, ref in enumerate(refs)))
            timings: dict[str, tuple[int, float]] = {}
            timings["hullguard in-process"] = (1, fleet_run(
                tmp, "inproc", listing, db, "--executor", "inprocess"))
            celery = ("--executor", "celery", "--broker", broker.url)
            with start_worker(broker.url, tmp / "w1.log"):
                timings["hullguard, Celery, 1 worker"] = (1, fleet_run(
                    tmp, "one", listing, db, *celery))
                with start_worker(broker.url, tmp / "w2.log"):
                    timings["hullguard, Celery, 2 workers"] = (2, fleet_run(
                        tmp, "two", listing, db, *celery))
            timings["trivy once per image (SBOM + secrets)"] = (1, trivy_run(tmp, refs))
    text = table(args.images, timings)
    (WORK / "workers_fleet.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
