"""The contract between image sources and everything that reads images.

A source (docker-archive, OCI layout, registry, dir) resolves an image to an
:class:`~hullguard.model.ImageInfo` and walks each layer as a stream of :class:`LayerEntry`
objects in tar order. Whiteouts are reported as entries of kind ``WHITEOUT`` / ``OPAQUE`` so
that readers can apply them (see :class:`hullguard.images.tree.FileTree`). Nothing is ever
extracted to disk: an entry's content can be read only while the walk is positioned on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hullguard.errors import LimitExceeded
from hullguard.model import ImageInfo, Layer, Platform


class FileKind(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"  # device, fifo, socket
    WHITEOUT = "whiteout"  # ``.wh.NAME``: NAME (``path``) is deleted from lower layers
    OPAQUE = "opaque"  # ``.wh..wh..opq``: lower-layer content of directory ``path`` is hidden


@dataclass(frozen=True)
class FileInfo:
    """A tar header, normalized: ``path`` is absolute, clean and inside the image root."""

    path: str
    kind: FileKind
    mode: int = 0o644
    size: int = 0
    linkname: str = ""  # symlink target as written, or hard-link target path (normalized)
    uid: int = 0
    gid: int = 0
    mtime: int = 0

    @property
    def is_executable(self) -> bool:
        return self.kind is FileKind.FILE and bool(self.mode & 0o111)


class LayerEntry(Protocol):
    """One entry of a layer during a walk. Content is readable only until the walk moves on."""

    @property
    def info(self) -> FileInfo: ...

    def read(self, limit: int) -> bytes:
        """The whole content; raises LimitExceeded if it is larger than ``limit`` bytes."""
        ...

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The content as a stream of chunks (for large files read once)."""
        ...


class MemoryEntry:
    """A :class:`LayerEntry` whose content was already read (a walk entry is readable once):
    for a reader that hands a file on after reading it itself."""

    __slots__ = ("_data", "info")

    def __init__(self, info: FileInfo, data: bytes) -> None:
        self.info, self._data = info, data

    def read(self, limit: int) -> bytes:
        if len(self._data) > limit:
            raise LimitExceeded(f"file is {len(self._data)} bytes, over the {limit}-byte limit",
                                where=self.info.path)
        return self._data

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        for start in range(0, len(self._data), size):
            yield self._data[start:start + size]


class LayerWalk(Protocol):
    """One layer's walk: its entries in tar order, the members it skipped and why
    (``warnings``), and ``close`` to release the blob when the caller stops early."""

    @property
    def warnings(self) -> list[str]: ...

    def __iter__(self) -> Iterator[LayerEntry]: ...

    def __next__(self) -> LayerEntry: ...

    def close(self) -> None: ...


class ImageSource(Protocol):
    """An opened image: metadata resolved and verified, layers walkable one at a time."""

    @property
    def info(self) -> ImageInfo: ...

    def walk_layer(self, layer: Layer) -> LayerWalk:
        """Entries of one layer in tar order. Blob digest and diffID are verified by the end
        of the walk; a mismatch raises IntegrityError (callers must discard what they read)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> ImageSource: ...

    def __exit__(self, *exc: object) -> None: ...


MIN_TRANSFER_RATE = 1024.0  # bytes/s a registry transfer must average over each timeout window


@dataclass(frozen=True)
class SourceOptions:
    """Options every source understands (registry ones are ignored by local sources)."""

    platform: Platform = field(default_factory=Platform)
    insecure: bool = False  # allow plain HTTP / unverified TLS for non-localhost registries
    docker_config: str | None = None  # path to config.json; default ~/.docker/config.json
    username: str | None = None
    password: str | None = None
    cache_dir: str | None = None  # where pulled blobs are kept (verified); default: temp dir
    max_layer_bytes: int = 64 << 30  # uncompressed bytes per layer (gzip bomb guard)
    max_ratio: int = 2000  # uncompressed/compressed ratio bound for a layer
    timeout: float = 60.0  # registry: per read, and the window of the minimum rate below
    min_rate: float = MIN_TRANSFER_RATE  # registry: see MIN_TRANSFER_RATE
    # A compressed layer whose blob digest is verified is already authenticated; its diffID
    # check (a sha256 of every uncompressed byte) then only proves the config consistent.
    # False skips that second hash for such layers (faster); layers without a blob digest
    # (docker-archive) are always checked against their diffID.
    verify_diff_ids: bool = True
