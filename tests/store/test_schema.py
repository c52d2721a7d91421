"""A store created by the previous version (no ``image_names`` table) still opens: reading
it changes nothing, and the first write adds what is missing (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hullguard.graph.queries import lineage
from hullguard.store import open_store
from hullguard.store.base import has_tables, make_engine
from hullguard.store.graph import StoreGraph, index_images
from hullguard.store.scans import record_scan
from tests.store.test_concurrency import _report
from tests.support.postgres import temporary_database

NAME = "registry.example/app:1"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    with temporary_database("hullguard_schema") as url:
        yield url


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


def test_a_store_from_the_previous_version_opens(store_url: str) -> None:
    _previous_version_store(store_url)
    engine = make_engine(store_url, must_exist=True)
    try:
        with StoreGraph(engine, sync=False) as graph:  # reading: nothing is added
            result = lineage(graph, NAME)
        assert result.image.names == (NAME,) and result.older_builds == []
        assert not _has_names_table(store_url)
        with open_store(store_url) as factory:  # the first write adds the missing table
            record_scan(factory, _report("registry.example/app:1"), "test-db")
        assert _has_names_table(store_url)
        with StoreGraph(engine) as graph:
            assert lineage(graph, NAME).image.id == result.image.id
    finally:
        engine.dispose()
