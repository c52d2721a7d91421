"""Build the SBOM benchmark's comparison images, each as a docker-archive and an OCI layout.

Images (all written under bench/.work/images/, which is gitignored):
  alpine-X.Y.Z    every Alpine minirootfs of the corpus, one layer
  debian-minbase  Debian bookworm minbase, one layer
  debian-python   bookworm with python3, pip, openssl, curl, git, one layer
  debian-app      debian-python + an application layer of old PyPI packages (pip install
                  --target into /usr/local/lib/python3.11/dist-packages) and npm packages
                  (/srv/app/node_modules): two layers
  debian-large    ~1.1 GB: build-essential, python3-dev, default-jdk-headless, maven, nodejs/npm,
                  ruby, one layer

Forms: ``<name>.tar`` is a docker-archive (``docker save`` layout, uncompressed layers);
``<name>-oci/`` is an OCI image layout directory with gzip (level 6) layers.

The Debian root filesystems come from bench/build_debian_images.sh (mmdebstrap, as root). The
Alpine images use hullguard.images.builder; the Debian ones are streamed here (the builder keeps
layers in memory, which is wrong for a 1.1 GB layer) with the builder's config document, so both
paths produce the same format. Outputs are cached; ``--force`` rebuilds.

Usage: python3 bench/build_images.py [--force] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hullguard.fsutil import write_bytes_atomic  # noqa: E402
from hullguard.images import builder  # noqa: E402

WORK = REPO / "bench" / ".work"
ROOTFS = WORK / "rootfs"
IMAGES = WORK / "images"
LAYERS = WORK / "layers"
CORPUS = Path(os.environ.get("HULLGUARD_CORPUS", REPO.parent / "shared" / "corpus"))
ALPINE = CORPUS / "images" / "alpine"
INDEX = IMAGES / "index.json"
CHUNK = 1 << 20

# Old releases with known advisories; Pillow 9.3.0 is the oldest with a CPython 3.11 wheel.
PYPI_PACKAGES = (
    "requests==2.19.1", "urllib3==1.24.1", "chardet==3.0.4", "idna==2.7", "certifi==2018.4.16",
    "Jinja2==2.10", "MarkupSafe==1.1.1", "PyYAML==5.3", "Django==3.2.0", "sqlparse==0.4.1",
    "asgiref==3.3.4", "pytz==2021.1", "Pillow==9.3.0",
)
NPM_PACKAGES = ("lodash@4.17.15", "express@4.16.0", "minimist@1.2.0")
SITE = "usr/local/lib/python3.11/dist-packages"
SMALL = 64_000_000  # raw layer bytes below which hullguard.images.builder (in memory) is used
IMAGE_CONFIG = {"Cmd": ["/bin/sh"],
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}


@dataclass(frozen=True)
class BenchLayer:
    tar: Path  # an uncompressed layer tar on disk
    created_by: str


@dataclass(frozen=True)
class BenchImage:
    name: str
    layers: tuple[BenchLayer, ...]

    @property
    def archive(self) -> Path:
        return IMAGES / f"{self.name}.tar"

    @property
    def layout(self) -> Path:
        return IMAGES / f"{self.name}-oci"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


# ---- inputs ---------------------------------------------------------------------------------

def alpine_images() -> list[BenchImage]:
    """One image per corpus minirootfs (gunzipped once into bench/.work/layers/)."""
    out = []
    for tarball in sorted(ALPINE.glob("alpine-minirootfs-*-x86_64.tar.gz")):
        version = tarball.name.split("-")[2]
        raw = LAYERS / f"alpine-{version}.tar"
        if not raw.exists():
            write_bytes_atomic(raw, builder.rootfs_layer(tarball).tar or b"")
        out.append(BenchImage(f"alpine-{version}", (
            BenchLayer(raw, f"ADD {tarball.name} / # buildkit"),)))
    return out


def debian_images() -> list[BenchImage]:
    def rootfs(name: str) -> BenchLayer:
        path = ROOTFS / f"{name}.tar"
        if not path.exists():
            sys.exit(f"{path} missing: run bench/build_debian_images.sh (as root) first")
        return BenchLayer(path, f"mmdebstrap --variant=minbase bookworm ({name})")

    python = rootfs("debian-python")
    app = BenchLayer(app_layer(), "RUN pip install --target ... && npm install ... # app layer")
    return [BenchImage("debian-minbase", (rootfs("debian-minbase"),)),
            BenchImage("debian-python", (python,)),
            BenchImage("debian-app", (python, app)),
            BenchImage("debian-large", (rootfs("debian-large"),))]


def app_layer() -> Path:
    """The application layer tar: real old PyPI and npm packages (needs PyPI and npm once)."""
    out = LAYERS / "debian-app-layer.tar"
    if out.exists():
        return out
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        root = Path(tmp)
        _pip_install(root / SITE)
        _npm_install(root / "srv" / "app")
        _tar_tree(root, out)
    return out


def _pip_install(target: Path) -> None:
    # --no-deps with the dependencies pinned by hand: requests 2.19.1 itself wants urllib3<1.24.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(target), *PYPI_PACKAGES],
                   check=True)


def _npm_install(app: Path) -> None:
    app.mkdir(parents=True)
    (app / "package.json").write_text(
        '{"name": "bench-app", "version": "1.0.0", "private": true}\n')
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts",
                    "--loglevel=error", *NPM_PACKAGES], cwd=app, check=True)


def _tar_tree(root: Path, out: Path) -> None:
    """A deterministic tar of ``root`` (sorted, fixed mtime and owner), parents included."""
    def normalize(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime, info.uid, info.gid, info.uname, info.gname = builder.FIXED_MTIME, 0, 0, "", ""
        return info

    part = out.with_suffix(".part")
    with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
        for top in ("usr", "srv"):
            tar.add(root / top, arcname=top, filter=normalize)  # add() recurses in sorted order
    part.rename(out)


# ---- writers --------------------------------------------------------------------------------

def _config(image: BenchImage, diff_ids: list[str]) -> bytes:
    spec = builder.ImageSpec([builder.LayerSpec(created_by=layer.created_by)
                              for layer in image.layers],
                             config=IMAGE_CONFIG)
    return builder.config_json(spec, diff_ids)


def write_docker_archive(image: BenchImage) -> None:
    """``docker save`` layout, layers streamed from their files (uncompressed)."""
    diff_ids = [sha256_file(layer.tar) for layer in image.layers]
    config = _config(image, diff_ids)
    config_name = builder.sha256(config).split(":")[1] + ".json"
    names = [f"{d.split(':')[1]}/layer.tar" for d in diff_ids]
    manifest = [{"Config": config_name, "RepoTags": [f"bench/{image.name}:latest"],
                 "Layers": names}]
    part = image.archive.with_suffix(".part")
    with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, config_name, config)
        _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        for name, layer in zip(names, image.layers, strict=True):
            info = _info(name, layer.tar.stat().st_size)
            with layer.tar.open("rb") as handle:
                tar.addfile(info, handle)
    part.rename(image.archive)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, builder.FIXED_MTIME, 0o644
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    tar.addfile(_info(name, len(data)), io.BytesIO(data))


def write_oci_layout(image: BenchImage) -> None:
    """OCI layout directory; each layer gzip-compressed (level 6, like the builder) while
    streaming, hashing the raw (diffID) and compressed (blob digest) bytes in the same pass."""
    part = image.layout.with_name(image.layout.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    blobs = part / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layers, diff_ids = [], []
    for layer in image.layers:
        diff_id, digest, size = _gzip_blob(layer.tar, blobs)
        diff_ids.append(diff_id)
        layers.append({"mediaType": builder.MEDIA_OCI_LAYER + "+gzip", "digest": digest,
                       "size": size})
    config = _config(image, diff_ids)
    manifest = {"schemaVersion": 2, "mediaType": builder.MEDIA_OCI_MANIFEST,
                "config": _put(blobs, builder.MEDIA_OCI_CONFIG, config), "layers": layers}
    top = _put(blobs, builder.MEDIA_OCI_MANIFEST,
               json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())
    top["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    (part / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (part / "index.json").write_text(json.dumps(
        {"schemaVersion": 2, "mediaType": builder.MEDIA_OCI_INDEX, "manifests": [top]},
        sort_keys=True))
    shutil.rmtree(image.layout, ignore_errors=True)
    part.rename(image.layout)


def _spec(image: BenchImage) -> builder.ImageSpec:
    return builder.ImageSpec([builder.LayerSpec(tar=layer.tar.read_bytes(),
                                                created_by=layer.created_by)
                              for layer in image.layers], config=IMAGE_CONFIG)


def _builder_archive(image: BenchImage) -> None:
    part = image.archive.with_suffix(".part")
    builder.write_docker_archive(part, _spec(image), f"bench/{image.name}:latest")
    part.rename(image.archive)


def _builder_layout(image: BenchImage) -> None:
    part = image.layout.with_name(image.layout.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    builder.write_oci_layout(part, _spec(image))
    shutil.rmtree(image.layout, ignore_errors=True)
    part.rename(image.layout)


def _put(blobs: Path, media_type: str, data: bytes) -> dict[str, object]:
    digest = builder.sha256(data)
    (blobs / digest.split(":")[1]).write_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _gzip_blob(raw: Path, blobs: Path) -> tuple[str, str, int]:
    raw_hash, blob_hash = hashlib.sha256(), hashlib.sha256()
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip wrapper, mtime 0: deterministic
    tmp, size = blobs / ".layer.part", 0
    with raw.open("rb") as src, tmp.open("wb") as dst:
        for chunk in _chunks(src):
            raw_hash.update(chunk)
            size += _emit(dst, blob_hash, deflate.compress(chunk))
        size += _emit(dst, blob_hash, deflate.flush())
    tmp.rename(blobs / blob_hash.hexdigest())
    return "sha256:" + raw_hash.hexdigest(), "sha256:" + blob_hash.hexdigest(), size


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def _emit(dst: BinaryIO, digest: hashlib._Hash, data: bytes) -> int:
    digest.update(data)
    dst.write(data)
    return len(data)


# ---- driver ---------------------------------------------------------------------------------

def _stamp(image: BenchImage) -> list[list[object]]:
    return [[str(layer.tar), layer.tar.stat().st_size, layer.tar.stat().st_mtime_ns]
            for layer in image.layers]


def build(image: BenchImage, force: bool, previous: dict[str, object]) -> dict[str, object]:
    entry = previous.get(image.name)
    stamp = _stamp(image)
    fresh = (isinstance(entry, dict) and entry.get("stamp") == stamp and image.archive.exists()
             and image.layout.exists())
    if force or not fresh:
        print(f"building {image.name} ({len(image.layers)} layer(s))", flush=True)
        small = sum(layer.tar.stat().st_size for layer in image.layers) < SMALL
        for write in ((_builder_archive, _builder_layout) if small
                      else (write_docker_archive, write_oci_layout)):
            write(image)
    return {"name": image.name, "stamp": stamp, "layers": len(image.layers),
            "docker_archive": str(image.archive), "oci": str(image.layout),
            "raw_bytes": sum(layer.tar.stat().st_size for layer in image.layers),
            "archive_bytes": image.archive.stat().st_size,
            "oci_bytes": sum(p.stat().st_size for p in image.layout.rglob("*") if p.is_file())}


def all_images() -> list[BenchImage]:
    LAYERS.mkdir(parents=True, exist_ok=True)
    return alpine_images() + debian_images()


def load_index() -> list[dict[str, object]]:
    """The built images, as bench/sbom_bench.py reads them."""
    if not INDEX.exists():
        sys.exit(f"{INDEX} missing: run bench/build_images.py first")
    entries: list[dict[str, object]] = json.loads(INDEX.read_text())
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--only", nargs="*", default=None, help="image names to (re)build")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    previous = {e["name"]: e for e in (json.loads(INDEX.read_text()) if INDEX.exists() else [])}
    index = []
    for image in all_images():
        if args.only is None or image.name in args.only:
            index.append(build(image, args.force, previous))
        elif image.name in previous:
            index.append(previous[image.name])
    INDEX.write_text(json.dumps(index, indent=1) + "\n")
    for entry in index:
        mb = {key: float(entry[key]) / 1e6  # type: ignore[arg-type]
              for key in ("raw_bytes", "archive_bytes", "oci_bytes")}
        print(f"{entry['name']:16} layers={entry['layers']} raw={mb['raw_bytes']:8.1f} MB"
              f"  docker-archive={mb['archive_bytes']:8.1f} MB  oci={mb['oci_bytes']:8.1f} MB")


if __name__ == "__main__":
    main()
