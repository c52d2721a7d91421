"""Turn one file's bytes into the texts worth scanning: skip binaries, open zip/jar/war, gzip
and tar members, all within caps (size, total expansion, ratio, nesting depth, member count).

Archive members are named ``outer.jar!/inner.jar!/application.properties``.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

MiB = 1 << 20
_BINARY_MAGIC = (b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                 b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"MZ", b"\x00asm")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Limits:
    max_file_size: int = 10 * MiB  # larger files are skipped (reported)
    max_depth: int = 3  # archives opened inside each other: a jar in a jar in a war
    max_expanded: int = 256 * MiB  # total bytes expanded from archives inside one file
    max_ratio: int = 200  # uncompressed/compressed bound per member (zip bombs)
    max_members: int = 20_000  # per archive


@dataclass
class Budget:
    """Expansion left for one top-level file; shared by all nested archives in it."""

    remaining: int
    skipped: list[tuple[str, str, int]] = field(default_factory=list)  # path, reason, size
    binaries: int = 0


def is_binary(data: bytes) -> bool:
    """ELF/Mach-O/PE/class/wasm magic, or a NUL byte in the first 8 KiB."""
    return data.startswith(_BINARY_MAGIC) or b"\x00" in data[:8192]


def texts(data: bytes, path: str, limits: Limits, budget: Budget,
          depth: int = 0) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every scannable text in ``data``, descending into archives."""
    try:
        if data.startswith(_ZIP_MAGIC):
            yield from _nested(_zip_members(data, path, limits, budget), limits, budget, depth)
        elif data.startswith(_GZIP_MAGIC):
            yield from _nested(_gzip_member(data, path, limits, budget), limits, budget, depth)
        elif data[257:262] == b"ustar":
            yield from _nested(_tar_members(data, path, limits, budget), limits, budget, depth)
        elif is_binary(data):
            budget.binaries += 1
        else:
            yield path, data
    except (zipfile.BadZipFile, zlib.error, EOFError, tarfile.TarError, ValueError,
            NotImplementedError, RuntimeError, OSError) as error:
        budget.skipped.append((path, f"unreadable archive: {type(error).__name__}", len(data)))


def _nested(members: Iterator[tuple[str, bytes]], limits: Limits, budget: Budget,
            depth: int) -> Iterator[tuple[str, bytes]]:
    for name, payload in members:
        if depth + 1 >= limits.max_depth and _is_archive(payload):
            budget.skipped.append((name, f"archive nested deeper than {limits.max_depth}",
                                   len(payload)))
            continue
        yield from texts(payload, name, limits, budget, depth + 1)


def _is_archive(data: bytes) -> bool:
    return data.startswith((*_ZIP_MAGIC, _GZIP_MAGIC)) or data[257:262] == b"ustar"


def _admit(name: str, size: int, packed: int, limits: Limits, budget: Budget) -> bool:
    """Whether a member may be expanded; records the reason when not."""
    reason = ""
    if size > limits.max_file_size:
        reason = f"larger than {limits.max_file_size} bytes"
    elif size > MiB and size > limits.max_ratio * max(packed, 1):
        reason = f"compression ratio above {limits.max_ratio} (zip bomb?)"
    elif size > budget.remaining:
        reason = f"archive expansion cap of {limits.max_expanded} bytes reached"
    if reason:
        budget.skipped.append((name, reason, size))
        return False
    budget.remaining -= size
    return True


def _zip_members(data: bytes, path: str, limits: Limits,
                 budget: Budget) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > limits.max_members:
            budget.skipped.append((path, f"more than {limits.max_members} members; "
                                   "the rest not scanned", len(data)))
        for info in infos[: limits.max_members]:
            name = f"{path}!/{info.filename}"
            if not _admit(name, info.file_size, info.compress_size, limits, budget):
                continue
            with archive.open(info) as member:  # declared sizes may lie: read one past
                payload = member.read(info.file_size + 1)
            if len(payload) > info.file_size:
                budget.skipped.append((name, "member larger than its declared size", 0))
                continue
            yield name, payload


def _gzip_member(data: bytes, path: str, limits: Limits,
                 budget: Budget) -> Iterator[tuple[str, bytes]]:
    name = f"{path}!/{path.rsplit('/', 1)[-1].removesuffix('.gz').removesuffix('.tgz')}"
    cap = min(limits.max_file_size, budget.remaining, limits.max_ratio * len(data) + MiB)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    payload = inflater.decompress(data, cap)
    if inflater.unconsumed_tail:  # more output than the cap allows
        budget.skipped.append((name, f"expands beyond {cap} bytes", len(data)))
        return
    budget.remaining -= len(payload)
    yield name, payload


def _tar_members(data: bytes, path: str, limits: Limits,
                 budget: Budget) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for count, member in enumerate(archive):
            if count >= limits.max_members:
                budget.skipped.append((path, f"more than {limits.max_members} members", 0))
                return
            name = f"{path}!/{member.name}"
            if not member.isreg() or not _admit(name, member.size, member.size, limits, budget):
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                yield name, handle.read(member.size)
