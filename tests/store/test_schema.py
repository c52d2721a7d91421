"""A store created by the previous version (no ``image_names`` table) still opens: reading
it changes nothing, and the first write adds what is missing (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import text

from hullguard.graph.queries import lineage
from hullguard.store import open_store
from hullguard.store.base import has_tables, make_engine
from hullguard.store.graph import StoreGraph, index_images
from hullguard.store.scans import record_scan
from tests.store.test_concurrency import _report

NAME = "registry.example/app:1"


def _previous_version_store(url: str) -> None:
    """Today's tables without the ones this version added, holding one indexed image."""
    engine = make_engine(url)
    try:
        index_images(engine, [(_report(NAME).sbom.image, None)])
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE image_names"))
    finally:
        engine.dispose()


def _has_names_table(url: str) -> bool:
    engine = make_engine(url)
    try:
        return has_tables(engine, ["image_names"])
    finally:
        engine.dispose()


def test_a_store_from_the_previous_version_opens(fresh_store: str) -> None:
    _previous_version_store(fresh_store)
    engine = make_engine(fresh_store, must_exist=True)
    try:
        with StoreGraph(engine, sync=False) as graph:  # reading: nothing is added
            result = lineage(graph, NAME)
        assert result.image.names == (NAME,) and result.older_builds == []
        assert not _has_names_table(fresh_store)
        with open_store(fresh_store) as factory:  # the first write adds the missing table
            record_scan(factory, _report("registry.example/app:1"), "test-db")
        assert _has_names_table(fresh_store)
        with StoreGraph(engine) as graph:
            assert lineage(graph, NAME).image.id == result.image.id
    finally:
        engine.dispose()
