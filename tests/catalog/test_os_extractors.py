"""OS catalogers on real-format inputs: os-release, apk, dpkg (status, status.d), rpm."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hullguard.catalog.extractors.bdb import values as bdb_values
from hullguard.catalog.extractors.osrelease import (
    parse_debian_version,
    parse_os_release,
    parse_redhat_release,
)
from hullguard.catalog.extractors.rpmheader import parse_header
from hullguard.errors import InputError
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec
from hullguard.model import Package, PackageType, Sbom, Status
from tests.support.env import tool

Catalog = Callable[..., Sbom]


def one_layer(*files: FileSpec) -> ImageSpec:
    return ImageSpec([LayerSpec(tuple(files), created_by="COPY . /")])


def named(sbom: Sbom) -> dict[str, Package]:
    return {p.name: p for p in sbom.packages}


def test_os_release_parsing_handles_quotes_and_comments() -> None:
    distro = parse_os_release('# comment\nNAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
                              'VERSION_ID="22.04"\nVERSION_CODENAME=jammy\n'
                              "PRETTY_NAME='Ubuntu 22.04.4 LTS'\nBROKEN=\"x\n")
    assert distro is not None
    assert (distro.id, distro.version_id, distro.codename, distro.id_like) == (
        "ubuntu", "22.04", "jammy", ("debian",))
    assert distro.pretty_name == "Ubuntu 22.04.4 LTS"
    assert parse_os_release("NAME=nothing\n") is None


def test_release_files_of_older_distros() -> None:
    rhel = parse_redhat_release("Red Hat Enterprise Linux release 8.9 (Ootpa)\n")
    assert rhel is not None and (rhel.id, rhel.version_id, rhel.codename) == ("rhel", "8.9",
                                                                              "ootpa")
    centos = parse_redhat_release("CentOS Linux release 7.9.2009 (Core)")
    assert centos is not None and (centos.id, centos.version_id) == ("centos", "7.9.2009")
    debian = parse_debian_version("11.9\n")
    assert debian is not None and (debian.version_id, debian.codename) == ("11", "bullseye")
    testing = parse_debian_version("trixie/sid\n")
    assert testing is not None and testing.codename == "trixie"


def test_alpine_release_without_os_release(catalog: Catalog) -> None:
    sbom = catalog(one_layer(FileSpec("etc/alpine-release", b"3.19.1\n")))
    assert sbom.distro is not None and (sbom.distro.id, sbom.distro.release) == (
        "alpine", "v3.19")


APK_DB = b"""C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1695144930
c:7df6ac9b13a5
F:lib
R:ld-musl-x86_64.so.1
R:libc.musl-x86_64.so.1

P:broken-no-version
A:x86_64

