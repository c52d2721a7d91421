"""Per-layer cache: a fleet on shared bases, cold vs with the bases cached, from a registry.

A real docker-registry on 127.0.0.1 (tests/support/registry.py) holds a fleet built with
hullguard.images.builder: three bases from the corpus Alpine minirootfs tarballs (one plain,
one with a layer of Python standard-library sources, one with a layer of larger "runtime"
files), and per base several children, each adding one small application layer. Every image
is scanned as ``scan-fleet`` scans it (``run_image_job``: catalog + secrets in one walk, in
this process, one image after another, blobs downloaded into a fresh temp dir each time):

* cold: ``--layer-cache off``, every layer of every image walked;
* bases cached: the three bases scanned once first (their records made), then the fleet;
* a new child on a cached base against the same child cold.

    python3 bench/layer_cache_bench.py [--children 6] [--runs 3] [--debian bench/.work/rootfs]

``--against SRC`` (another checkout's ``src``, e.g. from ``git archive``) measures only the new
child, this code against that one, interleaved: each run, one process per version records the
python base, then scans its own new child cold and on that cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.env import alpine_tarballs  # noqa: E402
from tests.support.registry import RegistryServer, start_registry  # noqa: E402

from hullguard.images.builder import (  # noqa: E402
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_oci_layout,
)
from hullguard.images.registry import RegistryClient, push_layout  # noqa: E402
from hullguard.pipeline.jobs import ImageJob, JobOptions  # noqa: E402
from hullguard.pipeline.worker import run_image_job  # noqa: E402


def stdlib_layer(limit: int) -> LayerSpec:
    root = Path(sysconfig.get_paths()["stdlib"])
    files, total = [], 0
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if total + len(data) > limit:
            break
        files.append(FileSpec("usr/lib/python3.11/" + str(path.relative_to(root)), data))
        total += len(data)
    return LayerSpec(tuple(files), created_by="RUN apk add python3")


def runtime_layer(count: int, size: int) -> LayerSpec:
    """Larger binary-ish files (a JDK stand-in): deterministic, poorly compressible."""
    import hashlib

    files = []
    for number in range(count):
        seed = hashlib.sha256(str(number).encode()).digest()
        files.append(FileSpec(f"opt/jdk/lib/mod{number}.bin", (seed * (size // 32 + 1))[:size]))
    return LayerSpec(tuple(files), created_by="ADD jdk.tar.gz /opt/jdk")


def bases(debian: Path | None = None) -> dict[str, list[LayerSpec]]:
    """The issue's three bases: Alpine, Debian with python3, Debian with a JDK. With
    ``debian`` (bench/build_debian_images.sh's output folder, holding debian-python.tar and
    debian-jdk.tar made by mmdebstrap) the real Debian root filesystems; without, stand-ins
    on Alpine (a layer of Python sources, a layer of generated "JDK" files)."""
    tarballs = alpine_tarballs()
    if debian is not None:
        return {"alpine": [rootfs_layer(tarballs[-1])],
                "python": [rootfs_layer(debian / "debian-python.tar")],
                "jdk": [rootfs_layer(debian / "debian-jdk.tar")]}
    return {"alpine": [rootfs_layer(tarballs[-1])],
            "python": [rootfs_layer(tarballs[-2]), stdlib_layer(32 << 20)],
            "jdk": [rootfs_layer(tarballs[-3]), runtime_layer(48, 1 << 20)]}


def app_layer(base: str, number: int) -> LayerSpec:
    text = f"SERVICE={base}-{number}\n".encode()
    return LayerSpec((FileSpec(f"srv/app{number}/app.env", text),
                      FileSpec(f"srv/app{number}/main.py", b"print('hello')\n" * 50)),
                     created_by=f"COPY app{number} /srv/app{number}")


def gzip_each_layer_once() -> None:
    """A base's children share its layer's bytes (the same object): gzip them once, not once
    per child (minutes for a 300 MB Debian layer); the pushed blobs are the same."""
    import hullguard.images.builder as builder

    plain, made = builder.gzip_bytes, {}

    def once(data: bytes) -> bytes:
        kept = made.get(id(data))
        if kept is None or kept[0] is not data:
            kept = made[id(data)] = (data, plain(data))
        return kept[1]

    builder.gzip_bytes = once


def push_fleet(server: RegistryServer, work: Path, children: int,
               debian: Path | None = None) -> dict[str, list[str]]:
    """Repositories by base: the base image first, then its children, then one extra child
    (the "new" image)."""
    fleet: dict[str, list[str]] = {}
    gzip_each_layer_once()
    with RegistryClient(server.host) as client:
        for base, layers in bases(debian).items():
            names = [f"{base}/base"] + [f"{base}/app{n}" for n in range(children + 1)]
            for number, name in enumerate(names):
                spec = ImageSpec(layers if number == 0 else [*layers, app_layer(base, number)])
                layout = write_oci_layout(work / name.replace("/", "-"), spec, tag="v1")
                push_layout(client, layout, name, "v1")
            fleet[base] = names
    return fleet


def scan(server: RegistryServer, names: list[str], cache: str) -> float:
    started = time.perf_counter()
    for name in names:
        reference = server.ref(name, "v1")
        job = ImageJob(reference, reference, options=JobOptions(layer_cache=cache))
        result = run_image_job(job).result
        if result.problem is not None:
            raise SystemExit(f"{name}: {result.problem}")
    return time.perf_counter() - started


def measure(server: RegistryServer, fleet: dict[str, list[str]], runs: int,
            work: Path) -> dict[str, list[float]]:
    children = [n for names in fleet.values() for n in names[1:-1]]
    base_images = [names[0] for names in fleet.values()]
    new_child = fleet["python"][-1]
    times: dict[str, list[float]] = {k: [] for k in (
        "cold", "bases", "warm", "child-cold", "child-cached")}
    for run in range(runs):
        times["cold"].append(scan(server, children, "off"))
        cache = str(work / f"cache-{run}")
        scan(server, base_images, cache)  # the bases' records
        times["bases"].append(scan(server, children, cache))
        times["warm"].append(scan(server, children, cache))
        times["child-cold"].append(scan(server, [new_child], "off"))
        times["child-cached"].append(scan(server, [new_child], cache))
    return times


_CHILD = """
import json, sys, time
from hullguard.pipeline.jobs import ImageJob, JobOptions
from hullguard.pipeline.worker import run_image_job
def one(ref, cache):
    started = time.perf_counter()
    result = run_image_job(ImageJob(ref, ref, options=JobOptions(layer_cache=cache))).result
    assert result.problem is None, result.problem
    return time.perf_counter() - started
