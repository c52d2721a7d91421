"""RPM databases: rpmdb.sqlite (RHEL 9, Fedora, Debian's rpm) and BerkeleyDB ``Packages``.

Both backends store one header blob per package; :mod:`rpmheader` parses the blobs. The
sqlite file is opened from memory (``deserialize``), never written to disk.
"""

from __future__ import annotations

import mmap
import posixpath
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import IO

from hullguard.catalog.api import Extraction, FileOwnership, ScanInput
from hullguard.catalog.extractors import bdb
from hullguard.catalog.extractors._common import (
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


class RpmExtractor:
    name = "rpm"

    def file_required(self, info: FileInfo) -> bool:
        return (info.path.endswith(_DB_SUFFIXES)
                and posixpath.dirname(info.path) in DB_DIRS
                and posixpath.basename(info.path) in DB_FILES)

    def extract(self, scan_input: ScanInput) -> Extraction:
        # Spooled to an anonymous temporary file, not memory: databases reach hundreds of MB.
        with tempfile.NamedTemporaryFile(prefix="hullguard-rpmdb-") as spool:
            _copy(scan_input, spool)
            with mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as data:
                is_sqlite = data[:16] == b"SQLite format 3\0"
                blobs = list(_sqlite_blobs(spool) if is_sqlite else bdb.values(data))
        return _extraction(blobs, scan_input)


def _copy(scan_input: ScanInput, spool: IO[bytes]) -> None:
    size = 0
    for chunk in scan_input.entry.chunks():
        size += len(chunk)
        if size > MAX_DB_BYTES:
            raise LimitExceeded(f"rpm database is over {MAX_DB_BYTES >> 20} MiB",
                                where=scan_input.path)
        spool.write(chunk)
    if size < 512:
        raise InputError("rpm database is too short", where=scan_input.path)
    spool.flush()


def _extraction(blobs: list[bytes], scan_input: ScanInput) -> Extraction:
    packages, ownerships, warnings = [], [], []
    where = location(scan_input)
    for number, blob in enumerate(bounded(blobs, scan_input.path), start=1):
        try:
            header = parse_header(blob)
        except HullguardError as error:
            warnings.append(f"{scan_input.path}: header {number}: {error.message}")
            continue
        if not header.name or header.name == "gpg-pubkey":  # keys, not packages
            continue
        packages.append(_package(header, where))
        ownerships.append(FileOwnership(f"rpm:{header.name}", evidence_paths(header.files)))
    return Extraction(tuple(packages), tuple(ownerships), warnings=tuple(warnings))


def _sqlite_blobs(spool: IO[bytes]) -> Iterator[bytes]:
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
        rows = connection.execute("SELECT blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as error:
        raise InputError(f"unreadable rpmdb.sqlite: {error}") from None
    finally:
        connection.close()
    for (blob,) in rows:
        if isinstance(blob, bytes):
            yield blob


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
