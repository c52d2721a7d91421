"""``rootfs:FILE``: a plain root-filesystem tarball as a one-layer image with no config.

What ``mmdebstrap``, ``docker export`` and the Alpine minirootfs produce: one tar (plain, gzip
or zstd) of a whole root filesystem. It is walked like any layer (the same streaming walker:
never extracted, unsafe paths skipped, size and ratio bounds), so nothing here parses tar.
There is no manifest, config or digest to verify: the image has no digests and an empty
config, like ``dir:``.
"""

from __future__ import annotations

import os
from pathlib import Path

from hullguard.errors import InputError
from hullguard.images.api import SourceOptions
from hullguard.images.layers import LayerWalker, walk_blob
from hullguard.model import ImageInfo, Layer

ROOTFS_MEDIA_TYPE = "application/x-tar"  # compression is sniffed by the walker anyway


class RootfsImage:
    """A root filesystem tarball: one layer, no config, no digests."""

    def __init__(self, path: str, options: SourceOptions) -> None:
        self.path = Path(os.path.abspath(path))
        self.where = f"rootfs:{self.path}"
        self.options = options
        if not self.path.is_file():
            raise InputError("no such file" if not self.path.exists() else "not a file",
                             where=self.where,
                             hint="rootfs:FILE expects a root filesystem tarball (tar, tar.gz, "
                             "tar.zst)")
        size = self.path.stat().st_size
        layer = Layer(0, None, None, ROOTFS_MEDIA_TYPE, size, self.where)
        self._info = ImageInfo(reference=self.where, source_kind="rootfs", layers=(layer,))

    @property
    def info(self) -> ImageInfo:
        return self._info

    def walk_layer(self, layer: Layer) -> LayerWalker:
        if layer.index != 0:
            raise InputError(f"a rootfs: source has one layer, not {layer.index}",
                             where=self.where)
        return walk_blob(self.path, media_type=ROOTFS_MEDIA_TYPE, digest=None, size=None,
                         diff_id=None, options=self.options, where=self.where)

    def close(self) -> None:
        """Nothing stays open between walks."""

    def __enter__(self) -> RootfsImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_rootfs(path: str, options: SourceOptions) -> RootfsImage:
    return RootfsImage(path, options)
