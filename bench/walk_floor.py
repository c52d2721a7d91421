"""How close is hullguard's layer walk to the floor? (not a test; prints a table)

For each image it times, over all layers:
  floor     one pass that inflates (ISA-L) and walks tar headers (seeks when uncompressed),
            no hashing, no names: the least any tool must do
  walk_blob hullguard's walker (verifying digests and diffIDs, normalizing names)
  -diffid   the same with SourceOptions(verify_diff_ids=False) (gzip layers: blob digest only)
  tree      walk_blob + FileTree.apply of every entry (the squashed view)
  tarfile   Python's tarfile streaming mode (``r|*``) over the same blobs

Usage:
  python3 bench/walk_floor.py [--usr-lib-mb N] [--repeat R] [IMAGE ...]
IMAGE is any hullguard source (docker-archive:..., oci:..., oci-archive:...). With no IMAGE it
wraps the Alpine corpus minirootfs and a tar of the machine's /usr/lib (first N MB, default
1024) as images, each as a docker-archive (uncompressed) and an OCI layout (gzip).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.support.env import CORPUS  # noqa: E402

from hullguard.images import FileTree, SourceOptions, open_image  # noqa: E402
from hullguard.images.archive import DockerArchive  # noqa: E402
from hullguard.images.layers import walk_blob  # noqa: E402
from hullguard.images.oci import OciImage  # noqa: E402

FAST = SourceOptions(verify_diff_ids=False)
FULL = SourceOptions()
Blob = tuple[Path, int, int, object, object]  # path, offset, size, digest, diff_id


def blobs_of(ref: str) -> list[Blob]:
    with open_image(ref) as image:
        out: list[Blob] = []
        for layer in image.info.layers:
            if isinstance(image, OciImage):
                desc = image.manifest.layers[layer.index]
                loc = image.store.locate(desc.digest, ref)
                out.append((loc.path, loc.offset, loc.size, desc.digest, layer.diff_id))
            elif isinstance(image, DockerArchive):
                found = image.members.find(image.layer_names[layer.index])
                assert found is not None
                out.append((found.path, found.offset, found.size, None, layer.diff_id))
        return out


class _Region:
    """A file region as a read-only file object (for tarfile)."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        self.file = open(path, "rb")  # noqa: SIM115
        self.file.seek(offset)
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.file.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def floor(blob: Blob) -> int:
    """Inflate + walk headers: the minimum work. Returns the number of entries."""
    path, offset, size, _, _ = blob
    with open(path, "rb") as handle:
        handle.seek(offset)
        magic = handle.read(2)
        handle.seek(offset)
        if magic != b"\x1f\x8b":
            return _seek_walk(handle, offset + size)
        return _inflate_walk(handle, size)


def _seek_walk(handle: object, end: int) -> int:
    count = 0
    while True:
        header = handle.read(512)  # type: ignore[attr-defined]
        if len(header) < 512 or header[0] == 0:
            return count
        size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        handle.seek(size + (-size % 512), os.SEEK_CUR)  # type: ignore[attr-defined]
        count += 1


def _inflate_walk(handle: object, size: int) -> int:
    from isal import isal_zlib

    inflater = isal_zlib.decompressobj(wbits=31)
    buf, pos, count, left = b"", 0, 0, size
    while True:
        while len(buf) - pos < 512 and left > 0:
            data = handle.read(min(1 << 20, left))  # type: ignore[attr-defined]
            left -= len(data)
            buf = buf[pos:] + inflater.decompress(data)
            pos = 0
        header = buf[pos:pos + 512]
        if len(header) < 512 or header[0] == 0:
            return count
        length = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
        pos += 512 + length + (-length % 512)
        while pos > len(buf) and left > 0:
            pos -= len(buf)
            data = handle.read(min(1 << 20, left))  # type: ignore[attr-defined]
            left -= len(data)
            buf = inflater.decompress(data)
        count += 1


def hullguard_walk(blob: Blob, tree: FileTree | None = None,
                   options: SourceOptions = FULL) -> int:
    path, offset, size, digest, diff_id = blob
    walker = walk_blob(path, media_type="", digest=digest, size=size,  # type: ignore[arg-type]
                       diff_id=diff_id, options=options, where="bench",  # type: ignore[arg-type]
                       offset=offset)
    count = 0
    for entry in walker:
        if tree is not None:
            tree.apply(entry.info, 0)
        count += 1
    return count


def tarfile_walk(blob: Blob) -> int:
    region = _Region(blob[0], blob[1], blob[2])
    try:
        with tarfile.open(fileobj=region, mode="r|*") as tar:  # type: ignore[call-overload]
            return sum(1 for _ in tar)
    finally:
        region.close()


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """Median wall time, median process CPU time (all threads), entry count."""
    times, cpus, count = [], [], 0
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        count = fn()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(times), statistics.median(cpus), count


