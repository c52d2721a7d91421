"""Schema revisions of the store (SQLite and the real PostgreSQL at 127.0.0.1): a store of the
previous release is read as it is, refused for writing until ``store migrate``, and keeps
every row through the upgrade; a fresh store, an upgraded one and the models are the same
schema; a store from a newer hullguard is refused for writing; a read never migrates."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select

from hullguard.store import open_store
from hullguard.store.base import Base, ensure_schema, make_engine
from hullguard.store.scans import record_scan
from hullguard.store.schema import (
    HEAD,
    MIGRATIONS,
    REVISIONS,
    ForeignTablesError,
    StoreOutdatedError,
    StoreTooNewError,
    load_models,
    migrate,
    status,
)
from tests.store import old_store
from tests.store.test_concurrency import _report
from tests.support.postgres import temporary_database


@pytest.fixture
def sibling_store(fresh_store: str, tmp_path: Path) -> Iterator[str]:
    """A second new store of the same kind as ``fresh_store``."""
    if fresh_store.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'sibling.sqlite'}"
        return
    with temporary_database("hullguard_sibling") as url:
        yield url


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    """Engines made by a test, disposed afterwards."""
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _engine(url: str, made: list[Engine]) -> Engine:
    made.append(make_engine(url))
    return made[-1]


def schema_of(engine: Engine) -> dict[str, Any]:
    """Tables, columns (type, nullability), keys and indexes, by SQLAlchemy inspection."""
    with engine.connect() as conn:
        inspector = inspect(conn)
        out = {}
        for name in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            out[name] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"])
                            for c in inspector.get_columns(name)],
                "primary": inspector.get_pk_constraint(name)["constrained_columns"],
                "foreign": sorted((f["constrained_columns"], f["referred_table"],
                                   f["referred_columns"]) for f in
                                  inspector.get_foreign_keys(name)),
                "indexes": sorted((i["name"], i["column_names"], bool(i["unique"]))
                                  for i in inspector.get_indexes(name)),
                "unique": sorted(tuple(u["column_names"])
                                 for u in inspector.get_unique_constraints(name)),
            }
    return out


def _differences(engine: Engine) -> list[Any]:
    """Alembic autogenerate's comparison of the models with the database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    load_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_the_revisions_are_the_migration_files() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [HEAD]
    assert tuple(reversed([r.revision for r in script.walk_revisions()])) == REVISIONS


def test_a_previous_release_store_is_upgraded_with_its_data(
        fresh_store: str, sibling_store: str, engines: list[Engine]) -> None:
    before = old_store.build(fresh_store)
    engine = _engine(fresh_store, engines)
    assert status(engine).revision is None and status(engine).effective == REVISIONS[0]
    with open_store(fresh_store, create=False) as factory, factory() as session:  # reads work
        assert session.scalar(select(Base.metadata.tables["images"].c.reference)) == \
            old_store.NAME
    with pytest.raises(StoreOutdatedError, match="unversioned") as refused, \
            open_store(fresh_store) as factory:
        record_scan(factory, _report("registry.example/new:1"), "test-db")
    assert "hullguard store migrate" in refused.value.hint
    assert old_store.rows_of(engine) == before  # the refused write changed nothing
    assert "alembic_version" not in inspect(engine).get_table_names()  # nor did the read

    done = migrate(engine)
    assert done.before.revision is None and status(engine).revision == HEAD
    after = old_store.rows_of(engine)
    assert {name: rows for name, rows in after.items() if name in before} == before  # kept
    assert not any(after[name] for name in set(after) - set(before))  # later tables: empty
    fresh = _engine(sibling_store, engines)
    ensure_schema(fresh)
    assert schema_of(engine) == schema_of(fresh)
    assert _differences(engine) == []
    with open_store(fresh_store) as factory:  # and writes work now
        record_scan(factory, _report("registry.example/new:1"), "test-db")
    assert old_store.count(engine, "scans") == 2 and old_store.count(engine, "image_names") == 1


def test_a_fresh_store_equals_the_migrations_and_the_models(
        fresh_store: str, sibling_store: str, engines: list[Engine]) -> None:
    """The first write creates the store by running the revisions; the result has every
    table, column and index of the models (autogenerate finds nothing to add), and is the
    same schema as ``create_all`` of the models."""
    engine = _engine(fresh_store, engines)
    ensure_schema(engine)
    assert status(engine).revision == HEAD
    assert _differences(engine) == []
    assert set(schema_of(engine)) == set(Base.metadata.tables)
    models = _engine(sibling_store, engines)
    with models.begin() as conn:
        Base.metadata.create_all(conn)
    assert schema_of(engine) == schema_of(models)


def test_a_fresh_store_equals_alembic_upgrade_head(fresh_store: str, sibling_store: str,
                                                   engines: list[Engine]) -> None:
    """The developers' way (the alembic command on the package's environment) and the first
    write make the same store."""
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(MIGRATIONS / "alembic.ini"),
                           "-x", f"store={sibling_store}", "upgrade", "head"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    by_alembic = _engine(sibling_store, engines)
    assert status(by_alembic).revision == HEAD
    engine = _engine(fresh_store, engines)
    ensure_schema(engine)
    assert schema_of(engine) == schema_of(by_alembic)


