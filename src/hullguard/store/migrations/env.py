"""Alembic environment of the store.

hullguard runs it on its own connection, inside its write transaction (``BEGIN IMMEDIATE`` on
SQLite, the advisory lock on PostgreSQL), passed as ``config.attributes["connection"]``, so
migrations and other writers never interleave. A developer can also run the ``alembic``
command on a scratch store to write a new revision::

    alembic -c src/hullguard/store/migrations/alembic.ini -x store=sqlite:///scratch.sqlite \\
        revision --autogenerate -m "what changed"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hullguard.store.base import Base, make_engine, write_transaction
from hullguard.store.schema import load_models

load_models()
config = context.config


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True,  # SQLite changes columns by copying the table
                      compare_type=True, compare_server_default=True)
    with context.begin_transaction():
        context.run_migrations()


if config.attributes.get("connection") is not None:
    run(config.attributes["connection"])
else:  # the alembic command line: -x store=URL
    engine = make_engine(context.get_x_argument(as_dictionary=True).get("store"))
    with write_transaction(engine) as conn:  # the same lock as hullguard's writers
        run(conn)
    engine.dispose()
