"""Build real-format images from files in memory: docker-archive, OCI layout, OCI archive.

Used by the test suite, the benchmarks and the bundled demo fleet, so that no opaque image blob
is committed. Output is deterministic (fixed mtimes, sorted members), so digests are stable.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
FIXED_MTIME = 1_700_000_000


@dataclass(frozen=True)
class FileSpec:
    """One tar member. ``kind``: file, dir, symlink, hardlink, fifo."""

    path: str
    data: bytes = b""
    mode: int = 0o644
    kind: str = "file"
    linkname: str = ""
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class LayerSpec:
    """A layer: its members (or a ready uncompressed tar) and the Dockerfile line that made it."""

    files: tuple[FileSpec, ...] = ()
    tar: bytes | None = None
    created_by: str = ""


@dataclass
class ImageSpec:
    layers: Sequence[LayerSpec]
    config: dict[str, Any] = field(default_factory=dict)  # the "config" object (User, Env, ...)
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: Iterable[FileSpec]) -> bytes:
    """An uncompressed tar of ``files`` in the given order (order matters for whiteout tests)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for spec in files:
            info, payload = _tar_member(spec)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return buffer.getvalue()


def _tar_member(spec: FileSpec) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(spec.path.lstrip("/") if spec.path != "/" else ".")
    info.mode, info.uid, info.gid, info.mtime = spec.mode, spec.uid, spec.gid, FIXED_MTIME
    kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}
    info.type = kinds[spec.kind]
    info.linkname = spec.linkname
    if spec.kind == "file":
        info.size = len(spec.data)
        return info, spec.data
    return info, None


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def zstd_bytes(data: bytes) -> bytes:
    import zstandard

    return bytes(zstandard.ZstdCompressor(level=3).compress(data))


def _layer_bytes(layer: LayerSpec) -> bytes:
    return layer.tar if layer.tar is not None else layer_tar(layer.files)


def config_json(spec: ImageSpec, diff_ids: list[str]) -> bytes:
    history = [{"created": "2023-11-14T22:13:20Z", "created_by": layer.created_by}
               for layer in spec.layers]
    doc: dict[str, Any] = {
        "architecture": spec.architecture, "os": spec.os, "created": "2023-11-14T22:13:20Z",
        "config": spec.config, "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    if spec.variant:
        doc["variant"] = spec.variant
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def write_docker_archive(path: Path, spec: ImageSpec, repo_tag: str = "demo:latest") -> Path:
    """A ``docker save`` style tar: manifest.json, config, uncompressed layer tars."""
    raws = [_layer_bytes(layer) for layer in spec.layers]
    diff_ids = [sha256(raw) for raw in raws]
    config = config_json(spec, diff_ids)
    config_name = sha256(config).split(":")[1] + ".json"
    layer_names = [f"{d.split(':')[1]}/layer.tar" for d in diff_ids]
    manifest = [{"Config": config_name, "RepoTags": [repo_tag], "Layers": layer_names}]
    members = {config_name: config, "manifest.json": json.dumps(manifest).encode()}
    members.update(zip(layer_names, raws, strict=True))
    _write_plain_tar(path, members)
    return path


def _write_plain_tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), FIXED_MTIME, 0o644
            tar.addfile(info, io.BytesIO(data))


class _BlobStore:
    def __init__(self, root: Path) -> None:
        self.dir = root / "blobs" / "sha256"
        self.dir.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        (self.dir / digest.split(":")[1]).write_bytes(data)
        return digest


def _compress(raw: bytes, compression: str) -> tuple[bytes, str]:
    if compression == "gzip":
        return gzip_bytes(raw), MEDIA_OCI_LAYER + "+gzip"
    if compression == "zstd":
        return zstd_bytes(raw), MEDIA_OCI_LAYER + "+zstd"
    return raw, MEDIA_OCI_LAYER


def _descriptor(media_type: str, data: bytes, digest: str) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def put_image(store: _BlobStore, spec: ImageSpec, compression: str) -> dict[str, Any]:
    """Write one image's blobs; return the manifest's descriptor (with platform)."""
    layers, diff_ids = [], []
    for layer in spec.layers:
        raw = _layer_bytes(layer)
        diff_ids.append(sha256(raw))
        blob, media = _compress(raw, compression)
        layers.append(_descriptor(media, blob, store.put(blob)))
    config = config_json(spec, diff_ids)
    manifest = {"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                "config": _descriptor(MEDIA_OCI_CONFIG, config, store.put(config)),
                "layers": layers}
    data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    descriptor = _descriptor(MEDIA_OCI_MANIFEST, data, store.put(data))
    platform = {"os": spec.os, "architecture": spec.architecture}
    if spec.variant:
        platform["variant"] = spec.variant
    descriptor["platform"] = platform
    return descriptor


def write_oci_layout(root: Path, specs: ImageSpec | Sequence[ImageSpec], tag: str = "latest",
                     compression: str = "gzip") -> Path:
    """An OCI image layout directory. Several specs make a multi-platform image index
    (index.json -> image index -> manifests), as ``docker buildx`` and skopeo write them."""
    images = [specs] if isinstance(specs, ImageSpec) else list(specs)
    store = _BlobStore(root)
    descriptors = [put_image(store, spec, compression) for spec in images]
    if len(descriptors) == 1:
        top = descriptors[0]
    else:
        index = {"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": descriptors}
        data = json.dumps(index, sort_keys=True, separators=(",", ":")).encode()
        top = _descriptor(MEDIA_OCI_INDEX, data, store.put(data))
    top = {**top, "annotations": {"org.opencontainers.image.ref.name": tag}}
    top.pop("platform", None)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index_json = {"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": [top]}
    (root / "index.json").write_text(json.dumps(index_json, sort_keys=True))
    return root


def write_oci_archive(path: Path, specs: ImageSpec | Sequence[ImageSpec], tag: str = "latest",
                      compression: str = "gzip") -> Path:
    """A tar of an OCI layout (``oci-archive:``)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        layout = write_oci_layout(Path(tmp), specs, tag, compression)
        members = {str(p.relative_to(layout)): p.read_bytes()
                   for p in sorted(layout.rglob("*")) if p.is_file()}
    _write_plain_tar(path, members)
    return path


def rootfs_layer(tarball: Path, created_by: str = "") -> LayerSpec:
    """A layer from a root filesystem tarball (e.g. an Alpine minirootfs .tar.gz)."""
    raw = tarball.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return LayerSpec(tar=raw, created_by=created_by or f"ADD {tarball.name} / # buildkit")
