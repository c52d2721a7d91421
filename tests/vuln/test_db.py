"""The advisory database: lookups, re-imports, atomic replacement, migrations."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from hullguard.errors import DatabaseError
from hullguard.vuln import dbwrite
from hullguard.vuln.db import VulnDB, default_db_path
from hullguard.vuln.dbwrite import ImportInput, import_inputs
from hullguard.vuln.importers import osv
from hullguard.vuln.schema import SCHEMA_VERSION
from tests.support.env import corpus_path
from tests.vuln.feeds import osv_record, osv_zip, secdb


def _import(db: Path, *paths: Path, name: str = "") -> list[dbwrite.SourceReport]:
    return import_inputs(db, [ImportInput(p, name=name) for p in paths])


def test_lookup_by_ecosystem_and_normalized_name(tmp_path: Path) -> None:
    feed = osv_zip(tmp_path / "all.zip", [osv_record("PYSEC-1", "Foo.Bar", aliases=["CVE-1-1"]),
                                         osv_record("GO-1", "example.com/m", ecosystem="Go")])
    db_path = tmp_path / "db.sqlite"
    (report,) = _import(db_path, feed)
    assert report.stats.total == 2
    with VulnDB.open(db_path) as db:
        assert [a.id for a in db.advisories_for("PyPI", "foo_bar")] == ["PYSEC-1"]
        assert [a.id for a in db.advisories_for("Go", "example.com/m")] == ["GO-1"]
        assert db.advisories_for("npm", "foo-bar") == []
        assert [a.id for a in db.advisories("CVE-1-1")] == ["PYSEC-1"]
        (source,) = db.sources()
        assert source.records == 2 and source.kind == "osv" and source.age_days() < 1


def test_reimport_replaces_a_sources_records(tmp_path: Path) -> None:
    db_path, feed = tmp_path / "db.sqlite", tmp_path / "all.zip"
    osv_zip(feed, [osv_record("A-1", "a"), osv_record("A-2", "a")])
    _import(db_path, feed)
    osv_zip(feed, [osv_record("A-1", "a", fixed="3.0")])  # A-2 removed upstream
    _import(db_path, feed)
    with VulnDB.open(db_path) as db:
        (only,) = db.advisories_for("PyPI", "a")
        assert only.id == "A-1" and only.affected[0].ranges[0].events[1].fixed == "3.0"
        assert db.counts()["affected"] == 1


def test_same_osv_id_from_two_inputs_is_stored_once(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    (tmp_path / "one.json").write_text(json.dumps(osv_record("A-1", "a")))
    osv_zip(tmp_path / "all.zip", [osv_record("A-1", "a")])
    _import(db_path, tmp_path / "one.json", tmp_path / "all.zip")
    with VulnDB.open(db_path) as db:
        assert len(db.advisories_for("PyPI", "a")) == 1


def test_alpine_json_and_yaml_of_one_branch_deduplicate(tmp_path: Path) -> None:
    import yaml

    doc = secdb("v3.18", {"musl": {"1.2.4-r1": ["CVE-2000-2"]}})
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "main.json").write_text(json.dumps(doc))
    (tmp_path / "feed" / "main.yaml").write_text(yaml.safe_dump(doc))
    _import(tmp_path / "db.sqlite", tmp_path / "feed")
    with VulnDB.open(tmp_path / "db.sqlite") as db:
        (adv,) = db.advisories_for("Alpine:v3.18", "musl")
        assert adv.affected[0].by_source


def test_failed_import_leaves_previous_database_intact(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db_path, feed = tmp_path / "db.sqlite", tmp_path / "all.zip"
    osv_zip(feed, [osv_record("OLD-1", "a")])
    _import(db_path, feed)
    before = db_path.read_bytes()
    osv_zip(feed, [osv_record(f"NEW-{i}", "a") for i in range(50)])
    real, calls = osv.parse_record, []

    def failing(record: object, limits: object) -> object:
        calls.append(1)
        if len(calls) == 25:  # half-way through the new feed: a crash, not a bad record
            raise RuntimeError("injected failure")
        return real(record, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(osv, "parse_record", failing)
    with pytest.raises(RuntimeError):
        _import(db_path, feed)
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip", "db.sqlite",
                                                          "db.sqlite.lock"]
    with VulnDB.open(db_path) as db:
        assert [a.id for a in db.advisories_for("PyPI", "a")] == ["OLD-1"]


def test_reader_keeps_working_across_a_swap(tmp_path: Path) -> None:
    db_path, feed = tmp_path / "db.sqlite", tmp_path / "all.zip"
    osv_zip(feed, [osv_record("OLD-1", "a")])
    _import(db_path, feed)
    with VulnDB.open(db_path) as old:
        osv_zip(feed, [osv_record("NEW-1", "a")])
        _import(db_path, feed)
        assert [a.id for a in old.advisories_for("PyPI", "a")] == ["OLD-1"]
    with VulnDB.open(db_path) as new:
        assert [a.id for a in new.advisories_for("PyPI", "a")] == ["NEW-1"]


def test_garbage_reimport_keeps_previous_records(tmp_path: Path) -> None:
    db_path, feed = tmp_path / "db.sqlite", tmp_path / "feed.json"
    feed.write_text(json.dumps(osv_record("A-1", "a")))
    _import(db_path, feed, name="feed")
    feed.write_text("<html>503 Service Unavailable</html>")
    (report,) = _import(db_path, feed, name="feed")
    assert report.kept_previous and report.stats.skipped == 1
    with VulnDB.open(db_path) as db:
        assert [a.id for a in db.advisories_for("PyPI", "a")] == ["A-1"]


def test_schema_version_checks(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="not found"):
        VulnDB.open(tmp_path / "missing.sqlite")
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(DatabaseError):
        VulnDB.open(tmp_path / "junk.sqlite")
    db_path = tmp_path / "db.sqlite"
    (tmp_path / "one.json").write_text(json.dumps(osv_record("A-1", "a")))
    _import(db_path, tmp_path / "one.json")
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     (str(SCHEMA_VERSION + 1),))
    with pytest.raises(DatabaseError, match="schema"):
        VulnDB.open(db_path)
    with pytest.raises(DatabaseError, match="newer"):
        _import(db_path, tmp_path / "one.json")


def test_older_schema_is_read_as_is_and_migrated_on_demand(tmp_path: Path) -> None:
    from hullguard.vuln.schema import MIGRATIONS

    db_path = tmp_path / "old.sqlite"
    with sqlite3.connect(db_path) as conn:  # a file written by the first schema version
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.execute("INSERT INTO sources VALUES ('s', 'osv', 'u', '', '', '', "
                     "'2024-01-01T00:00:00+00:00', 1, 0, '[]')")
    before = db_path.read_bytes()
    with VulnDB.open(db_path) as db:  # read compatibly, not migrated
        (source,) = db.sources()
        assert source.checked_at == "" and source.records == 1 and db.schema_version == 1
    assert db_path.read_bytes() == before
    dbwrite.migrate_database(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)


def test_enrichment_tables(tmp_path: Path) -> None:
    (tmp_path / "epss.csv").write_text("#model_version:v1,score_date:2024-05-01\n"
                                       "cve,epss,percentile\nCVE-1-1,0.5,0.9\n")
    kev = {"catalogVersion": "1", "vulnerabilities": [{"cveID": "CVE-1-1",
                                                       "dateAdded": "2024-01-02"}]}
    (tmp_path / "kev.json").write_text(json.dumps(kev))
    db_path = tmp_path / "db.sqlite"
    _import(db_path, tmp_path / "epss.csv", tmp_path / "kev.json")
    with VulnDB.open(db_path) as db:
        info = db.enrich(["CVE-1-1", "CVE-9-9"])
    assert list(info) == ["CVE-1-1"]
    assert info["CVE-1-1"].epss is not None and info["CVE-1-1"].epss.percentile == 0.9
    assert info["CVE-1-1"].kev is not None and info["CVE-1-1"].kev.date_added == "2024-01-02"


def test_default_path_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HULLGUARD_DB", str(tmp_path / "x.sqlite"))
    assert default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("HULLGUARD_DB")
    assert default_db_path().name == "vulndb.sqlite"


def test_corpus_import(tmp_path: Path) -> None:
    paths = [corpus_path("advisories", n) for n in ("osv-PyPI-all.zip", "osv-Go-all.zip",
                                                    "alpine-secdb")]
    reports = _import(tmp_path / "db.sqlite", *paths)
    assert [r.stats.total for r in reports][:2] == [2661, 4291]
    with VulnDB.open(tmp_path / "db.sqlite") as db:
        ids = {a.id for a in db.advisories_for("PyPI", "requests")}
        assert "PYSEC-2018-28" in ids  # requests < 2.20.0 (CVE-2018-18074)
        assert db.advisories_for("Alpine:v3.10", "openssl")


def test_concurrent_import_is_refused(tmp_path: Path) -> None:
    import fcntl

    (tmp_path / "one.json").write_text(json.dumps(osv_record("A-1", "a")))
    db_path = tmp_path / "db.sqlite"
    with (tmp_path / "db.sqlite.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(DatabaseError, match=r"another import .*waited 0.3 s"):
            import_inputs(db_path, [ImportInput(tmp_path / "one.json")], lock_wait=0.3)
    assert _import(db_path, tmp_path / "one.json")[0].stats.total == 1
