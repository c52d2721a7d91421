"""A throwaway database on the real PostgreSQL at 127.0.0.1 (trust auth, db ``test``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.env import missing

PG_ADMIN = os.environ.get("HULLGUARD_TEST_POSTGRES",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def temporary_database(prefix: str = "hullguard") -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        missing(f"PostgreSQL at 127.0.0.1 not reachable: {error}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL that does not exist yet: no SQLite file, an empty PostgreSQL database
    (import it into a conftest.py to use it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    with temporary_database("hullguard_test") as url:
        yield url
