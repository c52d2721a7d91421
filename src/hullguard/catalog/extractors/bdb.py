"""Values of a BerkeleyDB hash database (the pre-sqlite rpm ``Packages`` file), read by hand.

Only what rpmdb needs: header blobs are larger than a page, so they live on overflow pages
referenced by ``H_OFFPAGE`` items of hash pages. Every page number and length is bounded;
a loop in an overflow chain is an error, not a hang, and so is an overflow page claimed by
two values (each value owns its chain; a hostile file pointing every item at one long chain
would otherwise multiply its own size). ``check`` is called once per page (a time budget).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable, Iterator

from hullguard.errors import InputError

Data = bytes | mmap.mmap  # the whole file, in memory or mapped

HASH_MAGIC = 0x061561
P_HASH_UNSORTED, P_OVERFLOW, P_HASH = 2, 7, 13
H_OFFPAGE = 3
PAGE_HEADER = 26


def values(data: Data, check: Callable[[], None] = lambda: None) -> Iterator[bytes]:
    """Every off-page value of the hash database in ``data`` (page order)."""
    order, page_size = _meta(data)
    pages = len(data) // page_size
    claimed: set[int] = set()  # overflow pages already part of a value
    for number in range(1, pages):
        check()
        page = data[number * page_size:(number + 1) * page_size]
        if page[25] in (P_HASH, P_HASH_UNSORTED):
            yield from _page_values(data, page, order, page_size, claimed)


def _meta(data: Data) -> tuple[str, int]:
    if len(data) < 512:
        raise InputError("not a BerkeleyDB file (too short)")
    for order in ("<", ">"):
        magic, _version, page_size = struct.unpack_from(order + "III", data, 12)
        if magic == HASH_MAGIC:
            if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
                raise InputError(f"BerkeleyDB page size {page_size} is invalid")
            return order, page_size
    raise InputError("not a BerkeleyDB hash database (bad magic)")


def _page_values(data: Data, page: bytes, order: str, page_size: int,
                 claimed: set[int]) -> Iterator[bytes]:
    (entries,) = struct.unpack_from(order + "H", page, 20)
    entries = min(entries, (page_size - PAGE_HEADER) // 2)
    offsets = struct.unpack_from(f"{order}{entries}H", page, PAGE_HEADER)
    for index in range(1, len(offsets), 2):  # items alternate key, value
        offset = offsets[index]
        if offset + 12 <= page_size and page[offset] == H_OFFPAGE:
            start, length = struct.unpack_from(order + "II", page, offset + 4)
            yield _overflow(data, start, length, order, page_size, claimed)


def _overflow(data: Data, number: int, length: int, order: str, page_size: int,
              claimed: set[int]) -> bytes:
    chunks, total = [], 0
    while number and total < length:
        if number in claimed or (number + 1) * page_size > len(data):
            raise InputError(f"BerkeleyDB overflow chain broken at page {number} "
                             "(a loop, a page shared by two values, or past the end)")
        claimed.add(number)
        page = data[number * page_size:(number + 1) * page_size]
        if page[25] != P_OVERFLOW:
            raise InputError(f"BerkeleyDB page {number} is not an overflow page")
        (next_page,) = struct.unpack_from(order + "I", page, 16)
        (used,) = struct.unpack_from(order + "H", page, 22)
        chunk = page[PAGE_HEADER:PAGE_HEADER + used]
        chunks.append(chunk)
        total += len(chunk)
        number = next_page
    return b"".join(chunks)[:length]
