"""respond scaling: a generated Kubernetes fleet of N Deployments (one pod each) on a few shared
images, timed end to end (inventory, fleet scan, triage, the incident folder) and for the
inventory alone. respond must grow linearly with the pods, like the inventory.

    python3 bench/respond_scale_bench.py [--pods 2500 5000 10000] [--images 4] [--profile N]

The images are small real docker archives (bench/.work/respond-scale/), mapped with
``--image``-style sources, so the scan itself is a constant; the bundled demo advisories are the
database. ``--profile N`` prints the top cProfile entries of one run of N pods instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from pathlib import Path

from hullguard.demo import prepare_demo
from hullguard.demo.images import demo_images
from hullguard.images.builder import write_docker_archive
from hullguard.pipeline.respond import RespondOptions, collect_inventory, respond

WORK = Path(__file__).parent / ".work" / "respond-scale"
NAMESPACES = ("shop-prod", "shop-staging", "payments-prod", "data-dev", "edge-prod")


def deployment(index: int, image: str) -> str:
    namespace = NAMESPACES[index % len(NAMESPACES)]
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{index}
  namespace: {namespace}
  labels: {{app: app-{index}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: app-{index}}}}}
  template:
    metadata: {{labels: {{app: app-{index}}}}}
    spec:
      containers:
      - name: main
        image: {image}
        ports: [{{containerPort: 8080}}]
"""


def fleet(root: Path, pods: int, images: list[str]) -> Path:
    """N Deployments, in files of 500, cycling through ``images``."""
    folder = root / f"fleet-{pods}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for start in range(0, pods, 500):
        text = "".join(deployment(i, images[i % len(images)])
                       for i in range(start, min(pods, start + 500)))
        (folder / f"deployments-{start // 500:03}.yaml").write_text(text)
    return folder


def image_sources(count: int) -> dict[str, str]:
    WORK.mkdir(parents=True, exist_ok=True)
    sources = {}
    for ref, spec in list(demo_images().items())[:count]:
        path = WORK / (ref.rsplit("/", 1)[-1].replace(":", "-") + ".tar")
        if not path.exists():
            write_docker_archive(path, spec, "x:1")
        sources[ref] = f"docker-archive:{path}"
    return sources


def options(folder: Path, sources: dict[str, str], db: Path, out: Path) -> RespondOptions:
    return RespondOptions([str(folder)], out, str(db), image_sources=sources, offline=True,
                          workers=1)


def measure(pods: int, sources: dict[str, str], db: Path, tmp: Path) -> tuple[float, float]:
    folder = fleet(tmp, pods, list(sources))
    started = time.perf_counter()
    collect_inventory(options(folder, sources, db, tmp / "unused"))
    inventory = time.perf_counter() - started
    out = tmp / f"out-{pods}"
    started = time.perf_counter()
    incident = respond(options(folder, sources, db, out))
    total = time.perf_counter() - started
    assert len(incident.inventory.workloads) == pods, len(incident.inventory.workloads)
    return inventory, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, nargs="+", default=[2500, 5000, 10000])
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()
    sources = image_sources(args.images)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        db = prepare_demo(tmp / "demo").db_path
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            measure(args.profile, sources, db, tmp)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            return
        print(f"{'pods':>6} {'inventory s':>12} {'respond s':>10} {'respond/pod ms':>15}")
        for pods in args.pods:
            inventory, total = measure(pods, sources, db, tmp)
            print(f"{pods:>6} {inventory:>12.2f} {total:>10.2f} {total / pods * 1000:>15.3f}")


if __name__ == "__main__":
    main()
