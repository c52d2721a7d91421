"""Hostile and broken package files: a warning or a plugin status, never a crash, and the
rest of the image is still cataloged. Large files are streamed, not held in memory."""

from __future__ import annotations

import io
import json
import random
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator

import pytest

from hullguard.catalog.api import Extraction, Extractor, ScanInput
from hullguard.catalog.extractors.golang import MAGIC, GoBinaryExtractor
from hullguard.catalog.extractors.java import JavaArchiveExtractor
from hullguard.images.api import FileInfo, FileKind, MemoryEntry
from hullguard.images.builder import FileSpec, ImageSpec, LayerSpec
from hullguard.model import Sbom, Status
from tests.support.archives import zip_bytes

Catalog = Callable[..., Sbom]
GO_HEAD = b"\x7fELF" + bytes(60) + b"\x04\x00\x00\x00\x08\x00\x00\x00\x04\x00\x00\x00Go\x00\x00"
TARGETS = (
    "lib/apk/db/installed", "var/lib/dpkg/status", "var/lib/dpkg/status.d/x",
    "var/lib/dpkg/info/x.list", "var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages",
    "usr/lib/python3/dist-packages/x-1.dist-info/METADATA", "app/node_modules/x/package.json",
    "opt/x.jar", "usr/lib/ruby/specifications/x.gemspec", "srv/vendor/composer/installed.json",
    "app/x.deps.json", "etc/os-release", "usr/lib/os-release",
)


def _garbage(seed: int, size: int = 4096) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_garbage_everywhere_still_catalogs_the_rest(catalog: Catalog, seed: int) -> None:
    files = [FileSpec(path, _garbage(seed + i)) for i, path in enumerate(TARGETS)]
    files.append(FileSpec("usr/bin/fake-go", GO_HEAD + bytes(8000) + MAGIC + b"\x08\x02"
                          + bytes(16) + b"\xff\xff\xff\xff\x0f", mode=0o755))
    files.append(FileSpec("app/node_modules/ok/package.json",
                          b'{"name": "ok", "version": "1.0.0"}'))
    sbom = catalog(ImageSpec([LayerSpec(tuple(files))]))
    assert ("ok", "1.0.0") in {(p.name, p.version) for p in sbom.packages}
    assert all(s.status in (Status.OK, Status.PARTIAL, Status.FAILED) for s in sbom.statuses)
    assert next(s for s in sbom.statuses if s.name == "golang").status is Status.FAILED


def test_json_of_the_wrong_shape(catalog: Catalog) -> None:
    sbom = catalog(ImageSpec([LayerSpec((
        FileSpec("app/node_modules/a/package.json", b'["not", "an", "object"]'),
        FileSpec("app/node_modules/b/package.json", b'{"name": 5, "version": null}'),
        FileSpec("srv/vendor/composer/installed.json", b'{"packages": 7}'),
        FileSpec("app/x.deps.json", b'{"libraries": {"A/1": "str"}}'),
    ))]))
    assert sbom.packages == ()
    assert all(s.status is Status.OK for s in sbom.statuses)


class _StreamEntry:
    """A large file produced chunk by chunk, as a layer walk delivers it."""

    def __init__(self, info: FileInfo, chunks: Callable[[], Iterator[bytes]]) -> None:
        self.info, self._chunks = info, chunks

    def read(self, limit: int) -> bytes:
        raise AssertionError("a large file must be streamed, not read whole")

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        return self._chunks()


