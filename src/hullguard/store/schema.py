"""Schema versions of the store: Alembic revisions in ``hullguard/store/migrations``.

* A new store (no hullguard table at all) is created at the first write by running every
  revision, inside that write's transaction (``BEGIN IMMEDIATE`` / the advisory lock), so
  several processes creating it at once serialize and the later ones find it done.
* An existing store is only ever migrated by ``hullguard store migrate``: a write to a store
  at an older revision fails with a :class:`StoreOutdatedError` saying so, and a write to a
  store at a revision this hullguard does not know (written by a newer one) fails with a
  :class:`StoreTooNewError`.
* A read never migrates, stamps or creates anything. It works on a store at
  :data:`OLDEST_READABLE` or later (the read code copes with the tables a later revision
  added being absent), and on a newer store (revisions add to the schema); an older one is a
  clear :class:`StoreOutdatedError`.
* A store from the release before revisions were kept has no ``alembic_version`` table: its
  tables are the baseline (or part of it: each command created only the tables it used).
  ``store migrate`` checks that they are ours, then runs the revisions, whose tables are
  created only when missing, so the store ends stamped at the head with its rows intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hullguard.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy import Engine, Table
    from sqlalchemy.engine import Connection

# Revisions, oldest first: the files in migrations/versions (tests/store checks they agree).
REVISIONS = ("0001_baseline", "0002_image_names", "0003_service", "0004_monitor")
BASELINE = REVISIONS[0]
HEAD = REVISIONS[-1]
OLDEST_READABLE = BASELINE  # this version's reads work on a store at this revision or later
MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
_MIGRATE_HINT = "run `hullguard store migrate` with the same --store (back it up first)"


class StoreOutdatedError(DatabaseError):
    """The store's schema is older than this hullguard needs: ``store migrate`` upgrades it."""


class StoreTooNewError(DatabaseError):
    """The store was migrated by a newer hullguard: this one must not write to it."""


class ForeignTablesError(DatabaseError):
    """An unversioned database whose tables have our names but not our columns."""


def load_models() -> None:
    """Import every mapped class, so ``Base.metadata`` holds the whole schema."""
    import hullguard.store.models  # noqa: F401


@dataclass(frozen=True)
class SchemaState:
    """What a store holds: its stamped revision (None: unversioned) and our tables in it."""

    revision: str | None
    tables: frozenset[str]

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.tables

    @property
    def effective(self) -> str | None:
        """The stamped revision; an unversioned store with tables is the baseline."""
        return self.revision or (BASELINE if self.tables else None)

    @property
    def too_new(self) -> bool:
        return self.revision is not None and self.revision not in REVISIONS

    @property
    def current(self) -> bool:
        return self.revision == HEAD

    def describe(self) -> str:
        if self.empty:
            return "empty (created at the first write)"
        if self.revision is None:
            return f"unversioned: the previous release's schema ({BASELINE})"
        if self.too_new:
            return f"{self.revision} (newer than this hullguard, which knows up to {HEAD})"
        return self.revision


def _version_table() -> Table:
    # Alembic's own bookkeeping table, read with a Core select; it stays off Base.metadata
    # (alembic manages it, and autogenerate would otherwise see it as ours).
    from sqlalchemy import Column, MetaData, String, Table

    return Table(VERSION_TABLE, MetaData(), Column("version_num", String(32), primary_key=True))


def read_state(conn: Connection) -> SchemaState:
    """The store's revision and tables, by inspection (reads only)."""
    from sqlalchemy import inspect, select

    from hullguard.store.base import Base

    load_models()
    present = set(inspect(conn).get_table_names())
    tables = frozenset(present & set(Base.metadata.tables))
    revision = None
    if VERSION_TABLE in present:
        version = _version_table()
        revision = conn.execute(select(version.c.version_num)).scalar()
    return SchemaState(revision, tables)


def check_readable(state: SchemaState, where: str) -> None:
    """Fail clearly when this hullguard cannot read a store at ``state``."""
    effective = state.effective
    if effective is None or state.too_new:
        return  # empty: the caller says "no store"; newer revisions only add
    if REVISIONS.index(effective) < REVISIONS.index(OLDEST_READABLE):
        raise StoreOutdatedError(f"store schema {state.describe()} is too old to read "
                                 f"(this hullguard reads {OLDEST_READABLE} or later)",
                                 where=where, hint=_MIGRATE_HINT)


def check_writable(state: SchemaState, where: str) -> None:
    """Writes need the store at :data:`HEAD` exactly (an empty one is created first)."""
    if state.too_new:
        raise StoreTooNewError(f"store schema is at revision {state.revision}, newer than "
                               f"this hullguard knows (up to {HEAD}); refusing to write",
                               where=where, hint="use the hullguard version that migrated it "
                               "(or a newer one)")
    if not state.current:
        raise StoreOutdatedError(f"store schema is {state.describe()}; this hullguard writes "
                                 f"only at {HEAD}", where=where, hint=_MIGRATE_HINT)


def _check_baseline_tables(conn: Connection, state: SchemaState, where: str) -> None:
    """The tables of an unversioned store must be ours (every column the baseline has), or
    stamping it would claim another application's tables."""
    from sqlalchemy import inspect

    from hullguard.store.base import Base

    inspector = inspect(conn)
    for name in sorted(state.tables):
        found = {c["name"] for c in inspector.get_columns(name)}
        wanted = {c.name for c in Base.metadata.tables[name].columns}
        if not wanted <= found:
            raise ForeignTablesError(
                f"table {name} is not a hullguard store table (no column "
                f"{', '.join(sorted(wanted - found))})", where=where,
                hint="point --store at a hullguard store or at an empty database")


def upgrade_in(conn: Connection) -> None:
    """Run every revision the store has not had, on the caller's (write) transaction."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def create_if_empty(conn: Connection, where: str) -> None:
    """Inside the first writer's transaction: create a new store, refuse an outdated one."""
    state = read_state(conn)
    if state.empty:
        upgrade_in(conn)
        return
    check_writable(state, where)


@dataclass(frozen=True)
class Migration:
    before: SchemaState
    after: str


def migrate(engine: Engine) -> Migration:
    """Bring the store to :data:`HEAD` in one write transaction (creating a new one)."""
    from hullguard.store.base import redacted, with_retry, write_transaction

    where = redacted(engine)

    def work() -> Migration:
        with write_transaction(engine) as conn:
            state = read_state(conn)
            if state.too_new:
                check_writable(state, where)
            if state.revision is None and state.tables:
                _check_baseline_tables(conn, state, where)
            if not state.current:
                upgrade_in(conn)
            return Migration(state, HEAD)

    return with_retry(engine, work)


def status(engine: Engine) -> SchemaState:
    """The store's state; reads only (the store must exist)."""
    from sqlalchemy.exc import SQLAlchemyError

    from hullguard.store.base import store_error

    try:
        with engine.connect() as conn:
            return read_state(conn)
    except SQLAlchemyError as error:
        raise store_error(engine, error) from None
