"""OCI image layouts: ``oci:DIR[:TAG]`` (a directory) and ``oci-archive:PATH`` (a tar of one).

Both share :class:`OciImage`; they differ only in where a blob's bytes are (a file under
``blobs/ALG/HEX``, or a member of the outer tar read in place by offset: never extracted).
``index.json`` is resolved to one image manifest: TAG picks the entry whose
``org.opencontainers.image.ref.name`` (or containerd's ``io.containerd.image.name``) matches,
nested indexes are followed, and ``SourceOptions.platform`` picks a platform. The manifest
digest (verified against its descriptor) is the image's digest.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hullguard.errors import InputError, IntegrityError, LimitExceeded, NotFoundError
from hullguard.images.api import SourceOptions
from hullguard.images.layers import LayerWalker, walk_blob
from hullguard.images.manifest import (
    ANNOTATION_REF_NAME,
    MAX_MANIFEST_BYTES,
    Descriptor,
    Index,
    Manifest,
    follow_indexes,
    image_info_from,
    parse_document,
    parse_index,
    select_platform,
    verify_blob,
)
from hullguard.model import Digest, ImageInfo, Layer

CONTAINERD_NAME = "io.containerd.image.name"
MAX_ARCHIVE_MEMBERS = 100_000


@dataclass(frozen=True)
class BlobLocation:
    path: Path
    offset: int
    size: int


class BlobStore(Protocol):
    """Where the blobs of a layout are."""

    def locate(self, digest: Digest, where: str) -> BlobLocation: ...

    def read_file(self, name: str, where: str) -> bytes: ...


def read_region(location: BlobLocation, limit: int, where: str) -> bytes:
    if location.size > limit:
        raise LimitExceeded(f"{location.size} bytes, over the {limit}-byte limit", where=where)
    with open(location.path, "rb") as handle:
        handle.seek(location.offset)
        data = handle.read(location.size)
    if len(data) != location.size:
        raise IntegrityError("file is truncated", where=where)
    return data


class DirBlobs:
    """Blobs of an OCI layout directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def locate(self, digest: Digest, where: str) -> BlobLocation:
        path = self.root / "blobs" / digest.algorithm / digest.hex
        try:
            info = path.lstat()
        except OSError:
            raise NotFoundError(f"blob {digest} is missing from the layout", where=where) from None
        if not path.is_file() or path.is_symlink():
            raise InputError(f"blob {digest} is not a regular file", where=where)
        return BlobLocation(path, 0, info.st_size)

    def read_file(self, name: str, where: str) -> bytes:
        path = self.root / name
        if not path.is_file():
            raise InputError(f"{name} not found: not an OCI image layout", where=where,
                             hint="oci:DIR expects a directory with oci-layout and index.json")
        return read_region(BlobLocation(path, 0, path.stat().st_size), MAX_MANIFEST_BYTES,
                           f"{where} {name}")


class TarMembers:
    """The regular members of a tar file, by clean name, read in place by offset."""

    def __init__(self, path: Path, where: str) -> None:
        self.path = path
        self.members = index_tar(path, where)

    def find(self, name: str) -> BlobLocation | None:
        found = self.members.get(_clean_member(name))
        return BlobLocation(self.path, *found) if found else None

    def locate(self, digest: Digest, where: str) -> BlobLocation:
        found = self.find(f"blobs/{digest.algorithm}/{digest.hex}")
        if found is None:
            raise NotFoundError(f"blob {digest} is missing from the archive", where=where)
        return found

    def read_file(self, name: str, where: str) -> bytes:
        found = self.find(name)
        if found is None:
            raise InputError(f"{name} not found in the archive", where=where)
        return read_region(found, MAX_MANIFEST_BYTES, f"{where} {name}")


def index_tar(path: Path, where: str) -> dict[str, tuple[int, int]]:
    """``name -> (data offset, size)`` of the regular members of an uncompressed tar."""
    _check_plain_tar(path, where)
    members: dict[str, tuple[int, int]] = {}
    try:
        with tarfile.open(path, "r:") as tar:  # random access: seeks over member content
            for count, member in enumerate(tar):
                if count >= MAX_ARCHIVE_MEMBERS:
                    raise LimitExceeded(f"more than {MAX_ARCHIVE_MEMBERS} members",
                                        where=where)
                if member.isreg():
                    members[_clean_member(member.name)] = (member.offset_data, member.size)
    except tarfile.TarError as exc:
        raise InputError(f"not a readable tar archive: {exc}", where=where) from None
    except OSError as exc:
        raise InputError(f"cannot read archive: {exc.strerror or exc}", where=where) from None
    return members


def _check_plain_tar(path: Path, where: str) -> None:
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InputError(f"cannot open archive: {exc.strerror or exc}", where=where) from None
    if magic[:2] == b"\x1f\x8b" or magic == b"\x28\xb5\x2f\xfd":
        raise InputError("the archive is compressed", where=where,
                         hint="decompress it first (gunzip / zstd -d); layers are read in "
                              "place from an uncompressed archive")


