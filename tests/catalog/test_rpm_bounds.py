"""Hostile rpm databases cost bounded time, disk and memory, and say so in the rpm status."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hullguard.catalog.extractors import bdb, rpm
from hullguard.images.builder import FileSpec
from hullguard.model import Sbom, Status
from tests.catalog.test_language_extractors import one_layer
from tests.catalog.test_os_extractors import real_rpmdb
from tests.support.env import tool

Catalog = Callable[..., Sbom]
OS_RELEASE = FileSpec("etc/os-release", b'ID="rhel"\nVERSION_ID="9.2"\n')
__all__ = ["real_rpmdb"]  # the session fixture, shared with test_os_extractors


def _rpm_status(sbom: Sbom) -> tuple[Status, str]:
    status = next(s for s in sbom.statuses if s.name == "rpm")
    return status.status, status.message


def test_packages_view_over_a_cross_join_is_refused(catalog: Catalog, real_rpmdb: Path,
                                                   tmp_path: Path) -> None:
    # The attack: Packages is a VIEW multiplying a small table, read with ORDER BY, so SQLite
    # sorts (and spills to temporary files) far more than the file holds. Kept tiny here.
    hostile = tmp_path / "rpmdb.sqlite"
    shutil.copy(real_rpmdb, hostile)
    with sqlite3.connect(hostile) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("ALTER TABLE Packages RENAME TO t")
        connection.execute("CREATE VIEW Packages AS SELECT a.hnum * 1000 + b.hnum AS hnum, "
                           "a.blob AS blob FROM t a, t b, t c")
    sbom = catalog(one_layer(OS_RELEASE, FileSpec("var/lib/rpm/rpmdb.sqlite",
                                                  hostile.read_bytes())))
    state, message = _rpm_status(sbom)
    assert sbom.packages == () and state is Status.FAILED
    assert "no Packages table" in message


def test_time_budget_is_a_clear_status(catalog: Catalog, real_rpmdb: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpm, "MAX_DB_SECONDS", -1.0)
    sbom = catalog(one_layer(OS_RELEASE, FileSpec("var/lib/rpm/rpmdb.sqlite",
                                                  real_rpmdb.read_bytes())))
    state, message = _rpm_status(sbom)
    assert state is Status.FAILED and "took over -1 s" in message and "hostile" in message


def test_header_bytes_budget(catalog: Catalog, real_rpmdb: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpm, "MAX_BLOB_BYTES", 100)
    sbom = catalog(one_layer(OS_RELEASE, FileSpec("var/lib/rpm/rpmdb.sqlite",
                                                  real_rpmdb.read_bytes())))
    assert "headers exceed" in _rpm_status(sbom)[1]


def _berkeley(real_rpmdb: Path, tmp_path: Path, copies: int) -> bytearray:
    with sqlite3.connect(real_rpmdb) as connection:
        (blob,) = connection.execute("SELECT blob FROM Packages").fetchone()
    lines = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=512", "HEADER=END"]
    for key in range(1, copies + 1):
        lines += [" " + struct.pack("<I", key).hex(), " " + blob.hex()]
    dump = tmp_path / "dump.txt"
    dump.write_text("\n".join([*lines, "DATA=END"]) + "\n")
    subprocess.run([tool("db5.3_load"), "-f", str(dump), str(tmp_path / "Packages")],
                   check=True)
    return bytearray((tmp_path / "Packages").read_bytes())


def _offpage_fields(data: bytearray) -> list[int]:
    """File offsets of the overflow page numbers of every off-page item (little endian)."""
    page_size = struct.unpack_from("<I", data, 20)[0]
    found = []
    for number in range(1, len(data) // page_size):
        base = number * page_size
        if data[base + 25] not in (bdb.P_HASH, bdb.P_HASH_UNSORTED):
            continue
        (entries,) = struct.unpack_from("<H", data, base + 20)
        offsets = struct.unpack_from(f"<{entries}H", data, base + bdb.PAGE_HEADER)
        found += [base + offset + 4 for offset in offsets[1::2]
                  if data[base + offset] == bdb.H_OFFPAGE]
    return found


def test_berkeleydb_values_sharing_one_overflow_chain(catalog: Catalog, real_rpmdb: Path,
                                                      tmp_path: Path) -> None:
    # every item pointed at the first item's chain: N items would read N copies of it
    data = _berkeley(real_rpmdb, tmp_path, 3)
    fields = _offpage_fields(data)
    assert len(fields) == 3
    for field in fields[1:]:
        data[field:field + 4] = data[fields[0]:fields[0] + 4]
    sbom = catalog(one_layer(OS_RELEASE, FileSpec("var/lib/rpm/Packages", bytes(data))))
    state, message = _rpm_status(sbom)
    assert state is Status.FAILED and "shared by two values" in message
