"""What an existing local path holds, judged by content: a bare ``deb.tar`` is a file here,
not ``docker.io/library/deb.tar``.

A directory is an OCI layout (``oci-layout`` inside) or a root filesystem (``dir:``); a file is
an SBOM (JSON), a ``docker save`` archive (``manifest.json`` among its members), an OCI archive
(``oci-layout``), or else a root-filesystem tarball (``rootfs:``; gzip and zstd ones too).
Only tar headers are read (content is seeked over), and only the first members.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from hullguard.errors import InputError
from hullguard.images.reference import SourceRef

MAX_MEMBERS = 10_000  # image metadata sits among the first members; a rootfs has many more
_GZIP_MAGIC, _ZSTD_MAGIC = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
_KINDS_HELP = ("docker-archive:PATH, oci-archive:PATH, oci:DIR, dir:DIR, rootfs:FILE or "
               "sbom:FILE")


def sniff_path(text: str) -> SourceRef:
    """The local source an existing path holds; InputError when it is none of them."""
    path = Path(os.path.abspath(text))
    if path.is_dir():
        return SourceRef("oci" if (path / "oci-layout").is_file() else "dir", str(path))
    if not path.is_file():
        raise InputError("neither a regular file nor a directory", where=text)
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", where=text) from None
    if head[:2] == _GZIP_MAGIC or head[:4] == _ZSTD_MAGIC:
        return SourceRef("rootfs", str(path))  # image archives are plain tars
    if head.lstrip()[:1] in (b"{", b"["):
        return SourceRef("sbom", str(path))
    if len(head) < 512 or head[257:262] != b"ustar":
        raise InputError("not an image: no tar, gzip, zstd or JSON content", where=text,
                         hint=f"say what it is: {_KINDS_HELP}")
    return SourceRef(_tar_kind(path, text), str(path))


def image_reference(path: Path) -> str | None:
    """The source reference for a local path that holds an image (``oci:`` layout directory,
    ``docker-archive:`` or ``oci-archive:`` tar), or None for anything else: the stages that
    take files too (secrets, lint, IoC search) scan such a path as files."""
    if path.is_dir():
        return f"oci:{path}" if (path / "oci-layout").is_file() else None
    try:
        kind = _tar_kind(path, str(path))
    except InputError:
        return None
    return f"{kind}:{path}" if kind in ("docker-archive", "oci-archive") else None


def _tar_kind(path: Path, where: str) -> str:
    try:
        with tarfile.open(path, mode="r:") as archive:
            for count, member in enumerate(archive):
                name = member.name.removeprefix("./")
                if name == "manifest.json":
                    return "docker-archive"
                if name == "oci-layout":
                    return "oci-archive"
                if count >= MAX_MEMBERS:
                    break
    except (tarfile.TarError, OSError, ValueError, OverflowError) as error:
        raise InputError(f"not a readable tar: {error}", where=where,
                         hint=f"say what it is: {_KINDS_HELP}") from None
    return "rootfs"