def _streamed(extractor: Extractor, info: FileInfo,
              chunks: Callable[[], Iterator[bytes]]) -> tuple[Extraction, int]:
    """The extraction and the peak of Python memory allocated while it ran."""
    tracemalloc.start()
    try:
        extraction = extractor.extract(ScanInput(_StreamEntry(info, chunks), 0, ""))
        return extraction, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_go_binary_scan_memory_is_bounded() -> None:
    size = 96 << 20
    blob = MAGIC + bytes([8, 2]) + bytes(16) + b"\x08go1.22.1" + b"\x00"

    def chunks() -> Iterator[bytes]:
        yield GO_HEAD + bytes((1 << 20) - len(GO_HEAD))
        filler = bytes(1 << 20)
        for _ in range(size >> 20):
            yield filler
        yield blob

    info = FileInfo("/usr/bin/big", FileKind.FILE, 0o755, size)
    extraction, peak = _streamed(GoBinaryExtractor(), info, chunks)
    assert peak < 12 << 20
    assert [p.version for p in extraction.packages] == ["go1.22.1"]


def test_large_jar_is_spooled_not_held() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("META-INF/maven/g/a/pom.properties", "groupId=g\nartifactId=a\n"
                                                              "version=1\n")
        archive.writestr("payload.bin", random.Random(0).randbytes(48 << 20))
    data = buffer.getvalue()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(data), 1 << 20):
            yield data[start:start + (1 << 20)]

    info = FileInfo("/opt/big.jar", FileKind.FILE, 0o644, len(data))
    extraction, peak = _streamed(JavaArchiveExtractor(), info, chunks)
    assert peak < 16 << 20
    assert [p.name for p in extraction.packages] == ["a"]


def test_database_with_absurd_record_count_is_refused(catalog: Catalog) -> None:
    stanza = b"Package: p%d\nStatus: install ok installed\nVersion: 1\n\n"
    status = b"".join(stanza % i for i in range(50_001))
    sbom = catalog(ImageSpec([LayerSpec((FileSpec("var/lib/dpkg/status", status),
                                         FileSpec("app/node_modules/ok/package.json",
                                                  b'{"name": "ok", "version": "1.0.0"}')))]))
    dpkg = next(s for s in sbom.statuses if s.name == "dpkg")
    assert dpkg.status is Status.FAILED and "50000" in dpkg.message
    assert [p.name for p in sbom.packages] == ["ok"]


def test_names_that_cannot_make_a_purl_skip_their_package_with_a_warning(
        catalog: Catalog) -> None:
    """Blank names, names or versions with surrounding whitespace (packageurl strips them:
    "@ " became ``pkg:npm/%40@1``, version " " vanished), names packageurl refuses ("/",
    "@x/") and lone surrogates: TypeError/ValueError/UnicodeEncodeError before. One such
    package in a database skips itself only."""
    npm = {"a": '"@ "', "b": '"/"', "c": '"@x/"', "d": '" "', "e": '"\\ud800"', "ok": '"ok"'}
    files = [FileSpec(f"app/node_modules/{d}/package.json",
                      f'{{"name": {n}, "version": "1.0.0"}}'.encode()) for d, n in npm.items()]
    files += [
        FileSpec("app/node_modules/v/package.json", b'{"name": "v", "version": " "}'),
        FileSpec("lib/apk/db/installed",
                 "P:musl\nV:1.2.4-r2\n\nP:\u0085\nV:1.0-r0\n\nP:pad \nV:1-r0\n".encode()),
        FileSpec("srv/vendor/composer/installed.json", json.dumps({"packages": [
            {"name": "\ud800/x", "version": "1.0.0"},
            {"name": "acme/ok", "version": "1.0.0"}]}).encode()),
        FileSpec("app/x.deps.json", json.dumps({"libraries": {
            "Ok/1.0.0": {"type": "package"}, " Bad/1.0.0": {"type": "package"}}}).encode()),
        FileSpec("usr/lib/ruby/gems/3.2.0/specifications/x-1.0.gemspec",
                 b'Gem::Specification.new do |s|\n  s.name = " "\n  s.version = "1.0"\nend\n'),
    ]
    sbom = catalog(ImageSpec([LayerSpec(tuple(files))]))
    assert sorted((p.name, p.purl) for p in sbom.packages) == [
        ("Ok", "pkg:nuget/Ok@1.0.0"), ("acme/ok", "pkg:composer/acme/ok@1.0.0"),
        ("musl", "pkg:apk/alpine/musl@1.2.4-r2"), ("ok", "pkg:npm/ok@1.0.0")]
    statuses = {s.name: s for s in sbom.statuses}
    assert statuses["node"].status is Status.PARTIAL and "6 error(s)" in statuses["node"].message
    assert statuses["ruby"].status is Status.FAILED
    assert statuses["apk"].status is statuses["php"].status is Status.OK
    skipped = [w for w in sbom.warnings if "cannot make a valid PURL" in w]
    assert len(skipped) == 4 + 6 + 1  # apk 2, php 1, dotnet 1; node 6; ruby 1
    assert any("installed: record 2:" in w and "skipped" in w for w in skipped)