one(sys.argv[1], sys.argv[3])
print(json.dumps([one(sys.argv[2], "off"), one(sys.argv[2], sys.argv[3])]))
"""


def against(server: RegistryServer, fleet: dict[str, list[str]], runs: int, work: Path,
            other: Path) -> str:
    """Child cold vs on a cached base, this code (B) against ``other`` (A), interleaved."""
    import json
    import subprocess

    versions = {"A": str(other), "B": str(REPO / "src")}
    ratios: dict[str, list[float]] = {"A": [], "B": []}
    children = iter(fleet["python"][1:])
    for run in range(runs):
        for label in (("A", "B") if run % 2 == 0 else ("B", "A")):
            env = {**os.environ, "PYTHONPATH": f"{versions[label]}:{REPO}"}
            done = subprocess.run([sys.executable, "-c", _CHILD, server.ref(fleet["python"][0],
                                   "v1"), server.ref(next(children), "v1"),
                                   str(work / f"cache-{label}-{run}")], env=env,
                                  capture_output=True, text=True, check=True)
            cold, cached = json.loads(done.stdout.splitlines()[-1])
            ratios[label].append(cached / cold)
            print(f"{label} run {run + 1}: child cold {cold:.2f} s, on the cached base "
                  f"{cached:.2f} s ({cached / cold:.3f}x), load {load()}", flush=True)
    return "\n".join(f"{label}: median {statistics.median(values):.3f}x"
                     for label, values in ratios.items())


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def table(times: dict[str, list[float]], images: int) -> str:
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [
        ("fleet, cold (`--layer-cache off`, every layer walked)", med["cold"], 1.0),
        ("fleet, the 3 bases cached", med["bases"], med["cold"] / med["bases"]),
        ("fleet again, every layer cached", med["warm"], med["cold"] / med["warm"]),
        ("new child on a cached base: cold", med["child-cold"], 1.0),
        ("new child on a cached base: cached", med["child-cached"],
         med["child-cold"] / med["child-cached"]),
    ]
    lines = [f"fleet: {images} images (3 bases), median of {len(times['cold'])} runs", "",
             "| case | wall s | speed-up |", "|---|---:|---:|"]
    lines += [f"| {name} | {seconds:.2f} | {ratio:.1f}x |" for name, seconds, ratio in rows]
    pairs = [cached / cold for cached, cold in zip(times["child-cached"], times["child-cold"],
                                                    strict=True)]
    fleet = [cold / bases for cold, bases in zip(times["cold"], times["bases"], strict=True)]
    lines.append(f"\nchild cached / cold, per run: {', '.join(f'{r:.2f}' for r in pairs)}"
                 f" (median {statistics.median(pairs):.2f}); fleet cold / bases cached, per "
                 f"run: {', '.join(f'{r:.1f}x' for r in fleet)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=6, help="children per base")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--debian", type=Path, help="folder with debian-python.tar and "
                        "debian-jdk.tar (bench/build_debian_images.sh): real Debian bases")
    parser.add_argument("--against", type=Path, help="another version's src: the new child "
                        "only, this version against that one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hullguard-layercache-") as tmp:
        work = Path(tmp)
        with start_registry(work / "registry") as server:
            fleet = push_fleet(server, work, args.children, args.debian)
            before = f"load average at the start {load()} ({time.strftime('%H:%M:%S')})"
            if args.against is not None:
                if args.children + 1 < 2 * args.runs:
                    raise SystemExit("--against needs --children of at least 2 * runs - 1")
                print(against(server, fleet, args.runs, work, args.against))
                print(f"{before}, at the end {load()} ({time.strftime('%H:%M:%S')})")
                return
            times = measure(server, fleet, args.runs, work)
    print(table(times, 3 * args.children))
    print(f"{before}, at the end {load()} ({time.strftime('%H:%M:%S')}) on "
          f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
