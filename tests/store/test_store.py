"""The store on SQLite and on the real PostgreSQL at 127.0.0.1: scans recorded by digest,
``rescan`` re-matching stored SBOMs after a database change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hullguard.store import open_store
from hullguard.store.models import FindingRecord, ImageRecord, SbomRecord, ScanRecord
from hullguard.store.rescan import rescan_all
from hullguard.store.scans import decode_sbom, record_scan
from hullguard.vuln.db import VulnDB
from hullguard.vuln.dbwrite import ImportInput, import_inputs
from hullguard.vuln.scan import scan_sbom
from tests.support.postgres import temporary_database
from tests.vuln.feeds import make_sbom, osv_record, osv_zip, scan_db, scan_packages


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database of its own on the real PostgreSQL, dropped afterwards."""
    with temporary_database("hullguard_store") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    with open_store(url):
        pass
    _clear(url)
    return url


def _clear(url: str) -> None:
    from hullguard.store import Base

    with open_store(url) as factory, factory.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in ("findings", "scans", "sboms", "images"):
                session.execute(table.delete())


def test_scan_is_recorded_by_digest(store_url: str, tmp_path: Path) -> None:
    sbom = make_sbom(scan_packages())
    with VulnDB.open(scan_db(tmp_path)) as db:
        report = scan_sbom(sbom, db)
    with open_store(store_url) as factory:
        record_scan(factory, report, "test-db")
        record_scan(factory, report, "test-db")  # same image again: one image, one SBOM
        with factory() as session:
            (image,) = session.scalars(select(ImageRecord)).all()
            assert image.digest == "sha256:" + "c" * 64
            assert json.loads(image.chain) == list(sbom.image.chain)
            (stored,) = session.scalars(select(SbomRecord)).all()
            assert stored.digest == image.sbom_digest and stored.packages == 6
            assert decode_sbom(stored.data, "test").packages == sbom.sorted().packages
            assert session.scalar(select(func.count()).select_from(ScanRecord)) == 2
            ids = set(session.scalars(select(FindingRecord.vuln_id)))
            assert ids == {f.id for f in report.matched}


def test_rescan_reports_new_fixed_and_withdrawn(store_url: str, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    feed = osv_zip(feeds / "all.zip", [osv_record("PYSEC-1", "requests", fixed="2.20.0"),
                                       osv_record("PYSEC-2", "requests", fixed="2.20.0"),
                                       osv_record("PYSEC-3", "requests", fixed="2.20.0")])
    db_path = tmp_path / "db.sqlite"
    import_inputs(db_path, [ImportInput(feed)])
    sboms = [make_sbom(scan_packages(), f"example.test/app{i}:1") for i in range(3)]
    sboms = [s.__class__(s.image.__class__(s.image.reference, "dir"), s.distro, s.packages)
             for s in sboms]  # no digests: stored under kind:reference
    with open_store(store_url) as factory, VulnDB.open(db_path) as db:
        for sbom in sboms:
            record_scan(factory, scan_sbom(sbom, db), "v1")
    # Upstream: PYSEC-1 withdrawn, PYSEC-2 now fixed below the installed version, PYSEC-4 new.
    osv_zip(feed, [osv_record("PYSEC-1", "requests", withdrawn="2024-06-01T00:00:00Z"),
                   osv_record("PYSEC-2", "requests", fixed="2.0.0"),
                   osv_record("PYSEC-3", "requests", fixed="2.20.0"),
                   osv_record("PYSEC-4", "requests", fixed="3.0.0")])
    import_inputs(db_path, [ImportInput(feed)])
    with open_store(store_url) as factory, VulnDB.open(db_path) as db:
        changes = rescan_all(factory, db)
        again = rescan_all(factory, db)
    assert len(changes) == 3
    for change in changes:
        assert [f["id"] for f in change.new] == ["PYSEC-4"]
        assert [f["id"] for f in change.fixed] == ["PYSEC-2"]
        assert [f["id"] for f in change.withdrawn] == ["PYSEC-1"]
    assert not any(change.changed for change in again)


def test_bad_store_urls_are_clear_errors() -> None:
    from hullguard.errors import DatabaseError

    with pytest.raises(DatabaseError, match="cannot use store URL"), open_store("nosuch://x"):
        pass
    # Nothing listens on port 9 of localhost: a connection error, not a traceback.
    with pytest.raises(DatabaseError, match="store error"), open_store(
            "postgresql://postgres@127.0.0.1:9/none"):
        pass
