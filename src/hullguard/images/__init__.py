"""hullguard.images: open any container image without a daemon and walk its layers.

``open_image("alpine:3.18")``, ``open_image("docker-archive:img.tar")``,
``open_image("oci:layout:1.0")``, ``open_image("oci-archive:img.tar")``,
``open_image("dir:/rootfs")``, ``open_image("rootfs:alpine-minirootfs.tar.gz")`` (a bare
existing path is sniffed: :mod:`hullguard.images.sniff`) return an
:class:`~hullguard.images.api.ImageSource`; apply each layer's entries to a
:class:`~hullguard.images.tree.FileTree` for the squashed view.
"""

from __future__ import annotations

from hullguard.errors import InputError
from hullguard.images.api import (
    FileInfo,
    FileKind,
    ImageSource,
    LayerEntry,
    LayerWalk,
    SourceOptions,
)
from hullguard.images.layers import LayerWalker, walk_blob
from hullguard.images.reference import (
    SourceRef,
    parse_reference,
    parse_source,
)
from hullguard.images.tree import FileTree
from hullguard.model.reference import ImageReference

__all__ = [
    "FileInfo",
    "FileKind",
    "FileTree",
    "ImageReference",
    "ImageSource",
    "LayerEntry",
    "LayerWalk",
    "LayerWalker",
    "SourceOptions",
    "SourceRef",
    "open_image",
    "open_source",
    "parse_reference",
    "parse_source",
    "walk_blob",
]


def open_image(ref: str, options: SourceOptions | None = None) -> ImageSource:
    """Open the image ``ref`` names (see :func:`parse_source` for the grammar)."""
    return open_source(parse_source(ref), options or SourceOptions())


def open_source(source: SourceRef, options: SourceOptions | None = None) -> ImageSource:
    """Open an already parsed source reference."""
    options = options or SourceOptions()
    if source.kind == "registry" and source.reference is not None:
        from hullguard.images.registry import open_registry_image

        return open_registry_image(source.reference, options)
    if source.kind == "docker-archive":
        from hullguard.images.archive import open_docker_archive

        return open_docker_archive(source.path, options, source.tag)
    if source.kind == "oci-archive":
        from hullguard.images.oci import open_oci_archive

        return open_oci_archive(source.path, options, source.tag)
    if source.kind == "oci":
        from hullguard.images.oci import open_oci_layout

        return open_oci_layout(source.path, source.tag, options)
    if source.kind == "dir":
        from hullguard.images.dirsource import open_dir

        return open_dir(source.path)
    if source.kind == "rootfs":
        from hullguard.images.rootfs import open_rootfs

        return open_rootfs(source.path, options)
    if source.kind == "sbom":
        raise InputError("an SBOM is not an image", where=str(source),
                         hint="read it with hullguard.sbom (e.g. `hullguard sbom sbom:FILE`)")
    raise InputError(f"unsupported source kind {source.kind!r}", where=str(source))
