"""Graph speed bar: a generated fleet of 10,000 images on a few shared bases, in the store.

    python3 bench/graph_bench.py [--images 10000] [--store PATH|postgresql://...] [--runs 7]

The fleet: 5 base images (Alpine 3.18/3.20, Debian 12, Ubuntu 22.04, a 2-layer distroless),
6 language runtimes on each, and N application images on the runtimes (1-3 app layers each).
Each image gets an SBOM with realistic package counts (base OS packages, runtime packages,
20-150 application packages from a pool of 3,000 names), every app image runs in one workload
(namespaces prod/staging/dev, ~10 % internet-facing, half with the running digest a kubectl
dump records). Layer diffIDs are synthetic (hashes of
names): the bench measures the graph, not image parsing.

Everything is written to the store through the normal API (``index_images``,
``save_inventory``), then each query is timed from a fresh ``StoreGraph`` over the store, as the
CLI runs it (render time reported separately). Bars: blast-radius < 100 ms, who-has < 200 ms.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hullguard.graph.queries import blast_radius, who_has
from hullguard.graph.render import render
from hullguard.inventory.references import normalize
from hullguard.model.image import Digest, ImageInfo, Layer
from hullguard.model.inventory import (
    Criticality,
    Environment,
    Exposure,
    ImageOccurrence,
    Inventory,
    InventoryImage,
    Origin,
    SourceKind,
    SourceLocation,
    Workload,
)
from hullguard.model.package import Package, PackageType, Sbom
from hullguard.store.base import make_engine
from hullguard.store.graph import StoreGraph, index_images
from hullguard.store.inventory import save_inventory

BASES = {  # name -> (layers, os package type, os package count, ssl package, ssl version)
    "docker.io/library/alpine:3.18": (1, PackageType.APK, 15, "libssl3", "3.1.7-r0"),
    "docker.io/library/alpine:3.20": (1, PackageType.APK, 16, "libssl3", "3.3.2-r0"),
    "docker.io/library/debian:12": (1, PackageType.DEB, 90, "openssl", "3.0.11-1~deb12u2"),
    "docker.io/library/ubuntu:22.04": (1, PackageType.DEB, 100, "openssl",
                                       "3.0.2-0ubuntu1.15"),
    "gcr.io/distroless/base-debian12:latest": (2, PackageType.DEB, 20, "libssl3",
                                               "3.0.14-1~deb12u1"),
}
RUNTIMES = {"python3.11": PackageType.PYTHON, "python3.12": PackageType.PYTHON,
            "node18": PackageType.NPM, "node20": PackageType.NPM,
            "java17": PackageType.JAVA, "go1.22": PackageType.GO_MODULE}


def digest(text: str) -> Digest:
    return Digest("sha256", hashlib.sha256(text.encode()).hexdigest())


def image(name: str, chain: list[str]) -> ImageInfo:
    layers = tuple(Layer(i, digest(f"blob:{d}"), digest(d)) for i, d in enumerate(chain))
    return ImageInfo(name, "registry", digest(f"manifest:{name}"), digest(f"config:{name}"),
                     tags=(name,), layers=layers)


def package(name: str, version: str, kind: PackageType) -> Package:
    return Package(name, version, kind, f"pkg:{kind.value}/{name}@{version}")


def os_packages(base: str, rng: random.Random) -> list[Package]:
    _, kind, count, ssl, ssl_version = BASES[base]
    names = [f"os-pkg-{i}" for i in range(count - 1)]
    return [package(ssl, ssl_version, kind)] + [
        package(n, f"1.{rng.randrange(9)}.{rng.randrange(20)}-r0", kind) for n in names]


def app_packages(kind: PackageType, rng: random.Random) -> list[Package]:
    count = rng.randrange(20, 150)
    found = [package(f"lib-{rng.randrange(3000)}", f"{rng.randrange(1, 5)}.{rng.randrange(30)}.0",
                     kind) for _ in range(count)]
    if kind is PackageType.JAVA and rng.random() < 0.4:
        found.append(package("log4j-core", rng.choice(["2.14.1", "2.17.1", "2.20.0"]), kind))
    return found


class Fleet:
    def __init__(self, count: int, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.entries: list[tuple[ImageInfo, Sbom]] = []
        self.runtimes: list[tuple[str, list[str], list[Package], PackageType]] = []
        self._bases_and_runtimes()
        self.apps = [self._app(i) for i in range(count)]

    def _bases_and_runtimes(self) -> None:
        for base, (layers, *_rest) in BASES.items():
            chain = [f"{base}#layer{i}" for i in range(layers)]
            packages = os_packages(base, self.rng)
            info = image(base, chain)
            self.entries.append((info, Sbom(info, packages=tuple(packages))))
            for runtime, kind in RUNTIMES.items():
                name = f"registry.corp.example/runtime/{runtime}-{base.split('/')[-1]}"
                rchain = [*chain, f"{name}#runtime"]
                rpackages = packages + [package(f"{runtime}-core-{i}", "1.0.0", kind)
                                        for i in range(30)]
                rinfo = image(name, rchain)
                self.entries.append((rinfo, Sbom(rinfo, packages=tuple(rpackages))))
                self.runtimes.append((name, rchain, rpackages, kind))

    def _app(self, number: int) -> ImageInfo:
        _runtime, chain, packages, kind = self.rng.choice(self.runtimes)
        name = f"registry.corp.example/team-{number % 97}/app-{number}:1.{number % 13}"
        app_chain = [*chain, *(f"{name}#app{i}" for i in range(self.rng.randrange(1, 4)))]
        info = image(name, app_chain)
        all_packages = packages + app_packages(kind, self.rng)
        self.entries.append((info, Sbom(info, packages=tuple(all_packages))))
        return info

    def inventory(self) -> Inventory:
        images, workloads = [], []
        for number, info in enumerate(self.apps):
            env = (Environment.PRODUCTION, Environment.STAGING, Environment.DEVELOPMENT)[number % 3]
            namespace = f"team-{number % 97}-{env.value[:4]}"
            facing = number % 10 == 0
            workload = Workload(namespace, "Deployment", f"app-{number}", "fleet.yaml",
                                containers=("app",),
                                exposure=Exposure(facing, (f"Ingress {namespace}/app-{number}",)
                                                  if facing else ()),
                                environment=env, criticality=Criticality.HIGH)
            workloads.append(workload)
            ref_text = info.reference
            ref = normalize(ref_text)
            location = SourceLocation(SourceKind.KUBERNETES, "fleet.yaml", number + 1, namespace,
                                      "Deployment", f"app-{number}", "app")
            running = str(info.digest) if number % 2 else ""  # half from kubectl dumps
            images.append(InventoryImage(ref, Origin.INTERNAL,
                                         (ImageOccurrence(ref, ref_text, location, running),)))
        return Inventory(tuple(images), tuple(workloads))


def timed(function: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--store", default="")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or str(Path(tmp) / "bench.db")
        run(args.images, store, args.runs)


def run(count: int, store: str, runs: int) -> None:
    start = time.perf_counter()
    fleet = Fleet(count)
    packages = sum(len(s.packages) for _, s in fleet.entries)
    print(f"fleet: {len(fleet.entries)} images ({count} apps), {packages} packages, "
          f"generated in {time.perf_counter() - start:.1f} s")
    engine = make_engine(store)
    start = time.perf_counter()
    for index in range(0, len(fleet.entries), 1000):
        index_images(engine, fleet.entries[index:index + 1000])
    save_inventory(engine, fleet.inventory())
    print(f"stored in {time.perf_counter() - start:.1f} s ({engine.dialect.name})")
    queries: list[tuple[str, str, Callable[[Any, str], Any], float]] = [
        ("blast-radius", "docker.io/library/debian:12", blast_radius, 100),
        ("blast-radius", "registry.corp.example/runtime/node20-alpine:3.18", blast_radius, 100),
        ("who-has", "openssl@<3.0.12", who_has, 200),
        ("who-has", "maven:log4j-core@>=2.0,<2.17.1", who_has, 200),
    ]
    print("\n| query | argument | result | min ms | median ms | bar | render json ms |")
    print("|---|---|---|---|---|---|---|")
    for label, argument, function, bar in queries:
        def query(function: Callable[[Any, str], Any] = function,
                  argument: str = argument) -> Any:
            with StoreGraph(engine) as source:
                return function(source, argument)

        best, median, result = timed(query, runs)
        size = len(result.nodes) if label == "blast-radius" else len(result.hits)
        render_best, _, _ = timed(functools.partial(render, result, "json"), 3)
        verdict = "ok" if median < bar else "SLOW"
        print(f"| {label} | `{argument}` | {size} images, {len(result.usages)} usages | "
              f"{best:.1f} | {median:.1f} | < {bar} ({verdict}) | {render_best:.1f} |")
    engine.dispose()


if __name__ == "__main__":
    main()