def _clean_member(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


class OciImage:
    """An image resolved from an OCI layout held in a :class:`BlobStore`."""

    def __init__(self, store: BlobStore, *, source_kind: str, reference: str, tag: str,
                 options: SourceOptions, tags: tuple[str, ...] = ()) -> None:
        self.store = store
        self.options = options
        self.where = reference
        entry, self.manifest, digest = resolve_layout(store, tag, options, reference)
        config_desc = self.manifest.config
        config = read_blob(store, config_desc, f"{reference} config")
        names = tags or ((tag,) if tag else _ref_names(entry))
        self._info = image_info_from(reference, source_kind, digest, self.manifest,
                                     config, config_digest=config_desc.digest, tags=names,
                                     where=f"{reference} config {config_desc.digest.short}")

    @property
    def info(self) -> ImageInfo:
        return self._info

    def walk_layer(self, layer: Layer) -> LayerWalker:
        descriptor = self.manifest.layers[layer.index]
        where = f"{self.where} layer {descriptor.digest.short}"
        location = self.store.locate(descriptor.digest, where)
        if location.size != descriptor.size:
            raise IntegrityError(f"blob is {location.size} bytes, descriptor says "
                                 f"{descriptor.size}", where=where)
        return walk_blob(location.path, media_type=descriptor.media_type,
                         digest=descriptor.digest, size=descriptor.size, diff_id=layer.diff_id,
                         options=self.options, where=where, offset=location.offset)

    def close(self) -> None:
        """Nothing stays open between walks."""

    def __enter__(self) -> OciImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_blob(store: BlobStore, descriptor: Descriptor, where: str) -> bytes:
    """A small blob (manifest, index, config), size- and digest-verified."""
    if descriptor.size > MAX_MANIFEST_BYTES:
        raise LimitExceeded(f"descriptor declares {descriptor.size} bytes, over the "
                            f"{MAX_MANIFEST_BYTES}-byte limit", where=where)
    location = store.locate(descriptor.digest, where)
    if location.size != descriptor.size:
        raise IntegrityError(f"blob is {location.size} bytes, descriptor says "
                             f"{descriptor.size}", where=where)
    data = read_region(location, MAX_MANIFEST_BYTES, where)
    verify_blob(data, descriptor, where)
    return data


def resolve_layout(store: BlobStore, tag: str, options: SourceOptions,
                   where: str) -> tuple[Descriptor, Manifest, Digest]:
    """The ``index.json`` entry for ``tag``, and the image manifest (with its digest) it
    leads to for the platform."""
    top = parse_index(store.read_file("index.json", where), f"{where} index.json")
    entry = _pick_entry(top, tag, options, where)

    def place(digest: Digest) -> str:
        return f"{where} manifest {digest.short}"

    def fetch(descriptor: Descriptor) -> tuple[bytes, str | None]:
        return read_blob(store, descriptor, place(descriptor.digest)), None

    document = parse_document(fetch(entry)[0], place(entry.digest), entry.media_type or None)
    manifest, digest = follow_indexes(document, entry.digest, options.platform, fetch, place)
    return entry, manifest, digest


def _pick_entry(top: Index, tag: str, options: SourceOptions, where: str) -> Descriptor:
    entries = top.manifests
    if tag:
        entries = tuple(d for d in entries if tag in _ref_names(d))
        if not entries:
            names = sorted({n for d in top.manifests for n in _ref_names(d)})
            raise NotFoundError(f"no image tagged {tag!r} in the layout", where=where,
                                hint="tags present: " + (", ".join(names) or "none"))
    if len(entries) == 1:
        return entries[0]
    if not entries:
        raise NotFoundError("index.json lists no images", where=where)
    if all(d.platform for d in entries) and len({_ref_names(d) for d in entries}) == 1:
        return select_platform(Index(top.media_type, entries), options.platform, where)
    names = sorted({n for d in entries for n in _ref_names(d)})
    raise InputError(f"the layout holds {len(entries)} images; choose one with oci:DIR:TAG",
                     where=where, hint="tags present: " + (", ".join(names) or "(untagged)"))


def _ref_names(descriptor: Descriptor) -> tuple[str, ...]:
    names = []
    ref = descriptor.annotation(ANNOTATION_REF_NAME)
    if ref:
        names.append(ref)
    full = descriptor.annotation(CONTAINERD_NAME)
    if full:
        names.append(full)
        if ":" in full.rsplit("/", 1)[-1]:
            names.append(full.rsplit(":", 1)[1])
    return tuple(dict.fromkeys(names))


def open_oci_layout(path: str, tag: str, options: SourceOptions) -> OciImage:
    root = Path(path)
    reference = f"oci:{os.path.abspath(path)}" + (f":{tag}" if tag else "")  # stable name
    if not root.is_dir():
        raise InputError("not a directory", where=reference,
                         hint="oci:DIR expects an OCI image layout directory")
    return OciImage(DirBlobs(root), source_kind="oci", reference=reference, tag=tag,
                    options=options)


def open_oci_archive(path: str, options: SourceOptions, tag: str = "") -> OciImage:
    reference = f"oci-archive:{os.path.abspath(path)}"  # stable whatever the cwd
    if not os.path.isfile(path):
        raise InputError("no such file", where=reference)
    return OciImage(TarMembers(Path(path), reference), source_kind="oci-archive",
                    reference=reference, tag=tag, options=options)
