"""The store's foundation: one declarative ``Base`` and one engine factory.

A stage that needs tables writes its own module under ``hullguard.store`` with classes
deriving from :class:`Base`; :func:`open_store` creates every table whose module has been
imported (``Base.metadata.create_all``), on SQLite (default) or PostgreSQL alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import DeclarativeBase

from hullguard.errors import DatabaseError
from hullguard.textsafe import install_sql_escaping

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import sessionmaker

ENV_STORE = "HULLGUARD_STORE"
STORE_FILE = "store.sqlite"


class Base(DeclarativeBase):
    """Declarative base of every store table (all modules share one metadata)."""


def default_store_url() -> str:
    """``$HULLGUARD_STORE``, else a SQLite file in the user's data directory."""
    if os.environ.get(ENV_STORE):
        return os.environ[ENV_STORE]
    import platformdirs

    path = Path(platformdirs.user_data_path("hullguard")) / STORE_FILE
    return f"sqlite:///{path}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url``: a SQLAlchemy URL, a ``postgresql://`` DSN (psycopg 3) or a
    plain file path for SQLite."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    url = url or default_store_url()
    for plain in ("postgresql://", "postgres://"):  # libpq-style DSN: use psycopg 3
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url.removeprefix(plain)
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser()}"
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise DatabaseError(f"cannot use store URL: {error}", where="--store") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    install_sql_escaping(engine)  # hostile names (lone surrogates) are stored escaped
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers do not block the writer
    cursor.close()


def _redacted(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def open_store(url: str | None = None) -> Iterator[sessionmaker]:  # type: ignore[type-arg]
    """A session factory on the store with every imported table created."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import sessionmaker

    import hullguard.store.models  # noqa: F401 - registers the core tables

    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
        yield sessionmaker(engine, expire_on_commit=False)
    except SQLAlchemyError as error:
        raise DatabaseError(f"store error: {str(error).splitlines()[0][:300]}",
                            where=_redacted(engine)) from None
    finally:
        engine.dispose()