def test_deeply_nested_json_is_a_warning_not_a_crash(catalog: Catalog) -> None:
    """package.json, deps.json and installed.json go through the one bounded JSON loader
    (RecursionError before)."""
    deep = b"[" * 100_000 + b"]" * 100_000
    sbom = catalog(ImageSpec([LayerSpec((
        FileSpec("app/node_modules/deep/package.json", deep),
        FileSpec("app/x.deps.json", deep), FileSpec("srv/vendor/composer/installed.json", deep),
        FileSpec("app/node_modules/ok/package.json", b'{"name": "ok", "version": "1.0.0"}'),
    ))]))
    assert [p.name for p in sbom.packages] == ["ok"]
    nested = [w for w in sbom.warnings if "invalid JSON (" in w and "nest" in w]
    assert sorted(w.partition(":")[0] for w in nested) == ["dotnet", "node", "php"]
    assert all(s.status is Status.OK for s in sbom.statuses)


def test_jar_member_with_a_corrupt_deflate_stream_is_a_warning() -> None:
    """zlib.error escaped the member copy before."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n" * 20)
    data = bytearray(buffer.getvalue())
    start = 30 + len("META-INF/MANIFEST.MF")  # the local header, then the deflate stream
    data[start:start + 8] = b"\xff" * 8  # an invalid block type
    info = FileInfo("/opt/app/lib/x-1.0.jar", FileKind.FILE, size=len(data))
    extraction = JavaArchiveExtractor().extract(
        ScanInput(MemoryEntry(info, bytes(data)), 0, "sha256:" + "a" * 64))
    assert extraction.warnings and "unreadable member" in extraction.warnings[0]


def test_jar_needing_a_newer_zip_version_is_a_warning() -> None:
    """A central directory entry's "version needed to extract" beyond what zipfile reads
    (NotImplementedError escaped before; found by fuzz/run.py --only java-archive)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n")
    data = bytearray(buffer.getvalue())
    central = data.index(b"PK\x01\x02")
    data[central + 6:central + 8] = b"\xff\x00"  # version 25.5
    info = FileInfo("/opt/app/lib/x-1.0.jar", FileKind.FILE, size=len(data))
    extraction = JavaArchiveExtractor().extract(
        ScanInput(MemoryEntry(info, bytes(data)), 0, "sha256:" + "a" * 64))
    assert extraction.packages == ()
    assert "not a readable zip archive (zip file version 25.5)" in extraction.warnings[0]


def test_jar_manifest_key_with_surrounding_whitespace_then_a_continuation() -> None:
    """KeyError before (the continuation looked up the unstripped key); found by fuzz/run.py
    --only java-archive."""
    manifest = (b"Manifest-Version: 1.0\r\n\tImplementation-Title: Apache Commons\r\n Lang\r\n"
                b"Implementation-Version: 3.12.0\r\n")
    data = zip_bytes({"META-INF/MANIFEST.MF": manifest})
    info = FileInfo("/opt/app/lib/commons-lang3-3.12.0.jar", FileKind.FILE, size=len(data))
    extraction = JavaArchiveExtractor().extract(
        ScanInput(MemoryEntry(info, data), 0, "sha256:" + "a" * 64))
    assert [(p.name, p.version) for p in extraction.packages] == [
        ("commons-lang3", "3.12.0")]
