"""The store's foundation: one declarative ``Base``, the engine factory and the write path.

Every table is a declarative class deriving from :class:`Base` in
:mod:`hullguard.store.models` (one metadata), and every schema change is an Alembic revision
in ``hullguard/store/migrations`` (:mod:`hullguard.store.schema`): :func:`ensure_schema`
creates a new store the first time a command *writes*. Opening the store to read never
creates or changes anything: a missing store is a clear :class:`StoreMissingError`.

Concurrency (several ``respond``/``scan`` processes on one store):

* SQLite runs in WAL mode (readers never block the writer) with a busy timeout on every
  connection, and every write transaction starts with ``BEGIN IMMEDIATE``: a deferred
  transaction that reads first and writes later cannot upgrade its lock once another writer
  committed (SQLITE_BUSY without waiting: "database is locked"); taking the write lock up
  front makes writers queue on the busy timeout instead.
* PostgreSQL write transactions take one transaction-level advisory lock, so schema creation
  and the whole-table replacements (inventory, lineage index) never interleave; rows keyed by
  digest are written as ``INSERT ... ON CONFLICT`` upserts so that two writers of the same
  image both succeed even without the lock.
* A transient lock error left over (a busy timeout that ran out, a PostgreSQL deadlock or
  serialization failure) retries the whole transaction a bounded number of times.
"""

from __future__ import annotations

import os
import random
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import DeclarativeBase

from hullguard.errors import DatabaseError
from hullguard.textsafe import install_sql_escaping

if TYPE_CHECKING:
    from sqlalchemy import Engine, Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session, sessionmaker

ENV_STORE = "HULLGUARD_STORE"
STORE_FILE = "store.sqlite"
BUSY_TIMEOUT_S = 60.0  # how long a SQLite writer waits for another one to commit
WRITE_ATTEMPTS = 5  # whole-transaction retries on a transient lock error
_WRITE = "hullguard_write"  # execution option marking a write connection
_ADVISORY_KEY = 0x68756C6C  # "hull": the PostgreSQL advisory lock of store writers
_PG_TRANSIENT = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock n/a
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")
T = TypeVar("T")


class Base(DeclarativeBase):
    """Declarative base of every store table (all modules share one metadata)."""


class StoreMissingError(DatabaseError):
    """A command that only reads the store was pointed at a store that does not exist."""


def default_store_url() -> str:
    """``$HULLGUARD_STORE``, else a SQLite file in the user's data directory."""
    if os.environ.get(ENV_STORE):
        return os.environ[ENV_STORE]
    import platformdirs

    path = Path(platformdirs.user_data_path("hullguard")) / STORE_FILE
    return f"sqlite:///{path}"


def _normalized(url: str | None) -> str:
    url = url or default_store_url()
    for plain in ("postgresql://", "postgres://"):  # libpq-style DSN: use psycopg 3
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url.removeprefix(plain)
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser()}"
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store URL; None for PostgreSQL or an in-memory SQLite."""
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0])


def make_engine(url: str | None = None, *, must_exist: bool = False) -> Engine:
    """An engine for ``url``: a SQLAlchemy URL, a ``postgresql://`` DSN (psycopg 3) or a
    plain file path for SQLite. ``must_exist``: a SQLite file that is not there raises
    :class:`StoreMissingError` instead of being created (commands that only read)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    url = _normalized(url)
    path = sqlite_path(url)
    if path is not None and must_exist and not path.is_file():
        raise StoreMissingError(f"no store at {path}", where="--store",
                                hint="a scan, respond or graph index with --store creates it")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    sqlite = url.startswith("sqlite")
    try:
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S} if sqlite else {})
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise DatabaseError(f"cannot use store URL: {error}", where="--store") from None
    if sqlite:
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgres_begin)
    install_sql_escaping(engine)  # hostile names (lone surrogates) are stored escaped
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # The only SQL text in the store: PRAGMAs and BEGIN (SQLAlchemy has no construct for
    # either). pysqlite's own transaction handling issues a deferred BEGIN before the first
    # DML only (never before DDL): switch it off so that _sqlite_begin decides how each one
    # begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers do not block the writer
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _postgres_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(_WRITE, False):
        from sqlalchemy import func, select

        conn.execute(select(func.pg_advisory_xact_lock(_ADVISORY_KEY)))


