"""RPM databases: rpmdb.sqlite (RHEL 9, Fedora, Debian's rpm) and BerkeleyDB ``Packages``.

Both backends store one header blob per package; :mod:`rpmheader` parses the blobs. The
database is copied to one anonymous temporary file (at most MAX_DB_BYTES) and read from there.

A hostile database is bounded three ways, each failing with a clear LimitExceeded in the rpm
status: the copy by size; the read by a wall-clock budget (MAX_DB_SECONDS, enforced by an
SQLite progress handler and between BerkeleyDB pages); the header bytes read out by
MAX_BLOB_BYTES. ``Packages`` in rpmdb.sqlite must be a real table and is scanned without ORDER
BY: a view over a cross join sorted by SQLite once grew 4 GB of temporary files in 19 s.
"""

from __future__ import annotations

import mmap
import posixpath
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from typing import IO

from hullguard.catalog.api import Extraction, FileOwnership, ScanInput
from hullguard.catalog.extractors import bdb
from hullguard.catalog.extractors._common import (
    MAX_RECORDS,
    bounded,
    evidence_paths,
    location,
    purl,
    sorted_meta,
    upstream,
)
from hullguard.catalog.extractors.rpmheader import RpmHeader, parse_header
from hullguard.errors import HullguardError, InputError, LimitExceeded
from hullguard.images.api import FileInfo
from hullguard.model import Location, Package, PackageType

DB_DIRS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm", "/usr/share/rpm")
DB_FILES = ("rpmdb.sqlite", "Packages")
_DB_SUFFIXES = tuple("/" + name for name in DB_FILES)
MAX_DB_BYTES = 512 << 20
MAX_DB_SECONDS = 30.0  # a real 100 MiB rpmdb reads in well under a second
MAX_BLOB_BYTES = 1 << 30  # header bytes taken out of one database in total


class RpmExtractor:
    name = "rpm"

    def file_required(self, info: FileInfo) -> bool:
        return (info.path.endswith(_DB_SUFFIXES)
                and posixpath.dirname(info.path) in DB_DIRS
                and posixpath.basename(info.path) in DB_FILES)

    def extract(self, scan_input: ScanInput) -> Extraction:
        # Spooled to an anonymous temporary file, not memory: databases reach hundreds of MB.
        budget = Budget(scan_input.path)
        with tempfile.NamedTemporaryFile(prefix="hullguard-rpmdb-") as spool:
            _copy(scan_input, spool, budget)
            with mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as data:
                is_sqlite = data[:16] == b"SQLite format 3\0"
                blobs = list(_sqlite_blobs(spool, budget)) if is_sqlite else [
                    budget.take(blob) for blob in bdb.values(data, budget.check)]
        return _extraction(blobs, scan_input)


class Budget:
    """Time and bytes one rpm database may cost (see the module docstring)."""

    def __init__(self, where: str, seconds: float | None = None) -> None:
        self.seconds = MAX_DB_SECONDS if seconds is None else seconds
        self.where, self.bytes = where, 0
        self.deadline = time.monotonic() + self.seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"rpm database took over {self.seconds:g} s to read; "
                                "skipped as hostile", where=self.where)

    def take(self, blob: bytes) -> bytes:
        self.bytes += len(blob)
        if self.bytes > MAX_BLOB_BYTES:
            raise LimitExceeded(f"rpm database headers exceed {MAX_BLOB_BYTES >> 20} MiB; "
                                "skipped as hostile", where=self.where)
        self.check()
        return blob


def _copy(scan_input: ScanInput, spool: IO[bytes], budget: Budget) -> None:
    size = 0
    for chunk in scan_input.entry.chunks():
        size += len(chunk)
        if size > MAX_DB_BYTES:
            raise LimitExceeded(f"rpm database is over {MAX_DB_BYTES >> 20} MiB",
                                where=scan_input.path)
        spool.write(chunk)
        budget.check()
    if size < 512:
        raise InputError("rpm database is too short", where=scan_input.path)
    spool.flush()


