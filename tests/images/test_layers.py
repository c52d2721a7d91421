from __future__ import annotations

import gzip
import tarfile
import tracemalloc
import zlib
from pathlib import Path

import pytest

from hullguard.errors import InputError, IntegrityError, LimitExceeded
from hullguard.images.api import FileKind, SourceOptions
from hullguard.images.builder import FileSpec, gzip_bytes, zstd_bytes
from hullguard.images.layers import MAX_ZSTD_WINDOW, normalize, walk_blob
from tests.images.craft import (
    END,
    entries,
    files_tar,
    header,
    member,
    raw_tar,
    sha,
    walker,
)

SAMPLE = (FileSpec("etc", kind="dir", mode=0o755), FileSpec("etc/os-release", b"ID=test\n"),
          FileSpec("bin/sh", b"\x7fELF" + bytes(3000), mode=0o755),
          FileSpec("bin/ash", kind="symlink", linkname="sh"),
          FileSpec("bin/busybox", kind="hardlink", linkname="bin/sh"),
          FileSpec("dev/null", kind="fifo"))


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_every_compression_gives_the_same_entries(tmp_path: Path, compression: str) -> None:
    tar = files_tar(*SAMPLE)
    walk = walker(tmp_path, tar, compression)
    got = [(entry.info, entry.read(1 << 20)) for entry in walk]
    assert walk.compression == compression
    with tarfile.open(fileobj=__import__("io").BytesIO(tar)) as reference:
        expected = [("/" + m.name, m.size if m.isreg() else 0) for m in reference]
    assert [(info.path, info.size) for info, _ in got] == expected
    kinds = {info.path: info.kind for info, _ in got}
    assert kinds == {"/etc": FileKind.DIR, "/etc/os-release": FileKind.FILE,
                     "/bin/sh": FileKind.FILE, "/bin/ash": FileKind.SYMLINK,
                     "/bin/busybox": FileKind.HARDLINK, "/dev/null": FileKind.OTHER}
    infos = {info.path: (info, data) for info, data in got}
    assert infos["/etc/os-release"][1] == b"ID=test\n"
    assert infos["/bin/sh"][0].is_executable and infos["/bin/sh"][0].mode == 0o755
    assert infos["/bin/ash"][0].linkname == "sh"
    assert infos["/bin/busybox"][0].linkname == "/bin/sh"  # hard links are normalized


