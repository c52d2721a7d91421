"""``hullguard store migrate|status`` on a store of the previous release (SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hullguard.cli.main import app
from hullguard.store.schema import HEAD
from tests.store import old_store


def test_status_then_migrate_a_previous_release_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    old_store.build(f"sqlite:///{path}")
    runner = CliRunner()
    before = runner.invoke(app, ["store", "status", "--store", str(path)])
    assert before.exit_code == 0, before.output
    assert "unversioned" in before.output and "needs `hullguard store migrate`" in before.output
    migrated = runner.invoke(app, ["store", "migrate", "--store", str(path)])
    assert migrated.exit_code == 0, migrated.output
    assert f"unversioned: the previous release's schema (0001_baseline) -> {HEAD}" in \
        migrated.output
    after = runner.invoke(app, ["store", "status", "--store", str(path), "--format", "json"])
    state = json.loads(after.output)
    assert (state["revision"], state["state"]) == (HEAD, "current")
    again = runner.invoke(app, ["store", "migrate", "--store", str(path)])
    assert f"already at {HEAD}" in again.output


def test_status_of_a_missing_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nothing.sqlite"
    result = CliRunner().invoke(app, ["store", "status", "--store", str(path)])
    assert result.exit_code == 2 and "no store at" in result.output
    assert not path.exists()


def test_migrate_creates_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    result = CliRunner().invoke(app, ["store", "migrate", "--store", str(path)])
    assert result.exit_code == 0 and f"created at {HEAD}" in result.output
