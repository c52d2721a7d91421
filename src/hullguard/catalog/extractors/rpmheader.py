"""RPM header blobs, parsed by hand: the format every rpmdb backend stores per package.

A blob is ``il`` (index entries) and ``dl`` (data bytes) as big-endian int32, then ``il``
16-byte entries (tag, type, offset, count) and the data store. We read only the tags the
catalog needs and bound every offset, since the blob comes from an untrusted image.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hullguard.errors import InputError

NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, SOURCERPM, VENDOR = (
    1000, 1001, 1002, 1003, 1014, 1022, 1044, 1011)
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
_INT32, _STRING, _STRING_ARRAY, _I18NSTRING = 4, 6, 8, 9
_WANTED = {NAME, VERSION, RELEASE, EPOCH, LICENSE, ARCH, SOURCERPM, VENDOR, DIRINDEXES,
           BASENAMES, DIRNAMES}
MAX_ENTRIES = 1 << 16
MAX_DATA = 64 << 20


@dataclass(frozen=True)
class RpmHeader:
    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    license: str
    source_rpm: str
    vendor: str
    files: tuple[str, ...]

    @property
    def evr(self) -> str:
        base = f"{self.version}-{self.release}" if self.release else self.version
        return f"{self.epoch}:{base}" if self.epoch is not None else base


def parse_header(blob: bytes) -> RpmHeader:
    """Parse one header blob; InputError for anything inconsistent."""
    if len(blob) < 8:
        raise InputError("rpm header blob shorter than 8 bytes")
    count, data_len = struct.unpack_from(">ii", blob, 0)
    if not (0 < count <= MAX_ENTRIES and 0 <= data_len <= MAX_DATA):
        raise InputError(f"rpm header with {count} entries / {data_len} data bytes")
    start = 8 + 16 * count
    data = blob[start:start + data_len]
    if len(blob) < start or len(data) != data_len:
        raise InputError("rpm header blob truncated")
    values = {}
    for index in range(count):
        tag, kind, offset, n = struct.unpack_from(">iiii", blob, 8 + 16 * index)
        if tag in _WANTED:
            values[tag] = _value(data, kind, offset, n)
    return _build(values)


def _value(data: bytes, kind: int, offset: int, n: int) -> list[str] | list[int]:
    if not 0 <= offset < len(data) or not 0 < n <= MAX_ENTRIES:
        raise InputError(f"rpm header entry points outside its data ({offset}, {n})")
    if kind == _INT32:
        if offset + 4 * n > len(data):
            raise InputError("rpm header int32 array runs past its data")
        return list(struct.unpack_from(f">{n}i", data, offset))
    if kind in (_STRING, _STRING_ARRAY, _I18NSTRING):
        return _strings(data, offset, 1 if kind == _STRING else n)
    return []


def _strings(data: bytes, offset: int, n: int) -> list[str]:
    out = []
    for _ in range(n):
        end = data.find(b"\0", offset)
        if end < 0:
            raise InputError("rpm header string is not NUL-terminated")
        out.append(data[offset:end].decode("utf-8", "replace"))
        offset = end + 1
    return out


def _first(values: dict[int, list[str] | list[int]], tag: int) -> str:
    found = values.get(tag) or [""]
    return str(found[0])


def _ints(values: dict[int, list[str] | list[int]], tag: int) -> list[int]:
    """An INT32 tag's values; a header that stores one as strings is inconsistent."""
    found = values.get(tag, [])
    ints = [value for value in found if isinstance(value, int)]
    if len(ints) != len(found):
        raise InputError(f"rpm header tag {tag} should be an int32 array, not strings")
    return ints


def _build(values: dict[int, list[str] | list[int]]) -> RpmHeader:
    epoch = _ints(values, EPOCH)
    return RpmHeader(
        name=_first(values, NAME), version=_first(values, VERSION),
        release=_first(values, RELEASE), epoch=epoch[0] if epoch else None,
        arch=_first(values, ARCH), license=_first(values, LICENSE),
        source_rpm=_first(values, SOURCERPM), vendor=_first(values, VENDOR),
        files=_files(values),
    )


def _files(values: dict[int, list[str] | list[int]]) -> tuple[str, ...]:
    basenames = [str(v) for v in values.get(BASENAMES, [])]
    dirnames = [str(v) for v in values.get(DIRNAMES, [])]
    indexes = _ints(values, DIRINDEXES)
    if len(indexes) != len(basenames):
        return ()
    return tuple(dirnames[i] + base for i, base in zip(indexes, basenames, strict=True)
                 if 0 <= i < len(dirnames))