def _extraction(blobs: list[bytes], scan_input: ScanInput) -> Extraction:
    packages, ownerships, warnings = [], [], []
    where = location(scan_input)
    for number, blob in enumerate(bounded(blobs, scan_input.path), start=1):
        try:
            header = parse_header(blob)
            if not header.name or header.name == "gpg-pubkey":  # keys, not packages
                continue
            packages.append(_package(header, where))
        except HullguardError as error:
            warnings.append(f"{scan_input.path}: header {number}: {error.message}")
            continue
        ownerships.append(FileOwnership(f"rpm:{header.name}", evidence_paths(header.files)))
    return Extraction(tuple(packages), tuple(ownerships), warnings=tuple(warnings))


def _sqlite_blobs(spool: IO[bytes], budget: Budget) -> Iterator[bytes]:
    # rpm keeps its database in WAL mode (header bytes 18/19 = 2), which a read-only,
    # immutable open cannot use; our private copy is marked as a rollback-journal database,
    # which reads the same pages. Transactions still in a separate -wal file are not seen.
    spool.seek(18)
    spool.write(b"\x01\x01")
    spool.flush()
    try:
        connection = sqlite3.connect(f"file:{spool.name}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as error:
        raise InputError(f"unreadable rpmdb.sqlite: {error}") from None
    try:
        rows = _package_rows(connection, budget)
    except (sqlite3.Error, UnicodeDecodeError) as error:  # the last: corrupt schema text
        budget.check()  # an interrupt by the progress handler is a time limit, said so
        raise InputError(f"unreadable rpmdb.sqlite: {error}") from None
    finally:
        connection.close()
    for _hnum, blob in sorted(rows, key=lambda row: row[0] if isinstance(row[0], int) else 0):
        yield blob


def _package_rows(connection: sqlite3.Connection, budget: Budget) -> list[tuple[object, bytes]]:
    """(hnum, blob) rows of the Packages table, read in storage order under the budget."""
    connection.set_progress_handler(lambda: int(time.monotonic() > budget.deadline), 10_000)
    connection.execute("PRAGMA temp_store = MEMORY")  # nothing of ours spills to disk
    kind = connection.execute(
        "SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
    if not kind or kind[0] != "table":
        raise InputError("rpmdb.sqlite has no Packages table")
    rows: list[tuple[object, bytes]] = []
    for hnum, blob in connection.execute("SELECT hnum, blob FROM Packages"):
        if isinstance(blob, bytes):
            rows.append((hnum, budget.take(blob)))
        if len(rows) > MAX_RECORDS:
            raise LimitExceeded(f"more than {MAX_RECORDS} package records",
                                where=budget.where)
    return rows


def split_source_rpm(source_rpm: str) -> tuple[str, str]:
    """``bash-5.1.8-6.el9.src.rpm`` -> (``bash``, ``5.1.8-6.el9``)."""
    stem = source_rpm.removesuffix(".rpm")
    stem = stem.rpartition(".")[0] if stem.endswith((".src", ".nosrc")) else stem
    parts = stem.rsplit("-", 2)
    if len(parts) != 3:
        return "", ""
    return parts[0], f"{parts[1]}-{parts[2]}"


def _package(header: RpmHeader, where: tuple[Location, ...]) -> Package:
    version = f"{header.version}-{header.release}" if header.release else header.version
    epoch = str(header.epoch) if header.epoch is not None else ""
    source_name, source_version = split_source_rpm(header.source_rpm)
    return Package(
        name=header.name, version=header.evr, type=PackageType.RPM,
        purl=purl("rpm", header.name, version, None, {
            "arch": header.arch, "epoch": epoch,
            "upstream": upstream(header.name, version, source_name, source_version)}),
        cataloger="rpm", source_name=source_name, source_version=source_version,
        arch=header.arch, licenses=(header.license,) if header.license else (),
        locations=where,
        metadata=sorted_meta({"vendor": header.vendor, "source_rpm": header.source_rpm}),
    )
