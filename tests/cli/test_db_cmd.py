"""``hullguard db import|status|update|feeds`` through the real CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hullguard.cli.main import app
from tests.support.env import corpus_path
from tests.vuln.feeds import osv_record, scan_feeds


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_import_and_status(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    feeds = scan_feeds(tmp_path / "feeds")
    result = runner.invoke(app, ["db", "import", "--db", str(db), *map(str, feeds)])
    assert result.exit_code == 0, result.output
    assert "5 advisories, 0 skipped" in result.stdout
    assert "1 epss" in result.stdout and "1 kev" in result.stdout
    status = runner.invoke(app, ["db", "status", "--db", str(db), "-f", "json"])
    data = json.loads(status.stdout)
    assert data["counts"]["advisories"] == 7 and data["counts"]["kev"] == 1
    assert {s["kind"] for s in data["sources"]} == {"osv", "alpine-secdb", "epss", "kev"}
    assert data["oldest_age_days"] < 0.01
    table = runner.invoke(app, ["db", "status", "--db", str(db)])
    assert table.exit_code == 0 and "SOURCE" in table.stdout


def test_import_reports_bad_records_and_continues(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps(osv_record("A-1", "a")))
    (tmp_path / "bad.json").write_text('{"id": "\\u001b[2J", "affected": []}')
    db = tmp_path / "db.sqlite"
    result = runner.invoke(app, ["db", "import", "--db", str(db), str(tmp_path / "ok.json"),
                                 str(tmp_path / "bad.json")])
    assert result.exit_code == 0
    assert "bad.json: nothing, 1 skipped" in result.stdout
    assert "record without a valid id" in result.stderr
    assert "\x1b" not in result.stdout + result.stderr


def test_env_db_and_errors(runner: CliRunner, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HULLGUARD_DB", str(tmp_path / "env.sqlite"))
    (tmp_path / "ok.json").write_text(json.dumps(osv_record("A-1", "a")))
    assert runner.invoke(app, ["db", "import", str(tmp_path / "ok.json")]).exit_code == 0
    assert (tmp_path / "env.sqlite").is_file()
    missing = runner.invoke(app, ["db", "import", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    no_db = runner.invoke(app, ["db", "status", "--db", str(tmp_path / "none.sqlite")])
    assert no_db.exit_code == 2 and "db update" in no_db.stderr


def test_update_unknown_feed_and_feeds_list(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "update", "--db", str(tmp_path / "db.sqlite"),
                                 "--source", "nope"])
    assert result.exit_code == 2 and "unknown feed 'nope'" in result.stderr
    listing = runner.invoke(app, ["db", "feeds"])
    assert "osv-PyPI" in listing.stdout and "secdb.alpinelinux.org" in listing.stdout


def test_corpus_zips_import(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    result = runner.invoke(app, ["db", "import", "--db", str(db),
                                 str(corpus_path("advisories", "osv-PyPI-all.zip")),
                                 str(corpus_path("advisories", "osv-Go-all.zip"))])
    assert result.exit_code == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM advisories").fetchone()[0] == 2661 + 4291


def test_many_skips_show_the_first_warnings_and_a_count(runner: CliRunner,
                                                        tmp_path: Path) -> None:
    records = [osv_record("A-1", "a"), *({"id": "", "affected": []} for _ in range(14))]
    (tmp_path / "many.json").write_text(json.dumps(records))
    result = runner.invoke(app, ["db", "import", "--db", str(tmp_path / "db.sqlite"),
                                 str(tmp_path / "many.json")])
    assert result.exit_code == 0 and "14 skipped" in result.stdout
    assert result.stderr.count("record without a valid id") == 10
    assert "... and 4 more skipped in" in result.stderr
    quiet = runner.invoke(app, ["db", "import", "-q", "--db", str(tmp_path / "db.sqlite"),
                                str(tmp_path / "many.json")])
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr


def test_unwritable_database_location(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps(osv_record("A-1", "a")))
    (tmp_path / "file").write_text("")  # a file where the database's directory should be
    result = runner.invoke(app, ["db", "import", "--db", str(tmp_path / "file" / "db.sqlite"),
                                 str(tmp_path / "ok.json")])
    assert result.exit_code == 2 and "cannot write: " in result.stderr  # checked up front


def test_update_failure_exits_2_and_keeps_nothing_half_done(runner: CliRunner,
                                                            tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    result = runner.invoke(app, ["db", "update", "--db", str(db), "--source", "osv-PyPI",
                                 "--url", "osv-PyPI=http://127.0.0.1:9/PyPI/all.zip"])
    assert result.exit_code == 2
    assert "osv-PyPI" in result.stderr and "could be reached" in result.stderr
    assert not db.exists()
    bad = runner.invoke(app, ["db", "update", "--db", str(db), "--url", "no-equals-sign"])
    assert bad.exit_code == 2 and "NAME=URL" in bad.stderr
