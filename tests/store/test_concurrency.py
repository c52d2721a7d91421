"""Several processes on one store at once (SQLite and the real PostgreSQL at 127.0.0.1):
creating a fresh store together, writing the same image together, and a reader that must
never create or change anything."""

from __future__ import annotations

import hashlib
import multiprocessing
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.postgres import temporary_database

PROCESSES = 6
ROUNDS = 4
HOLD_S = 2.0  # how long one writer holds the SQLite write lock
SHARED = "registry.example/shared:1"  # every process stores this image in every round


def _report(reference: str) -> Any:
    from hullguard.model import Digest, Distro, ImageInfo, Layer, Package, PackageType, Sbom
    from hullguard.vuln.scan import ScanReport

    def digest(text: str) -> Digest:
        return Digest("sha256", hashlib.sha256(text.encode()).hexdigest())

    layers = (Layer(0, None, digest(f"base:{reference}")), Layer(1, None, digest(reference)))
    info = ImageInfo(reference, "registry", digest(f"manifest:{reference}"), layers=layers)
    package = Package("musl", "1.2.4-r2", PackageType.APK, "pkg:apk/alpine/musl@1.2.4-r2")
    return ScanReport(Sbom(info, Distro("alpine", "3.18.9"), (package,)), ())


def _writer(url: str, index: int, barrier: Any, results: Any) -> None:
    """One process: open the (maybe not yet created) store and record scans, all processes
    starting at the same moment."""
    try:
        from hullguard.store import open_store
        from hullguard.store.scans import record_scan

        barrier.wait(60)
        for round_ in range(ROUNDS):
            with open_store(url) as factory:
                record_scan(factory, _report(SHARED), "test-db")
                record_scan(factory, _report(f"registry.example/p{index}:{round_}"), "test-db")
        results.put((index, "ok"))
    except BaseException as error:  # reported to the test, whatever it is
        results.put((index, f"{type(error).__name__}: {error}"))


@pytest.mark.slow
@pytest.mark.parametrize("created", [False, True], ids=["fresh", "created"])
def test_processes_writing_one_store_at_once(fresh_store: str, created: bool) -> None:
    """Was: "table images already exists" (a fresh store created by several processes at
    once) and, on a created store, a duplicate key on the shared image (PostgreSQL)."""
    from hullguard.store import open_store

    if created:
        with open_store(fresh_store):
            pass
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [context.Process(target=_writer, args=(fresh_store, i, barrier, results))
                 for i in range(PROCESSES)]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(30)
    assert outcomes == {i: "ok" for i in range(PROCESSES)}
    _assert_stored(fresh_store)
    _assert_created_once(fresh_store)


def _assert_created_once(url: str) -> None:
    """The store was created by the migrations once: one stamp, at the head revision."""
    from sqlalchemy import MetaData

    from hullguard.store.base import make_engine
    from hullguard.store.schema import HEAD

    engine = make_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine, only=["alembic_version"])
        with engine.connect() as conn:
            stamps = conn.scalars(select(tables.tables["alembic_version"].c.version_num)).all()
    finally:
        engine.dispose()
    assert stamps == [HEAD]


