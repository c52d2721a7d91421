"""Secret-scanning throughput: hullguard vs trivy on the same image, in MB/s of layer content.

The image: the corpus Alpine minirootfs, a layer of real text (this machine's Python standard
library sources, about 30-40 MB), and the planted-secrets layers of tests/secrets/corpus.py.
Both tools read the same docker-archive; trivy runs with an in-memory cache (no reuse).

    python3 bench/secrets_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.secrets.corpus import planted_spec  # noqa: E402
from tests.support.env import PEERS, TRIVY_OFFLINE, alpine_tarballs  # noqa: E402

from hullguard.images.builder import (  # noqa: E402
    FileSpec,
    ImageSpec,
    LayerSpec,
    rootfs_layer,
    write_docker_archive,
)


def stdlib_layer(limit: int = 40 << 20) -> LayerSpec:
    root = Path(sysconfig.get_paths()["stdlib"])
    files, total = [], 0
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if total + len(data) > limit:
            break
        files.append(FileSpec("usr/src/python/" + str(path.relative_to(root)), data))
        total += len(data)
    return LayerSpec(tuple(files), created_by="COPY python-src /usr/src/python")


def build(out: Path) -> tuple[Path, int]:
    planted = planted_spec()
    layers = [rootfs_layer(alpine_tarballs()[-1]), stdlib_layer(), *planted.layers]
    path = write_docker_archive(out / "bench.tar", ImageSpec(layers, config=planted.config))
    return path, path.stat().st_size


def time_hullguard(image: Path) -> tuple[float, int]:
    from hullguard.secrets import scan_image

    started = time.perf_counter()
    report = scan_image(f"docker-archive:{image}")
    return time.perf_counter() - started, len(report.findings)


def time_cli(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    trivy = PEERS / "bin" / "trivy"
    with tempfile.TemporaryDirectory() as tmp:
        image, size = build(Path(tmp))
        mb = size / 1e6
        print(f"image: {mb:.1f} MB uncompressed (docker-archive)")
        best = min(time_hullguard(image)[0] for _ in range(args.repeat))
        print(f"hullguard (library)     {best:6.2f} s  {mb / best:7.1f} MB/s")
        cli = [sys.executable, "-m", "hullguard", "secrets", "-f", "json", str(image)]
        best = min(time_cli(cli) for _ in range(args.repeat))
        print(f"hullguard secrets (CLI) {best:6.2f} s  {mb / best:7.1f} MB/s")
        if trivy.exists():
            command = [str(trivy), "image", *TRIVY_OFFLINE, "--scanners", "secret",
                       "--format", "json", "--input", str(image)]
            best = min(time_cli(command) for _ in range(args.repeat))
            print(f"trivy --scanners secret {best:6.2f} s  {mb / best:7.1f} MB/s")
        else:
            print(f"trivy not found at {trivy}")


if __name__ == "__main__":
    main()