P:ssl_client
V:3.1.4-r5
A:x86_64
L:GPL-2.0-only
o:busybox
F:usr/bin
R:ssl_client
"""


def test_apk_fields_origin_and_files(catalog: Catalog) -> None:
    sbom = catalog(one_layer(FileSpec("etc/os-release", b"ID=alpine\nVERSION_ID=3.18.9\n"),
                             FileSpec("lib/apk/db/installed", APK_DB)))
    found = named(sbom)
    assert set(found) == {"musl", "ssl_client"}
    musl, client = found["musl"], found["ssl_client"]
    assert musl.purl == "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.9"
    assert (musl.licenses, musl.source_name, musl.arch) == (("MIT",), "musl", "x86_64")
    assert musl.meta("build_time") == "1695144930"
    assert client.source_name == "busybox"
    assert any("no P:/V:" in w for w in sbom.warnings)


DPKG_STATUS = b"""Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.13-1~deb12u1

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
"""


def test_dpkg_status_installed_only_with_source(catalog: Catalog) -> None:
    sbom = catalog(one_layer(
        FileSpec("etc/os-release", b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'),
        FileSpec("var/lib/dpkg/status", DPKG_STATUS)))
    found = named(sbom)
    assert set(found) == {"libc6", "libssl3", "tzdata"}
    assert (found["libc6"].source_name, found["libc6"].source_version) == (
        "glibc", "2.36-9+deb12u4")
    assert (found["libssl3"].source_name, found["libssl3"].source_version) == (
        "openssl", "3.0.11-1~deb12u2")
    assert found["tzdata"].purl == \
        "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12"


def test_dpkg_licenses_from_copyright_files(catalog: Catalog) -> None:
    dep5 = (b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
            b"Files: *\nCopyright: 2000 Someone\nLicense: GPL-2+\n\n"
            b"Files: lib/*\nLicense: LGPL-2.1+\n This library is free software.\n\n"
            b"License: GPL-2+\n On Debian systems see /usr/share/common-licenses/GPL-2.\n")
    free_form = b"Copyright (c) 1995 X.\nSee /usr/share/common-licenses/BSD for details.\n"
    sbom = catalog(one_layer(
        FileSpec("var/lib/dpkg/status", DPKG_STATUS),
        FileSpec("usr/share/doc/libc6/copyright", dep5),
        FileSpec("usr/share/doc/tzdata/copyright", free_form),
        FileSpec("usr/share/doc/unrelated/copyright", b"License: MIT\n")))
    found = named(sbom)
    assert found["libc6"].licenses == ("GPL-2+", "LGPL-2.1+", "GPL-2")
    assert found["tzdata"].licenses == ("BSD",)
    assert found["libssl3"].licenses == ()
    assert "unrelated" not in found


def test_dpkg_distroless_status_d_and_md5sums(catalog: Catalog) -> None:
    stanza = (b"Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"
              b"Source: openssl\n")
    md5 = b"0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n"
    sbom = catalog(one_layer(
        FileSpec("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
        FileSpec("var/lib/dpkg/status.d/libssl3", stanza),
        FileSpec("var/lib/dpkg/status.d/libssl3.md5sums", md5)))
    assert [(p.name, p.source_name) for p in sbom.packages] == [("libssl3", "openssl")]


@pytest.fixture(scope="session")
def real_rpmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real rpmdb made by Debian's rpm (sqlite backend) holding one tiny noarch package."""
    rpmbuild, rpm = tool("rpmbuild"), tool("rpm")
    root = tmp_path_factory.mktemp("rpm")
    spec = root / "tiny.spec"
    spec.write_text("Name: hgtiny\nVersion: 1.2.3\nRelease: 4.el9\nEpoch: 2\nSummary: tiny\n"
                    "License: MIT AND Apache-2.0\nBuildArch: noarch\n%description\ntiny\n"
                    "%install\nmkdir -p %{buildroot}/usr/share/hgtiny\n"
                    "echo hi > %{buildroot}/usr/share/hgtiny/hello.txt\n"
                    "%files\n/usr/share/hgtiny/hello.txt\n")
    subprocess.run([rpmbuild, "-bb", "--define", f"_topdir {root / 'top'}", str(spec)],
                   check=True, capture_output=True)
    package = next((root / "top" / "RPMS" / "noarch").glob("*.rpm"))
    db = root / "db"
    subprocess.run([rpm, "--initdb", "--dbpath", str(db)], check=True, capture_output=True)
    subprocess.run([rpm, "-i", "--dbpath", str(db), "--nodeps", "--justdb", str(package)],
                   check=True, capture_output=True)
    return db / "rpmdb.sqlite"


def test_rpm_sqlite_database(catalog: Catalog, real_rpmdb: Path) -> None:
    sbom = catalog(one_layer(
        FileSpec("etc/os-release", b'ID="rhel"\nVERSION_ID="9.2"\n'),
        FileSpec("var/lib/rpm/rpmdb.sqlite", real_rpmdb.read_bytes())))
    [package] = sbom.packages
    assert (package.name, package.version, package.arch) == ("hgtiny", "2:1.2.3-4.el9", "noarch")
    assert package.licenses == ("MIT AND Apache-2.0",)
    assert (package.source_name, package.source_version) == ("hgtiny", "1.2.3-4.el9")
    assert package.purl == \
        "pkg:rpm/redhat/hgtiny@1.2.3-4.el9?arch=noarch&distro=rhel-9.2&epoch=2"


def test_rpm_header_file_list_and_hostile_blobs(real_rpmdb: Path) -> None:
    import sqlite3

    with sqlite3.connect(real_rpmdb) as connection:
        (blob,) = connection.execute("SELECT blob FROM Packages").fetchone()
    header = parse_header(blob)
    assert header.files == ("/usr/share/hgtiny/hello.txt",)
    for bad in (b"", blob[:40], b"\x7f\xff\xff\xff" + blob[4:], blob[:8] + b"\0" * 16):
        with pytest.raises(InputError):
            parse_header(bad)


def test_rpm_garbage_database_is_a_status_not_a_crash(catalog: Catalog) -> None:
    sbom = catalog(one_layer(FileSpec("var/lib/rpm/Packages", b"\0" * 4096),
                             FileSpec("var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\0junk")))
    status = next(s for s in sbom.statuses if s.name == "rpm")
    assert status.status is Status.FAILED and status.files == 2
    assert sbom.packages == ()