def test_media_type_is_ignored_in_favour_of_magic_bytes(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    path = tmp_path / "blob"
    path.write_bytes(gzip_bytes(tar))
    walk = walk_blob(path, media_type="application/vnd.oci.image.layer.v1.tar+zstd",
                     digest=None, size=None, diff_id=sha(tar), options=SourceOptions(),
                     where="x")
    assert len(list(walk)) == len(SAMPLE) and walk.compression == "gzip"


def test_multi_member_gzip_and_trailing_zeros(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    half = len(tar) // 2
    blob = gzip.compress(tar[:half]) + gzip.compress(tar[half:]) + bytes(100)
    got, _ = entries(tmp_path, tar, blob=blob)
    assert len(got) == len(SAMPLE)
    with pytest.raises(IntegrityError, match="trailing garbage"):
        list(walker(tmp_path, tar, blob=gzip.compress(tar) + b"garbage!"))


def test_chunks_stream_and_read_limit(tmp_path: Path) -> None:
    big = bytes(range(256)) * 10_000
    tar = files_tar(FileSpec("big", big), FileSpec("small", b"abc"))
    walk = iter(walker(tmp_path, tar, "gzip"))
    first = next(walk)
    with pytest.raises(LimitExceeded, match="over the 100-byte limit"):
        first.read(100)
    assert b"".join(first.chunks(4096)) == big
    second = next(walk)
    assert second.read(3) == b"abc"
    with pytest.raises(RuntimeError, match="only while"):
        first.read(1 << 30)  # the walk moved on: content is gone


def test_unread_content_is_skipped(tmp_path: Path) -> None:
    tar = files_tar(FileSpec("a", b"x" * 5000), FileSpec("b", b"y" * 10), FileSpec("c", b"z"))
    walk = iter(walker(tmp_path, tar))
    first = next(walk)
    assert next(first.chunks(1000)) == b"x" * 1000  # partly read
    assert [entry.read(100) for entry in walk] == [b"y" * 10, b"z"]


@pytest.mark.parametrize(("name", "expected"), [
    ("etc/passwd", "/etc/passwd"), ("./etc/passwd", "/etc/passwd"), ("/etc/passwd", "/etc/passwd"),
    ("etc/", "/etc"), ("./", "/"), (".", "/"), ("a/../b", "/b"), ("a/./b//c", "/a/b/c"),
    ("../x", None), ("a/../../x", None), ("/../x", None), ("..", None),
    ("..\\..\\x", None), ("a\\..\\..\\x", None), ("a\\b", "/a\\b"), ("...", "/..."),
    (".hidden", "/.hidden"),
])
def test_name_normalization(name: str, expected: str | None) -> None:
    assert normalize(name) == expected


def test_escaping_members_are_skipped_with_warnings_and_the_rest_kept(tmp_path: Path) -> None:
    tar = raw_tar(member("../x", b"evil"), member("/etc/abs", b"ok"),
                  member("..\\..\\win", b"evil"), member("a/../b", b"ok"),
                  member("a\\b", b"ok"), member("ok/file", b"ok"),
                  member("link", flag=b"1", linkname="../../etc/passwd"))
    got, warnings = entries(tmp_path, tar)
    assert [info.path for info, _ in got] == ["/etc/abs", "/b", "/a\\b", "/ok/file"]
    assert all(data == b"ok" for _, data in got)
    assert len(warnings) == 3
    assert any("'../x'" in w for w in warnings) and any("hard link" in w for w in warnings)


def test_whiteout_entries(tmp_path: Path) -> None:
    tar = raw_tar(member("etc/.wh.passwd"), member("var/cache/.wh..wh..opq"),
                  member(".wh.top"), member("x/.wh."), member("x/.wh.."),
                  member("x/.wh..wh.plnk"), member("keep"))
    got, warnings = entries(tmp_path, tar)
    assert [(info.kind, info.path) for info, _ in got] == [
        (FileKind.WHITEOUT, "/etc/passwd"), (FileKind.OPAQUE, "/var/cache"),
        (FileKind.WHITEOUT, "/top"), (FileKind.FILE, "/keep")]
    assert len(warnings) == 3 and any("'/x/.wh.'" in w for w in warnings)


def test_long_names_pax_and_prefix(tmp_path: Path) -> None:
    deep = "/".join(["d" * 60] * 5) + "/file"
    tar = files_tar(FileSpec(deep, b"1"), FileSpec("ln", kind="symlink", linkname="t" * 150),
                    FileSpec("ünïcode/文件", b"2"))
    gnu = tarfile.TarInfo(deep + "2")
    gnu.size = 1
    buffer = __import__("io").BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as out:
        out.addfile(gnu, __import__("io").BytesIO(b"3"))
    ustar = raw_tar(header("file", size=1, prefix=b"some/prefix") + b"4" + bytes(511))
    got, _ = entries(tmp_path, tar)
    assert [i.path for i, _ in got] == ["/" + deep, "/ln", "/ünïcode/文件"]
    assert got[1][0].linkname == "t" * 150
    assert [i.path for i, _ in entries(tmp_path, buffer.getvalue())[0]] == ["/" + deep + "2"]
    assert entries(tmp_path, ustar)[0][0][0].path == "/some/prefix/file"


def test_base256_sizes_are_read(tmp_path: Path) -> None:
    field = b"\x80" + (5).to_bytes(11, "big")
    tar = raw_tar(header("f", size_field=field) + b"hello" + bytes(507))
    got, _ = entries(tmp_path, tar)
    assert got[0][1] == b"hello"


@pytest.mark.parametrize(("field", "error", "match"), [
    (b"\x80" + (1 << 60).to_bytes(11, "big"), LimitExceeded, "declares"),
    (b"77777777777\0", LimitExceeded, "declares"),
    (b"\xff" * 12, InputError, "negative"),
    (b"12x45\0\0\0\0\0\0\0", InputError, "invalid number"),
])
def test_absurd_header_sizes(tmp_path: Path, field: bytes, error: type[Exception],
                             match: str) -> None:
    tar = raw_tar(header("f", size_field=field) + bytes(512))
    options = SourceOptions(max_layer_bytes=1 << 30)
    with pytest.raises(error, match=match) as caught:
        list(walker(tmp_path, tar, verify=False, options=options))
    assert caught.value.where == "test-layer"  # type: ignore[attr-defined]


def test_bad_checksum_and_non_tar(tmp_path: Path) -> None:
    broken = bytearray(member("f", b"x"))
    broken[0:1] = b"g"
    with pytest.raises(InputError, match="checksum"):
        list(walker(tmp_path, bytes(broken) + END))
    with pytest.raises(InputError, match="checksum"):
        list(walker(tmp_path, b"this is not a tar file at all".ljust(1024, b"!")))


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_truncated_blobs(tmp_path: Path, compression: str) -> None:
    tar = files_tar(FileSpec("a", bytes(range(256)) * 400), FileSpec("b", b"x" * 3000))
    blob = (gzip_bytes(tar) if compression == "gzip" else zstd_bytes(tar)
            if compression == "zstd" else tar)
    cut = blob[: len(blob) // 2]
    path = tmp_path / "cut"
    path.write_bytes(cut)
    walk = walk_blob(path, media_type="", digest=None, size=None, diff_id=None,
                     options=SourceOptions(), where="layer sha256:cut")
    with pytest.raises(IntegrityError, match="truncated") as caught:
        for entry in walk:
            entry.read(1 << 20)
    assert caught.value.where == "layer sha256:cut"
    short = walk_blob(path, media_type="", digest=sha(blob), size=len(blob), diff_id=None,
                      options=SourceOptions(), where="x")
    with pytest.raises(IntegrityError):
        list(short)


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_digest_and_diff_id_mismatches_raise_at_the_end(tmp_path: Path,
                                                        compression: str) -> None:
    tar = files_tar(*SAMPLE)
    blob = gzip_bytes(tar) if compression == "gzip" else (
        zstd_bytes(tar) if compression == "zstd" else tar)
    path = tmp_path / "blob"
    path.write_bytes(blob)
    other = sha(b"something else")

    def walk(**kw: object) -> list[object]:
        args = {"digest": sha(blob), "size": len(blob), "diff_id": sha(tar)} | kw
        return list(walk_blob(path, media_type="", options=SourceOptions(), where="L",
                              **args))  # type: ignore[arg-type]

    assert len(walk()) == len(SAMPLE)  # the benign twin verifies
    with pytest.raises(IntegrityError, match="blob digest"):
        walk(digest=other)
    with pytest.raises(IntegrityError, match="diffID"):
        walk(diff_id=other)
    with pytest.raises(IntegrityError, match="truncated"):
        walk(size=len(blob) + 10)
    with pytest.raises(IntegrityError, match=r"digest|truncated"):
        walk(size=len(blob) - 10)


def test_gzip_bomb_is_capped_by_bytes_and_ratio(tmp_path: Path) -> None:
    tar = files_tar(*(FileSpec(f"zeros{i}", bytes(4 << 20)) for i in range(20)))
    blob = gzip_bytes(tar)
    assert len(blob) * 500 < len(tar)  # a real bomb-ish ratio
    with pytest.raises(LimitExceeded, match="inflates past"):
        list(walker(tmp_path, tar, blob=blob, verify=False,
                    options=SourceOptions(max_layer_bytes=16 << 20)))
    with pytest.raises(LimitExceeded, match="more than 100x"):
        list(walker(tmp_path, tar, blob=blob, verify=False,
                    options=SourceOptions(max_ratio=100)))
    assert len(list(walker(tmp_path, tar, blob=blob))) == 20  # default bounds: benign


def test_zstd_frame_with_huge_window_is_refused(tmp_path: Path) -> None:
    # Frame header: magic, descriptor (no single segment), window descriptor 2^31, then an
    # empty last raw block. A decoder would reserve a 2 GiB window for it.
    window_log = 31
    frame = b"\x28\xb5\x2f\xfd" + b"\x00" + bytes([(window_log - 10) << 3]) + b"\x01\x00\x00"
    with pytest.raises(LimitExceeded, match="window") as caught:
        list(walker(tmp_path, b"", blob=frame, verify=False))
    assert str(MAX_ZSTD_WINDOW) in caught.value.message
    small = b"\x28\xb5\x2f\xfd" + b"\x00" + bytes([(20 - 10) << 3]) + b"\x01\x00\x00"
    assert list(walker(tmp_path, b"", blob=small, verify=False)) == []  # benign twin


def test_corrupt_compressed_data(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    blob = bytearray(gzip_bytes(tar))
    blob[20:40] = bytes(20)
    with pytest.raises(IntegrityError, match="gzip"):
        list(walker(tmp_path, tar, blob=bytes(blob), verify=False))
    zblob = bytearray(zstd_bytes(tar))
    zblob[12:30] = b"\xff" * 18
    with pytest.raises(IntegrityError):
        list(walker(tmp_path, tar, blob=bytes(zblob), verify=False))


def test_oversized_pax_header_and_missing_end_marker(tmp_path: Path) -> None:
    pax = header("././@PaxHeader", size=2 << 20, flag=b"x")
    with pytest.raises(LimitExceeded, match="extended header"):
        list(walker(tmp_path, pax + bytes(2 << 20) + END, verify=False))
    no_end = member("a", b"1") + member("b", b"2")  # no zero blocks: still read fully
    assert [i.path for i, _ in entries(tmp_path, no_end)[0]] == ["/a", "/b"]


def test_offset_walks_a_member_in_place(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    outer = tmp_path / "outer"
    outer.write_bytes(b"PREFIX" * 100 + tar + b"SUFFIX")
    walk = walk_blob(outer, media_type="", digest=sha(tar), size=len(tar), diff_id=sha(tar),
                     options=SourceOptions(), where="x", offset=600)
    assert len(list(walk)) == len(SAMPLE)


def test_streaming_memory_stays_bounded(tmp_path: Path) -> None:
    """A 256 MiB member inflated from gzip, read in chunks: peak Python memory stays small."""
    size = 256 << 20
    path = tmp_path / "zeros.gz"
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        out.write(compressor.compress(header("zeros", size=size)))
        block = bytes(1 << 20)
        for _ in range(size >> 20):
            out.write(compressor.compress(block))
        out.write(compressor.compress(END) + compressor.flush())
    tracemalloc.start()
    try:
        walk = walk_blob(path, media_type="", digest=None, size=None, diff_id=None,
                         options=SourceOptions(), where="x")
        total = sum(len(chunk) for entry in walk for chunk in entry.chunks())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == size
    assert peak < 24 << 20, f"peak {peak >> 20} MiB"


def test_diff_id_check_can_be_skipped_only_for_digest_verified_compressed_layers(
        tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    blob = gzip_bytes(tar)
    path = tmp_path / "blob"
    path.write_bytes(blob)
    fast = SourceOptions(verify_diff_ids=False)
    wrong = sha(b"not the diffID")
    walk = walk_blob(path, media_type="", digest=sha(blob), size=len(blob), diff_id=wrong,
                     options=fast, where="L")
    assert len(list(walk)) == len(SAMPLE)  # the blob digest authenticated the content
    raw = tmp_path / "raw"
    raw.write_bytes(tar)
    with pytest.raises(IntegrityError, match="diffID"):  # no blob digest: always checked
        list(walk_blob(raw, media_type="", digest=None, size=None, diff_id=wrong,
                       options=fast, where="L"))


def test_pax_values_with_newlines_and_invalid_records(tmp_path: Path) -> None:
    odd = "dir/" + "n" * 120 + "\nline2"
    got, _ = entries(tmp_path, files_tar(FileSpec(odd, b"1")))
    assert got[0][0].path == "/" + odd
    record = b"99 path=x\n"  # the length does not match the record
    bad = header("././@PaxHeader", size=len(record), flag=b"x") + record + bytes(
        512 - len(record)) + member("f", b"1") + END
    with pytest.raises(InputError, match="PAX"):
        list(walker(tmp_path, bad, verify=False))