def _assert_stored(url: str) -> None:
    from hullguard.store import open_store
    from hullguard.store.models import ImageRecord, SbomRecord, ScanRecord

    with open_store(url, create=False) as factory, factory() as session:
        scans = session.scalar(select(func.count()).select_from(ScanRecord))
        images = set(session.scalars(select(ImageRecord.reference)))
        sboms = session.scalar(select(func.count()).select_from(SbomRecord))
    assert scans == PROCESSES * ROUNDS * 2  # nothing lost
    assert images == {SHARED} | {f"registry.example/p{i}:{r}" for i in range(PROCESSES)
                                 for r in range(ROUNDS)}
    assert sboms == len(images)  # one SBOM per content, however many writers stored it


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    """A worker looking for a stored SBOM, and a graph query, on a store that does not exist:
    no file, no tables, and the query says what is missing."""
    from hullguard.respond.persist import load_sbom_by_digest

    path = tmp_path / "data" / "store.sqlite"
    assert load_sbom_by_digest(f"sqlite:///{path}", "sha256:" + "a" * 64) is None
    assert not path.exists()
    done = subprocess.run([sys.executable, "-m", "hullguard", "graph", "lineage", "alpine:3.18",
                           "--store", str(path)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert f"no store at {path}" in done.stderr and "Traceback" not in done.stderr
    assert not path.exists() and not path.parent.exists()


def test_reading_an_empty_postgresql_database_creates_nothing() -> None:
    from hullguard.errors import DatabaseError
    from hullguard.respond.persist import load_sbom_by_digest
    from hullguard.store import open_store
    from hullguard.store.base import has_tables, make_engine

    with temporary_database("hullguard_readonly") as url:
        assert load_sbom_by_digest(url, "sha256:" + "a" * 64) is None
        with pytest.raises(DatabaseError, match="no hullguard store"), \
                open_store(url, create=False):
            pass
        engine = make_engine(url)
        try:
            assert not has_tables(engine, ["images"])
        finally:
            engine.dispose()


def test_a_write_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    """A writer holding the SQLite write lock for a while: a second process's write waits
    on the busy timeout (BEGIN IMMEDIATE) and succeeds."""
    from hullguard.store import open_store
    from hullguard.store.base import make_engine, write_transaction
    from hullguard.store.scans import record_scan

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(url) as factory:
        record_scan(factory, _report("registry.example/first:1"), "test-db")
    engine = make_engine(url)
    script = ("import sys, time; from hullguard.store import open_store;"
              "from hullguard.store.scans import record_scan;"
              "from tests.store.test_concurrency import _report;"
              "print('ready', flush=True); t = time.monotonic();"
              "f = open_store(sys.argv[1]).__enter__();"
              "record_scan(f, _report('registry.example/second:1'), 'test-db');"
              "print(time.monotonic() - t)")
    child = subprocess.Popen([sys.executable, "-c", script, url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=Path.cwd())
    assert child.stdout is not None
    with write_transaction(engine) as conn:  # hold the write lock while the child writes
        conn.exec_driver_sql("UPDATE images SET reference = reference")
        assert child.stdout.readline() == "ready\n"
        time.sleep(HOLD_S)
    out, err = child.communicate(timeout=120)
    engine.dispose()
    assert child.returncode == 0, err
    assert float(out) >= HOLD_S / 2  # it waited for the lock rather than failing at once
    _assert_references(url, {"registry.example/first:1", "registry.example/second:1"})


def _assert_references(url: str, expected: set[str]) -> None:
    from hullguard.store import open_store
    from hullguard.store.models import ImageRecord

    with open_store(url, create=False) as factory, factory() as session:
        assert set(session.scalars(select(ImageRecord.reference))) == expected


def _hold_write_lock(url: str, seconds: float) -> threading.Thread:
    """Another writer holding the SQLite write lock for ``seconds`` (a thread of its own)."""
    from hullguard.store.base import make_engine, write_transaction

    engine = make_engine(url)
    locked = threading.Event()

    def hold() -> None:
        with write_transaction(engine) as conn:
            conn.exec_driver_sql("UPDATE images SET reference = reference")
            locked.set()
            time.sleep(seconds)
        engine.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(30)
    return thread


def test_a_transient_lock_error_is_retried(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy timeout that runs out ("database is locked") retries the whole transaction."""
    from hullguard.store import base, open_store
    from hullguard.store.scans import record_scan

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(url):
        pass
    monkeypatch.setattr(base, "BUSY_TIMEOUT_S", 0.1)
    transient: list[bool] = []
    check = base.is_transient
    monkeypatch.setattr(base, "is_transient", lambda e: transient.append(check(e)) or check(e))
    holder = _hold_write_lock(url, 0.4)
    with open_store(url) as factory:
        record_scan(factory, _report("registry.example/retried:1"), "test-db")
    holder.join()
    assert transient and all(transient)  # it met the lock, and retried
    _assert_references(url, {"registry.example/retried:1"})


def test_retries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock that never goes away: a clear store error after a bounded time, not a hang."""
    from hullguard.errors import DatabaseError
    from hullguard.store import base, open_store
    from hullguard.store.scans import record_scan

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(url):
        pass
    monkeypatch.setattr(base, "BUSY_TIMEOUT_S", 0.05)
    holder = _hold_write_lock(url, 5.0)
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="database is locked"), open_store(url) as factory:
        record_scan(factory, _report("registry.example/never:1"), "test-db")
    assert time.monotonic() - started < 4.0
    holder.join()


def test_a_graph_query_does_not_wait_for_a_writer(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing new to index, a graph query only reads (WAL): a writer holding the lock
    does not stop it, however short the busy timeout."""
    from hullguard.graph.queries import lineage
    from hullguard.store import base, open_store
    from hullguard.store.base import make_engine
    from hullguard.store.graph import StoreGraph
    from hullguard.store.scans import record_scan

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with open_store(url) as factory:
        record_scan(factory, _report(SHARED), "test-db")
    engine = make_engine(url, must_exist=True)
    with StoreGraph(engine) as graph:  # indexes the stored scan
        expected = lineage(graph, SHARED).image.id
    monkeypatch.setattr(base, "BUSY_TIMEOUT_S", 0.05)
    holder = _hold_write_lock(url, 3.0)
    started = time.monotonic()
    engine = make_engine(url, must_exist=True)
    with StoreGraph(engine) as graph:
        assert lineage(graph, SHARED).image.id == expected
    assert time.monotonic() - started < 2.0
    engine.dispose()
    holder.join()