def redacted(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def store_error(engine: Engine, error: Exception) -> DatabaseError:
    """One line of what the database said, with the (password-free) URL as the place."""
    return DatabaseError(f"store error: {str(error).splitlines()[0][:300]}",
                         where=redacted(engine))


def is_transient(error: Exception) -> bool:
    """A lock or serialization error that the same transaction may not meet again."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return False
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code in _PG_TRANSIENT or any(t in str(error.orig) for t in _SQLITE_TRANSIENT)


def with_retry(engine: Engine, work: Callable[[], T], attempts: int = WRITE_ATTEMPTS) -> T:
    """Run ``work`` (one whole transaction) again after a transient lock error, with a
    jittered back-off, at most ``attempts`` times; any other store error fails at once."""
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            return work()
        except SQLAlchemyError as error:
            if attempt + 1 < attempts and is_transient(error):
                time.sleep(min(2.0, 0.05 * 2 ** attempt) * (0.5 + random.random()))
                continue
            raise store_error(engine, error) from None
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def writer(engine: Engine) -> Engine:
    """The same engine (and pool) whose transactions are write transactions."""
    return engine.execution_options(**{_WRITE: True})


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction (``BEGIN IMMEDIATE`` / the advisory lock), committed on exit."""
    with writer(engine).begin() as conn:
        yield conn


def write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work`` in one write transaction on a store whose tables exist, retried when a
    transient lock error aborts it."""
    ensure_schema(engine)

    def attempt() -> T:
        with write_transaction(engine) as conn:
            return work(conn)

    return with_retry(engine, attempt)


def write_session(engine: Engine, work: Callable[[Session], T]) -> T:
    """:func:`write` with an ORM session bound to the transaction's connection."""
    from sqlalchemy.orm import Session

    def in_session(conn: Connection) -> T:
        with Session(bind=conn, expire_on_commit=False) as session:
            result = work(session)
            session.flush()
            return result

    return write(engine, in_session)


_READY: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose schema is known complete


def ensure_schema(engine: Engine) -> None:
    """Make sure the store is at the schema this hullguard writes: a new store is created by
    running the migrations in one write transaction (several processes creating it at once
    serialize there, the later ones find it done); an existing store at another revision
    is a clear error (``hullguard store migrate`` upgrades it; see
    :mod:`hullguard.store.schema`). Checked once per engine, without the write lock when the
    store is already current."""
    if engine in _READY:
        return
    from hullguard.store.schema import create_if_empty, read_state

    def check() -> bool:
        with engine.connect() as conn:
            return read_state(conn).current

    def create() -> None:
        with write_transaction(engine) as conn:
            create_if_empty(conn, redacted(engine))

    if not with_retry(engine, check):
        with_retry(engine, create)
    _READY.add(engine)


def has_tables(engine: Engine, names: Sequence[str]) -> bool:
    """Whether the store has these tables (without creating anything); a store this
    hullguard cannot read is a :class:`~hullguard.store.schema.StoreOutdatedError`."""
    from sqlalchemy.exc import SQLAlchemyError

    from hullguard.store.schema import check_readable, read_state

    try:
        with engine.connect() as conn:
            state = read_state(conn)
    except SQLAlchemyError as error:
        raise store_error(engine, error) from None
    check_readable(state, redacted(engine))
    return all(name in state.tables for name in names)


def require_store(engine: Engine, table: str = "images") -> None:
    """Fail clearly when the store has none of our tables (an empty PostgreSQL database)."""
    if not has_tables(engine, [table]):
        raise StoreMissingError(f"no hullguard store in {redacted(engine)}", where="--store",
                                hint="a scan, respond or graph index with --store creates it")


def upsert(conn: Connection | Session, table: Table, rows: Sequence[dict[str, Any]],
           keys: Sequence[str], update: Sequence[str] = ()) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET update`` (or ``DO NOTHING``) on SQLite
    and PostgreSQL: concurrent writers of the same row both succeed."""
    if not rows:
        return
    statement = dialect_insert(conn, table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in update})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(statement, list(rows))


def dialect_insert(conn: Connection | Session, table: Table) -> Any:
    """The dialect's own ``insert`` (it has ``on_conflict_*``); SQLite or PostgreSQL."""
    name = conn.get_bind().dialect.name if hasattr(conn, "get_bind") else conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise DatabaseError(f"unsupported store database {name!r}", where="--store",
                        hint="use SQLite or PostgreSQL")


@contextmanager
def open_store(url: str | None = None, *, create: bool = True
               ) -> Iterator[sessionmaker]:  # type: ignore[type-arg]
    """A session factory on the store. ``create``: make missing tables and let sessions
    write (``BEGIN IMMEDIATE`` / the advisory lock); otherwise the store must exist and is
    only read."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import sessionmaker

    engine = make_engine(url, must_exist=not create)
    try:
        if create:
            ensure_schema(engine)
        else:
            require_store(engine)
        yield sessionmaker(writer(engine) if create else engine, expire_on_commit=False)
    except SQLAlchemyError as error:
        raise store_error(engine, error) from None
    finally:
        engine.dispose()


def reachable(engine: Engine) -> str:
    """"" when the store answers a trivial query, else why not (one line, no password)."""
    from sqlalchemy import literal, select
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            conn.execute(select(literal(1)))
    except SQLAlchemyError as error:
        return store_error(engine, error).message
    return ""
