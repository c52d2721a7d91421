"""``hullguard store migrate|status``: the store's schema revision (Alembic, in the package).

A new store is created at its first write; an existing one is upgraded only by ``migrate``
(see :mod:`hullguard.store.schema`). The store modules load inside the commands.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hullguard.cli.common import check_format, handle_errors, write_output

store_app = typer.Typer(help="The store's schema: migrate it to this version, show its revision.",
                        no_args_is_help=True)

StoreOption = Annotated[str | None, typer.Option(
    "--store", help="Store: SQLite path or postgresql:// DSN "
    "(default: $HULLGUARD_STORE or the user data directory).")]
STATUS_FORMATS = ("text", "json")


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")


@store_app.command("migrate")
@handle_errors
def migrate_command(store: StoreOption = None) -> None:
    """Upgrade the store's schema to this hullguard's head revision in one write transaction
    (an unversioned store of the previous release is checked and stamped; a missing store is
    created; a store migrated by a newer hullguard is refused)."""
    from hullguard.store.base import make_engine, redacted
    from hullguard.store.schema import migrate

    engine = make_engine(store)
    try:
        done = migrate(engine)
        where = redacted(engine)
    finally:
        engine.dispose()
    if done.before.current:
        write_output(f"{where}: already at {done.after}\n", None)
    elif done.before.empty:
        write_output(f"{where}: created at {done.after}\n", None)
    else:
        write_output(f"{where}: {done.before.describe()} -> {done.after}\n", None)


@store_app.command("status")
@handle_errors
def status_command(
    store: StoreOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: text or json.")] = "text",
) -> None:
    """Show the store's schema revision and whether it needs ``store migrate`` (reads only)."""
    from hullguard.store.base import make_engine, redacted
    from hullguard.store.schema import HEAD, status

    check_format(fmt, STATUS_FORMATS)
    engine = make_engine(store, must_exist=True)
    try:
        state = status(engine)
        where = redacted(engine)
    finally:
        engine.dispose()
    verdict = ("current" if state.current else "empty" if state.empty else
               "newer than this hullguard (read-only for it)" if state.too_new else
               "needs `hullguard store migrate`")
    if fmt == "json":
        write_output(json.dumps({"store": where, "revision": state.revision, "head": HEAD,
                                 "state": verdict, "tables": sorted(state.tables)},
                                indent=2) + "\n", None)
        return
    write_output(f"store:    {where}\nrevision: {state.describe()}\nhead:     {HEAD}\n"
                 f"state:    {verdict}\n", None)
