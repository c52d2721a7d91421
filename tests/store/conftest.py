"""Fixtures of the store tests: a fresh store on SQLite and on the real PostgreSQL at
127.0.0.1, and the real registry on 127.0.0.1 (tests/support/registry.py) for load tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import registry as support
from tests.support.postgres import temporary_database

registry_server = support.registry_server


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store that does not exist yet: no SQLite file, an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    with temporary_database("hullguard_store") as url:
        yield url
