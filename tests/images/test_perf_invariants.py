"""The inflate thread (images/layers.py ``_Inflater``) keeps every check of the serial walk.

Large compressed blobs inflate on a worker thread while the main thread parses and hashes.
These tests force that path on small blobs (``INFLATE_THREAD_MIN = 0``) and check that the
entries, the digest/diffID/size verification, the bomb bounds and error reporting are the same
as the serial walk's, and that an abandoned or failed walk stops its thread.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from hullguard.errors import IntegrityError, LimitExceeded
from hullguard.images import layers
from hullguard.images.api import SourceOptions
from hullguard.images.builder import FileSpec, gzip_bytes, zstd_bytes
from hullguard.images.layers import walk_blob
from tests.images.craft import files_tar, sha

SAMPLE = tuple(FileSpec(f"usr/share/f{i}", bytes([i % 251]) * (i * 37 % 5000))
               for i in range(300))


def _inflate_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hullguard-inflate" and t.is_alive()]


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "INFLATE_THREAD_MIN", 0)


def _blob(tmp_path: Path, tar: bytes, compression: str) -> Path:
    path = tmp_path / f"blob.{compression}"
    path.write_bytes(gzip_bytes(tar) if compression == "gzip" else zstd_bytes(tar))
    return path


def _walk(path: Path, tar: bytes, **kw: object) -> list[tuple[str, bytes]]:
    blob = path.read_bytes()
    args = {"digest": sha(blob), "size": len(blob), "diff_id": sha(tar),
            "options": SourceOptions()} | kw
    walk = walk_blob(path, media_type="", where="L", **args)  # type: ignore[arg-type]
    return [(entry.info.path, entry.read(1 << 20)) for entry in walk]


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_threaded_walk_matches_the_serial_walk(tmp_path: Path, compression: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tar = files_tar(*SAMPLE)
    path = _blob(tmp_path, tar, compression)
    serial = _walk(path, tar)
    monkeypatch.setattr(layers, "INFLATE_THREAD_MIN", 0)
    assert _walk(path, tar) == serial
    assert len(serial) == len(SAMPLE)
    assert not _inflate_threads()


@pytest.mark.usefixtures("threaded")
@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_threaded_walk_still_verifies_digest_diff_id_and_size(tmp_path: Path,
                                                              compression: str) -> None:
    tar = files_tar(*SAMPLE)
    path = _blob(tmp_path, tar, compression)
    size = path.stat().st_size
    other = sha(b"something else")
    with pytest.raises(IntegrityError, match="blob digest"):
        _walk(path, tar, digest=other)
    with pytest.raises(IntegrityError, match="diffID"):
        _walk(path, tar, diff_id=other)
    with pytest.raises(IntegrityError, match="truncated"):
        _walk(path, tar, size=size + 10)
    with pytest.raises(IntegrityError, match=r"digest|truncated"):
        _walk(path, tar, size=size - 10)
    assert not _inflate_threads()


@pytest.mark.usefixtures("threaded")
def test_threaded_walk_reports_worker_errors(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    blob = gzip_bytes(tar)
    cut = tmp_path / "cut"
    cut.write_bytes(blob[: len(blob) // 2])
    walk = walk_blob(cut, media_type="", digest=None, size=None, diff_id=None,
                     options=SourceOptions(), where="layer x")
    with pytest.raises(IntegrityError, match="truncated") as caught:
        for entry in walk:
            entry.read(1 << 20)
    assert caught.value.where == "layer x"
    bomb = files_tar(*(FileSpec(f"zeros{i}", bytes(4 << 20)) for i in range(20)))
    path = tmp_path / "bomb"
    path.write_bytes(gzip_bytes(bomb))
    with pytest.raises(LimitExceeded, match="inflates past"):
        list(walk_blob(path, media_type="", digest=None, size=None, diff_id=None,
                       options=SourceOptions(max_layer_bytes=8 << 20), where="b"))
    with pytest.raises(LimitExceeded, match="more than 100x"):  # counted as the parser goes
        list(walk_blob(path, media_type="", digest=None, size=None, diff_id=None,
                       options=SourceOptions(max_ratio=100), where="b"))
    assert not _inflate_threads()


@pytest.mark.usefixtures("threaded")
def test_abandoned_threaded_walk_stops_its_thread(tmp_path: Path) -> None:
    noise = random.Random(3).randbytes(1 << 20)
    tar = files_tar(*(FileSpec(f"f{i}", noise) for i in range(16)))  # fills the queue
    path = _blob(tmp_path, tar, "gzip")
    walk = walk_blob(path, media_type="", digest=None, size=None, diff_id=sha(tar),
                     options=SourceOptions(), where="L")
    next(walk)
    assert _inflate_threads()  # blocked on the full queue
    walk.close()
    assert not _inflate_threads()


def test_large_compressed_blobs_use_the_thread_and_small_ones_do_not(tmp_path: Path) -> None:
    noise = random.Random(7).randbytes(layers.INFLATE_THREAD_MIN + (1 << 20))
    for data, expected in ((noise, True), (b"small", False)):
        tar = files_tar(FileSpec("data", data))
        path = _blob(tmp_path, tar, "gzip")
        walk = walk_blob(path, media_type="", digest=None, size=None, diff_id=sha(tar),
                         options=SourceOptions(), where="L")
        next(walk)
        assert (walk._inflater is not None) is expected
        assert list(walk) == []  # the rest of the walk verifies the diffID


# -- uncompressed blobs: the diffID/digest hash on its own reading thread (_RegionHash) ------

def _hash_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hullguard-hash" and t.is_alive()]


@pytest.fixture
def region_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "REGION_HASH_MIN", 0)


def _plain_walk(path: Path, **kw: object) -> list[tuple[str, bytes]]:
    walk = walk_blob(path, media_type="", where="L", options=SourceOptions(),
                     **kw)  # type: ignore[arg-type]
    return [(entry.info.path, entry.read(1 << 20)) for entry in walk]


def test_region_hashed_walk_matches_the_serial_walk(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    tar = files_tar(*SAMPLE)
    path = tmp_path / "layer.tar"
    path.write_bytes(tar)
    checks = {"digest": sha(tar), "size": len(tar), "diff_id": sha(tar)}
    serial = _plain_walk(path, **checks)
    monkeypatch.setattr(layers, "REGION_HASH_MIN", 0)
    assert _plain_walk(path, **checks) == serial
    assert _plain_walk(path, **(checks | {"digest": None})) == serial
    assert len(serial) == len(SAMPLE)
    assert not _hash_threads()


@pytest.mark.usefixtures("region_hashed")
def test_region_hashed_walk_still_verifies_digest_diff_id_and_size(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    path = tmp_path / "layer.tar"
    path.write_bytes(tar)
    good = {"digest": sha(tar), "size": len(tar), "diff_id": sha(tar)}
    other = sha(b"something else")
    with pytest.raises(IntegrityError, match="blob digest"):
        _plain_walk(path, **(good | {"digest": other}))
    with pytest.raises(IntegrityError, match="diffID"):
        _plain_walk(path, **(good | {"diff_id": other}))
    with pytest.raises(IntegrityError, match="diffID"):
        _plain_walk(path, **(good | {"digest": None, "diff_id": other}))
    with pytest.raises(IntegrityError, match="truncated"):
        _plain_walk(path, **(good | {"size": len(tar) + 10}))
    with pytest.raises(IntegrityError, match=r"digest|truncated"):
        _plain_walk(path, **(good | {"size": len(tar) - 10}))
    assert not _hash_threads()


@pytest.mark.usefixtures("region_hashed")
def test_region_hash_covers_only_the_member_region(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    path = tmp_path / "outer"
    path.write_bytes(b"H" * 1536 + tar + b"T" * 4096)  # a layer inside a docker-archive
    good = {"digest": None, "size": len(tar), "diff_id": sha(tar), "offset": 1536}
    assert len(_plain_walk(path, **good)) == len(SAMPLE)
    with pytest.raises(IntegrityError, match="diffID"):
        _plain_walk(path, **(good | {"size": len(tar) + 512}))  # one block of the trailer


@pytest.mark.usefixtures("region_hashed")
def test_a_blob_changed_during_the_walk_is_an_error(tmp_path: Path) -> None:
    tar = files_tar(*SAMPLE)
    path = tmp_path / "layer.tar"
    path.write_bytes(tar)
    walk = walk_blob(path, media_type="", digest=None, size=len(tar), diff_id=sha(tar),
                     options=SourceOptions(), where="L")
    next(walk)
    with path.open("r+b") as changed:  # same bytes written back: only the ctime changes
        changed.seek(len(tar) - 1024)
        changed.write(tar[-1024:])
    with pytest.raises(IntegrityError, match="changed while it was read"):
        list(walk)
    assert not _hash_threads()


@pytest.mark.usefixtures("region_hashed")
def test_abandoned_region_hashed_walk_stops_its_thread(tmp_path: Path) -> None:
    noise = random.Random(5).randbytes(1 << 20)
    tar = files_tar(*(FileSpec(f"f{i}", noise) for i in range(64)))
    path = tmp_path / "layer.tar"
    path.write_bytes(tar)
    walk = walk_blob(path, media_type="", digest=None, size=None, diff_id=sha(tar),
                     options=SourceOptions(), where="L")
    next(walk)
    walk.close()
    assert not _hash_threads()


def test_large_uncompressed_blobs_hash_on_the_thread_and_small_ones_do_not(
        tmp_path: Path) -> None:
    noise = random.Random(9).randbytes(layers.REGION_HASH_MIN + (1 << 20))
    for data, expected in ((noise, True), (b"small", False)):
        tar = files_tar(FileSpec("data", data))
        path = tmp_path / "layer.tar"
        path.write_bytes(tar)
        for checks in ({"digest": None, "diff_id": sha(tar)}, {"digest": None, "diff_id": None}):
            walk = walk_blob(path, media_type="", size=None, options=SourceOptions(),
                             where="L", **checks)  # type: ignore[arg-type]
            next(walk)
            assert (walk._region is not None) is (expected and checks["diff_id"] is not None)
            assert list(walk) == []  # the end of the walk verifies


@pytest.mark.usefixtures("threaded")
@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_threaded_walk_hashes_the_blob_on_its_own_thread(tmp_path: Path,
                                                         compression: str) -> None:
    tar = files_tar(*SAMPLE)
    path = _blob(tmp_path, tar, compression)
    blob = path.read_bytes()
    walk = walk_blob(path, media_type="", digest=sha(blob), size=len(blob), diff_id=sha(tar),
                     options=SourceOptions(), where="L")
    next(walk)
    assert walk._region is not None and walk._inflater is not None
    with path.open("r+b") as changed:  # same bytes written back: only the ctime changes
        changed.write(blob[:16])
    with pytest.raises(IntegrityError, match="changed while it was read"):
        list(walk)
    assert not _inflate_threads() and not _hash_threads()


@pytest.mark.usefixtures("threaded")
def test_abandoned_threaded_walk_stops_both_threads(tmp_path: Path) -> None:
    noise = random.Random(4).randbytes(1 << 20)
    tar = files_tar(*(FileSpec(f"f{i}", noise) for i in range(16)))
    path = _blob(tmp_path, tar, "gzip")
    blob = path.read_bytes()
    walk = walk_blob(path, media_type="", digest=sha(blob), size=len(blob), diff_id=sha(tar),
                     options=SourceOptions(), where="L")
    next(walk)
    walk.close()
    assert not _inflate_threads() and not _hash_threads()
