"""Turn an input path into documents (name, bytes): plain files, directories, zip exports and
gzip streams. Nothing is extracted to disk; every size is bounded while reading, whatever the
archive headers claim."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from hullguard.errors import InputError, LimitExceeded
from hullguard.vuln.importers.base import ImportStats

ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20
FEED_SUFFIXES = (".json", ".yaml", ".yml", ".csv", ".gz", ".zip")


@dataclass(frozen=True)
class Document:
    name: str  # where it came from, for messages: path or path!member
    data: bytes


def read_capped(stream: IO[bytes], cap: int, where: str) -> bytes:
    """Read a whole stream, failing as soon as it grows past ``cap`` bytes."""
    parts, size = [], 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > cap:
            raise LimitExceeded(f"content exceeds the {cap}-byte limit", where=where)
        parts.append(chunk)
    return b"".join(parts)


def gunzip(data: bytes, cap: int, where: str) -> bytes:
    """Inflate a gzip stream with a bound on the output (a gzip bomb stops at ``cap``)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, cap + 1)
    except zlib.error as error:
        raise InputError(f"corrupt gzip data: {error}", where=where) from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise LimitExceeded(f"gzip content exceeds the {cap}-byte limit", where=where)
    return out


def iter_documents(path: Path, stats: ImportStats) -> Iterator[Document]:
    """Every document under ``path``; unreadable or hostile parts are skipped and counted."""
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = child.relative_to(path).parts
            # A feed tree also holds README/LICENSE files: only feed-like names are read.
            if not any(part.startswith(".") for part in relative) and (
                    child.name.lower().endswith(FEED_SUFFIXES)):
                yield from _file_documents(child, stats)
    elif path.is_file():
        yield from _file_documents(path, stats)
    else:
        raise InputError("no such file or directory", where=str(path))


def _file_documents(path: Path, stats: ImportStats) -> Iterator[Document]:
    limits, where = stats.limits, str(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            if head == ZIP_MAGIC:
                yield from _zip_documents(path, stats)
                return
            handle.seek(0)
            data = read_capped(handle, limits.max_file_bytes, where)
        if data[:2] == GZIP_MAGIC:
            data = gunzip(data, limits.max_member_bytes * 16, where)
            where = where.removesuffix(".gz")
        yield Document(where, data)
    except (InputError, LimitExceeded) as error:
        stats.skip(where, error.message)
    except OSError as error:
        stats.skip(where, f"cannot read: {error.strerror or error}")


def _unsafe_member(name: str) -> bool:
    pure = PurePosixPath(name.replace("\\", "/"))
    return pure.is_absolute() or ".." in pure.parts or ":" in name.split("/")[0]


def _zip_documents(path: Path, stats: ImportStats) -> Iterator[Document]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"not a readable zip archive: {error}", where=str(path)) from None
    with archive:
        total = 0
        for info in archive.infolist():
            if info.is_dir():
                continue
            where = f"{path}!{info.filename}"
            data = _zip_member(archive, info, where, stats)
            if data is None:
                continue
            total += len(data)
            if total > stats.limits.max_total_bytes:
                stats.skip(str(path), "archive content exceeds the total size limit; "
                           "the remaining members were not read")
                return
            yield Document(where, data)


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str,
                stats: ImportStats) -> bytes | None:
    limits = stats.limits
    if _unsafe_member(info.filename):
        stats.skip(where, "member name leaves the archive root (skipped)")
        return None
    if info.file_size > max(limits.ratio_floor_bytes, info.compress_size * limits.max_ratio):
        stats.skip(where, "compression ratio too high (zip bomb?)")
        return None
    try:
        with archive.open(info) as stream:
            data = read_capped(stream, limits.max_member_bytes, where)
    except LimitExceeded as error:
        stats.skip(where, error.message)
        return None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as error:
        stats.skip(where, f"corrupt member: {error}")
        return None
    if len(data) > max(limits.ratio_floor_bytes, info.compress_size * limits.max_ratio):
        stats.skip(where, "compression ratio too high (zip bomb?)")
        return None
    return data if data[:2] != GZIP_MAGIC else _gunzip_member(data, where, stats)


def _gunzip_member(data: bytes, where: str, stats: ImportStats) -> bytes | None:
    try:
        return gunzip(data, stats.limits.max_member_bytes, where)
    except (InputError, LimitExceeded) as error:
        stats.skip(where, error.message)
        return None