def test_a_model_change_without_a_migration_is_found(tmp_path: Path,
                                                     engines: list[Engine]) -> None:
    """The comparison above is not vacuous: a column added to a model shows up."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = _engine(f"sqlite:///{tmp_path / 's.sqlite'}", engines)
    ensure_schema(engine)
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    Table("images", changed, extend_existing=True).append_column(
        Column("label", String(40)))
    with engine.connect() as conn:
        found = compare_metadata(MigrationContext.configure(conn), changed)
    assert [d[0] for d in found] == ["add_column"] and found[0][3].name == "label"


def test_a_partial_previous_release_store_is_completed(fresh_store: str,
                                                       engines: list[Engine]) -> None:
    """That release's `scan` created only the core tables: migrate adds the rest."""
    before = old_store.build(fresh_store, only=old_store.CORE_TABLES)
    assert set(before) == set(old_store.CORE_TABLES)
    engine = _engine(fresh_store, engines)
    migrate(engine)
    assert _differences(engine) == [] and status(engine).revision == HEAD
    after = old_store.rows_of(engine)
    assert {k: v for k, v in after.items() if k in before} == before


def test_foreign_tables_are_not_stamped(fresh_store: str, engines: list[Engine]) -> None:
    engine = _engine(fresh_store, engines)
    with engine.begin() as conn:
        Table("images", MetaData(), Column(
            "id", String(10), primary_key=True)).create(conn)
    with pytest.raises(ForeignTablesError, match="not a hullguard store table"):
        migrate(engine)
    assert status(engine).revision is None


def _stamp(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        version = Table("alembic_version", MetaData(), Column(
            "version_num", String(32)))
        conn.execute(version.update().values(version_num=revision))


def test_a_store_from_a_newer_hullguard_is_refused_for_writing(fresh_store: str,
                                                               engines: list[Engine]) -> None:
    engine = _engine(fresh_store, engines)
    ensure_schema(engine)
    _stamp(engine, "0099_future")
    for attempt in (lambda: ensure_schema(_engine(fresh_store, engines)),
                    lambda: migrate(_engine(fresh_store, engines))):
        with pytest.raises(StoreTooNewError, match="0099_future, newer than this hullguard"):
            attempt()
    with open_store(fresh_store, create=False) as factory, factory() as session:
        assert session.scalars(select(Base.metadata.tables["images"].c.id)).all() == []


def test_a_store_older_than_the_reads_support_asks_for_migrate(
        fresh_store: str, engines: list[Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    """No revision is that old yet: this checks the rule for the day one is."""
    from hullguard.store import schema

    old_store.build(fresh_store)
    monkeypatch.setattr(schema, "OLDEST_READABLE", HEAD)
    with pytest.raises(StoreOutdatedError, match="too old to read") as refused, \
            open_store(fresh_store, create=False):
        pass
    assert "hullguard store migrate" in refused.value.hint


def test_reads_never_migrate(tmp_path: Path, engines: list[Engine]) -> None:
    """Every read path on a previous-release store: the file keeps its bytes and gets no
    alembic_version table, even a graph query that would index a stored SBOM."""
    from hullguard.graph.queries import lineage
    from hullguard.respond.persist import load_sbom_by_digest
    from hullguard.store.graph import StoreGraph
    from hullguard.store.inventory import load_inventory

    path = tmp_path / "store.sqlite"
    url = f"sqlite:///{path}"
    old_store.build(url)
    engine = _engine(url, engines)
    with engine.begin() as conn:  # a scan the lineage index has not taken in yet
        conn.execute(Base.metadata.tables["graph_synced"].delete())
    engine.dispose()
    data = path.read_bytes()
    digest = old_store.rows_of(engine)["images"][0][2]
    assert load_sbom_by_digest(url, digest) is not None
    assert load_inventory(make_engine(url, must_exist=True)).images[0].ref.key == \
        old_store.NAME
    with StoreGraph(make_engine(url, must_exist=True)) as graph:
        assert lineage(graph, old_store.NAME).image.names == (old_store.NAME,)
        assert "run `hullguard store migrate`" in " ".join(graph.problems)
    assert status(make_engine(url, must_exist=True)).revision is None
    assert path.read_bytes() == data
    assert "alembic_version" not in inspect(engine).get_table_names()


def test_an_unversioned_store_of_a_development_build_is_stamped(
        fresh_store: str, engines: list[Engine]) -> None:
    """A build between the two releases created every table (``image_names`` too) without a
    revision: migrate finds nothing to create and stamps the head, keeping the rows."""
    engine = _engine(fresh_store, engines)
    with engine.begin() as conn:
        Base.metadata.create_all(conn)
        conn.execute(Base.metadata.tables["inventory_sources"].insert(), [{"source": "a.yaml"}])
    assert status(engine).revision is None
    migrate(engine)
    assert status(engine).revision == HEAD and _differences(engine) == []
    assert old_store.rows_of(engine)["inventory_sources"] == [(1, "a.yaml")]
