"""Hand-made tar members for hostile-layer tests (names and sizes tarfile would not write)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hullguard.images.api import FileInfo, SourceOptions
from hullguard.images.builder import FileSpec, gzip_bytes, layer_tar, zstd_bytes
from hullguard.images.layers import LayerWalker, walk_blob
from hullguard.images.tree import FileTree
from hullguard.model import Digest

END = bytes(1024)


def header(name: str | bytes, *, size: int = 0, flag: bytes = b"0", linkname: str = "",
           size_field: bytes | None = None, mode: int = 0o644, prefix: bytes = b"",
           magic: bytes = b"ustar\x0000") -> bytes:
    """A raw 512-byte tar header with a correct checksum."""
    raw_name = name.encode() if isinstance(name, str) else name
    block = bytearray(512)
    block[0:len(raw_name[:100])] = raw_name[:100]
    block[100:108] = b"%07o\0" % mode
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = size_field if size_field is not None else b"%011o\0" % size
    block[136:148] = b"14524226000\0"
    block[156:157] = flag
    block[157:157 + len(linkname.encode())] = linkname.encode()
    block[257:265] = magic
    block[345:345 + len(prefix)] = prefix
    block[148:156] = b"        "
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def member(name: str, data: bytes = b"", flag: bytes = b"0", linkname: str = "") -> bytes:
    """One member: header plus padded content."""
    return header(name, size=len(data), flag=flag, linkname=linkname) + data + bytes(
        -len(data) % 512)


def raw_tar(*members: bytes) -> bytes:
    return b"".join(members) + END


def files_tar(*specs: FileSpec) -> bytes:
    return layer_tar(specs)


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip_bytes(data)
    if compression == "zstd":
        return zstd_bytes(data)
    return data


def sha(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def walker(tmp_path: Path, tar: bytes, compression: str = "none", *, verify: bool = True,
           options: SourceOptions | None = None, blob: bytes | None = None) -> LayerWalker:
    """A walker over ``tar`` stored with ``compression`` (or over ``blob`` as given)."""
    data = blob if blob is not None else compress(tar, compression)
    path = tmp_path / f"blob-{sha(data).hex[:12]}"
    path.write_bytes(data)
    return walk_blob(path, media_type="", digest=sha(data) if verify else None,
                     size=len(data) if verify else None, diff_id=sha(tar) if verify else None,
                     options=options or SourceOptions(), where="test-layer")


def entries(tmp_path: Path, tar: bytes, compression: str = "none",
            **kwargs: object) -> tuple[list[tuple[FileInfo, bytes]], list[str]]:
    """Every entry with its content, and the walker's warnings."""
    walk = walker(tmp_path, tar, compression, **kwargs)  # type: ignore[arg-type]
    out = [(entry.info, entry.read(1 << 24)) for entry in walk]
    return out, walk.warnings


def tree_of(tmp_path: Path, *layers: bytes) -> FileTree:
    """The squashed view of uncompressed layer tars, in order."""
    tree = FileTree()
    for index, tar in enumerate(layers):
        tree.start_layer(index)
        for entry in walker(tmp_path, tar):
            tree.apply(entry.info, index)
    return tree
