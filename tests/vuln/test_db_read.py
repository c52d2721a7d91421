"""Reading the database never writes it, and a hostile file fails fast: concurrent readers of
an old schema, a planted endless view, a runaway query."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hullguard.errors import DatabaseError
from hullguard.vuln.db import VulnDB
from hullguard.vuln.dbwrite import ImportInput, import_inputs, migrate_database
from hullguard.vuln.schema import MIGRATIONS, time_limit
from tests.vuln.feeds import osv_record

SRC = str(Path(__file__).resolve().parents[2] / "src")
READER = """
import sys
from hullguard.vuln.db import VulnDB
with VulnDB.open(sys.argv[1]) as db:
    assert [a.id for a in db.advisories_for("PyPI", "a")] == ["A-1"]
    assert db.sources()[0].records == 1
"""
ENDLESS = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT 'schema_version' AS key, '2' AS value FROM c WHERE x < 0")


def _old_schema_db(tmp_path: Path) -> Path:
    """A database written by schema 1 (before sources.checked_at)."""
    db = tmp_path / "old.sqlite"
    (tmp_path / "a.json").write_text(json.dumps(osv_record("A-1", "a")))
    import_inputs(db, [ImportInput(tmp_path / "a.json", name="s")])
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE sources DROP COLUMN checked_at")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    return db


def test_eight_concurrent_readers_of_an_old_schema(tmp_path: Path) -> None:
    db = _old_schema_db(tmp_path)
    before = db.read_bytes()
    for _round in range(2):
        readers = [subprocess.Popen([sys.executable, "-c", READER, str(db)],
                                    env={**os.environ, "PYTHONPATH": SRC},
                                    stderr=subprocess.PIPE, text=True) for _ in range(8)]
        errors = [reader.communicate(timeout=120)[1] for reader in readers]
        assert [reader.returncode for reader in readers] == [0] * 8, errors
    assert db.read_bytes() == before  # nobody migrated it
    assert not list(tmp_path.glob(".old.sqlite.*.tmp"))


def test_db_migrate_upgrades_and_status_says_so(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hullguard.cli.main import app

    db = _old_schema_db(tmp_path)
    status = CliRunner().invoke(app, ["db", "status", "--db", str(db)])
    assert status.exit_code == 0 and "`hullguard db migrate`" in status.output
    result = CliRunner().invoke(app, ["db", "migrate", "--db", str(db)])
    assert result.exit_code == 0 and f"schema 1 -> {len(MIGRATIONS)}" in result.output
    with VulnDB.open(db) as vdb:
        assert vdb.schema_version == len(MIGRATIONS) and vdb.sources()[0].checked_at == ""
    migrate_database(db)  # idempotent


def test_a_planted_view_is_refused_at_once(tmp_path: Path) -> None:
    db = tmp_path / "hostile.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE VIEW meta AS {ENDLESS}")
    conn.close()
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="unexpected view 'meta'"):
        VulnDB.open(db)
    result = subprocess.run([sys.executable, "-m", "hullguard", "db", "status", "--db", str(db)],
                            env={**os.environ, "PYTHONPATH": SRC}, capture_output=True,
                            text=True, timeout=60)
    assert time.monotonic() - started < 20
    assert result.returncode == 2 and "not a hullguard advisory database" in result.stderr
    with pytest.raises(DatabaseError, match="unexpected view"):  # imports refuse it too
        import_inputs(db, [])


def test_a_runaway_query_is_interrupted(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="took longer than"), time_limit(conn, "x", 0.3):
        conn.execute(ENDLESS.replace("WHERE x < 0", "")).fetchall()
    assert time.monotonic() - started < 3


def test_garbage_and_truncated_files_fail_with_database_error(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    (tmp_path / "a.json").write_text(json.dumps(osv_record("A-1", "a")))
    import_inputs(db, [ImportInput(tmp_path / "a.json")])
    data = db.read_bytes()
    for name, content in (("garbage", os.urandom(8192)), ("cut", data[:len(data) // 2]),
                          ("zero", b"")):
        path = tmp_path / f"{name}.sqlite"
        path.write_bytes(content)
        with pytest.raises(DatabaseError), VulnDB.open(path) as vdb:
            vdb.counts()
        assert path.read_bytes() == content  # opened read-only