def test_bdb_rejects_non_hash_files() -> None:
    with pytest.raises(InputError):
        list(bdb_values(b"\0" * 8192))


def test_os_package_types() -> None:
    assert all(t.is_os for t in (PackageType.APK, PackageType.DEB, PackageType.RPM))


def test_rpm_berkeleydb_packages_file(catalog: Catalog, real_rpmdb: Path,
                                      tmp_path: Path) -> None:
    """A real BerkeleyDB hash file (written by db5.3_load, the format of rpm < 4.16's
    /var/lib/rpm/Packages) holding the real header blob under two instance numbers; small
    pages force the blobs onto chains of overflow pages."""
    import sqlite3
    import struct

    db_load = tool("db5.3_load")
    with sqlite3.connect(real_rpmdb) as connection:
        (blob,) = connection.execute("SELECT blob FROM Packages").fetchone()
    lines = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=512", "HEADER=END"]
    for key, value in ((1, blob), (2, blob), (0, struct.pack("<I", 3))):
        lines += [" " + struct.pack("<I", key).hex(), " " + value.hex()]
    dump = tmp_path / "dump.txt"
    dump.write_text("\n".join([*lines, "DATA=END"]) + "\n")
    subprocess.run([db_load, "-f", str(dump), str(tmp_path / "Packages")], check=True)
    data = (tmp_path / "Packages").read_bytes()
    assert [parse_header(value).name for value in bdb_values(data)] == ["hgtiny", "hgtiny"]
    sbom = catalog(one_layer(FileSpec("etc/os-release", b"ID=centos\nVERSION_ID=7\n"),
                             FileSpec("var/lib/rpm/Packages", data)))
    assert [p.purl for p in sbom.packages] == [
        "pkg:rpm/centos/hgtiny@1.2.3-4.el9?arch=noarch&distro=centos-7&epoch=2"] * 2


def test_rpm_headers_of_the_wrong_shape_skip_only_themselves(catalog: Catalog) -> None:
    """An index shorter than its count (struct.error before), EPOCH or DIRINDEXES stored as
    strings (ValueError) and a NAME of only whitespace (TypeError in packageurl): each header
    is a warning; the good one is still cataloged."""
    import sqlite3
    import struct

    from fuzz.seeds import RPM_FIELDS, rpm_header

    blobs = [struct.pack(">ii", 1, 0), rpm_header({**RPM_FIELDS, 1003: (8, ["1"])}),
             rpm_header({**RPM_FIELDS, 1116: (8, ["0", "0", "1"])}),
             rpm_header({**RPM_FIELDS, 1000: (6, " ")}), rpm_header(RPM_FIELDS)]
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    connection.commit()
    database = bytes(connection.serialize())
    sbom = catalog(one_layer(FileSpec("var/lib/rpm/rpmdb.sqlite", database)))
    assert [(p.name, p.version) for p in sbom.packages] == [("bash", "1:5.1.8-6.el9")]
    warnings = [w for w in sbom.warnings if "rpmdb.sqlite: header" in w]
    assert len(warnings) == 4
    assert "header 1: rpm header blob truncated" in warnings[0]
    assert "tag 1003 should be an int32 array" in warnings[1]
    assert "tag 1116 should be an int32 array" in warnings[2]
    assert "cannot make a valid PURL" in warnings[3]
    assert next(s for s in sbom.statuses if s.name == "rpm").status is Status.OK


def test_rpmdb_sqlite_with_schema_text_that_is_not_utf8(catalog: Catalog) -> None:
    """Python's sqlite3 decodes sqlite's messages as UTF-8: one quoting a corrupt table name
    raised UnicodeDecodeError (found by fuzz/run.py --only rpm-sqlite); now the rpm status
    says the database is unreadable."""
    from fuzz.seeds import rpm_sqlite

    database = bytearray(rpm_sqlite())
    database[database.index(b"tablePackagesPackages") + 5] = 0xC5  # the name: "\xc5ackages"
    sbom = catalog(one_layer(FileSpec("var/lib/rpm/rpmdb.sqlite", bytes(database))))
    status = next(s for s in sbom.statuses if s.name == "rpm")
    assert status.status is Status.FAILED and "unreadable rpmdb.sqlite" in status.message
    assert "codec can't decode" in status.message