def measure(ref: str, repeat: int) -> dict[str, float]:
    blobs = blobs_of(ref)
    runs = {
        "floor": lambda: sum(floor(b) for b in blobs),
        "walk_blob": lambda: sum(hullguard_walk(b) for b in blobs),
        "no_diffid": lambda: sum(hullguard_walk(b, options=FAST) for b in blobs),
        "tree": lambda: sum(hullguard_walk(b, FileTree()) for b in blobs),
        "tarfile": lambda: sum(tarfile_walk(b) for b in blobs),
    }
    result: dict[str, float] = {}
    for name, fn in runs.items():
        result[name], result[f"{name}_cpu"], count = timed(fn, 1 if name == "tarfile" else repeat)
        result["entries"] = count
    result["mb"] = sum(b[2] for b in blobs) / 1e6
    return result


def build_corpus(out: Path, usr_lib_mb: int) -> list[str]:
    from isal import igzip

    import hullguard.images.builder as builder
    from hullguard.images.builder import (
        ImageSpec,
        LayerSpec,
        rootfs_layer,
        write_docker_archive,
        write_oci_layout,
    )

    # ISA-L level 2 instead of zlib level 6 only to build the 1 GB layer quickly; inflate
    # speed hardly depends on the level.
    builder.gzip_bytes = lambda data: igzip.compress(data, compresslevel=2, mtime=0)
    refs = []
    alpine = sorted((CORPUS / "images" / "alpine").glob("*3.20*.tar.gz"))
    layers = {"alpine": [rootfs_layer(alpine[0])]} if alpine else {}
    if usr_lib_mb:
        layers["usrlib"] = [LayerSpec(tar=_usr_lib_tar(usr_lib_mb << 20))]
    for name, specs in layers.items():
        spec = ImageSpec(specs)
        refs.append(f"docker-archive:{write_docker_archive(out / f'{name}.tar', spec)}")
        refs.append(f"oci:{write_oci_layout(out / f'{name}-oci', spec)}")
    return refs


def _usr_lib_tar(limit: int) -> bytes:
    import io

    buffer, total = io.BytesIO(), 0
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk("/usr/lib"):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                if (total > limit or os.path.islink(full) or not os.path.isfile(full)
                        or os.path.getsize(full) > 16 << 20):
                    continue
                tar.add(full, arcname=full.lstrip("/"), recursive=False)
                total += os.path.getsize(full)
    return buffer.getvalue()


_CHILD = """
import sys
from hullguard.images import FileTree, open_image
with open_image(sys.argv[1]) as image:
    tree = FileTree()
    for layer in image.info.layers:
        for entry in image.walk_layer(layer):
            tree.apply(entry.info, layer.index)
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork+exec from this large parent
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def child_rss(ref: str) -> float:
    """Peak RSS (MB) of a fresh process that opens ``ref`` and squashes all its layers."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", _CHILD, ref], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    return int(done.stdout.split()[-1]) / 1024


def _corpus(out: Path, usr_lib_mb: int) -> list[str]:
    listing = out / "images.txt"
    if listing.exists():
        return listing.read_text().split()
    out.mkdir(parents=True, exist_ok=True)
    refs = build_corpus(out, usr_lib_mb)
    listing.write_text("\n".join(refs))
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*")
    parser.add_argument("--usr-lib-mb", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path,
                        help="build the images into this directory (reused when present)")
    parser.add_argument("--rss", action="store_true",
                        help="also walk each image (walk_blob + FileTree) in a fresh process "
                             "and report its peak RSS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        refs = args.images or _corpus(args.keep or Path(tmp), args.usr_lib_mb)
        print(f"{'image':44} {'MB':>7} {'entries':>7} {'floor':>6} {'walk':>6} {'x':>5} "
              f"{'-diffid':>7} {'tree':>6} {'tarfile':>7} | cpu: {'floor':>6} {'walk':>6} "
              f"{'-diffid':>7}"
              + ("    RSS" if args.rss else ""))
        for ref in refs:
            r = measure(ref, args.repeat)
            short = ref if len(ref) < 44 else "…" + ref[-43:]
            rss = f" {child_rss(ref):4.0f} MB" if args.rss else ""
            print(f"{short:44} {r['mb']:7.1f} {int(r['entries']):7d} {r['floor']:6.2f} "
                  f"{r['walk_blob']:6.2f} {r['walk_blob'] / max(r['floor'], 1e-9):5.2f} "
                  f"{r['no_diffid']:7.2f} {r['tree']:6.2f} {r['tarfile']:7.2f} |      "
                  f"{r['floor_cpu']:6.2f} {r['walk_blob_cpu']:6.2f} {r['no_diffid_cpu']:7.2f}"
                  f"{rss}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (includes building the images): {peak:.0f} MB")


if __name__ == "__main__":
    main()
