"""``hullguard db import|update|status``: the local vulnerability database.

The importers and the HTTP client load inside the commands so ``hullguard --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    DB_OPTION,
    OUTPUT_OPTION,
    check_format,
    check_output_file,
    eprint,
    handle_errors,
    option_quiet,
    printable,
    show_warnings,
    write_output,
)

if TYPE_CHECKING:
    from hullguard.vuln.dbwrite import SourceReport

MAX_WARNINGS_SHOWN = 10

db_app = typer.Typer(help="Manage the local vulnerability database (import, update, status, "
                     "migrate).",
                     no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")


CONFIG_OPTION: Any = typer.Option(None, "--config", envvar="HULLGUARD_CONFIG", dir_okay=False,
                                  help="Config file (TOML; default: config.toml in the user "
                                  "config dir).")


def resolve_db(db: Path | None) -> Path:
    from hullguard.vuln.db import default_db_path

    return db if db is not None else default_db_path()


@db_app.command("import")
@handle_errors
def import_command(
    paths: Annotated[list[Path], typer.Argument(
        help="Feed files, directories or zip exports (OSV, Alpine secdb, Debian tracker, NVD, "
        "EPSS, KEV).")],
    db: Path | None = DB_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Import feed files into the database (format detected by content; atomic)."""
    from hullguard.vuln.dbwrite import ImportInput, import_inputs

    target = resolve_db(db)
    check_output_file(target, "--db")
    reports = import_inputs(target, [ImportInput(path) for path in paths])
    print_reports(reports, quiet)
    typer.echo(f"database: {target}")


def print_reports(reports: list[SourceReport], quiet: bool) -> None:
    """One line per source on stdout; warnings (bounded) on stderr."""
    for report in reports:
        loaded = ", ".join(f"{count} {kind}" for kind, count in
                           sorted(report.stats.loaded.items())) or "nothing"
        line = f"{report.name}: {loaded}, {report.stats.skipped} skipped"
        if report.kept_previous:
            line += " (nothing usable: previous data kept)"
        typer.echo(printable(line))
        if not quiet:  # the importer keeps only the first warnings; every skip is counted
            show_warnings(report.stats.warnings, MAX_WARNINGS_SHOWN,
                          total=report.stats.skipped, more=f" skipped in {report.name}")


@db_app.command("status")
@handle_errors
def status_command(
    db: Path | None = DB_OPTION,
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    output: Path | None = OUTPUT_OPTION,
) -> None:
    """Show the database's sources, record counts and age."""
    import json

    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.status import status_dict, status_table

    check_format(fmt, ("table", "json"))
    check_output_file(output, "--output")
    with VulnDB.open(resolve_db(db)) as vdb:
        data = status_dict(vdb)
    write_output(json.dumps(data, indent=2) if fmt == "json" else printable(status_table(data)),
                 output)


@db_app.command("update")
@handle_errors
def update_command(
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", help="Feed to update (repeatable; default: all enabled feeds; "
        "see `db feeds`).")] = None,
    url: Annotated[list[str] | None, typer.Option(
        "--url", help="NAME=URL: fetch feed NAME from URL (repeatable; also "
        "HULLGUARD_FEED_<NAME>_URL).")] = None,
    deadline: Annotated[float | None, typer.Option(
        "--deadline", min=1, help="Seconds the whole update may take (default 1800, or "
        "deadline_seconds in the config).")] = None,
    config: Path | None = CONFIG_OPTION,
    db: Path | None = DB_OPTION,
    quiet: bool = option_quiet(),
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,  # feed mirrors: the same policy
) -> None:
    """Fetch the feeds from their upstream URLs (bounded, conditional, resumable) and import
    them. Offline? `db feeds` lists the URLs; fetch them elsewhere and use `db import`."""
    from hullguard.vuln.config import load_config
    from hullguard.vuln.update import Bounds, update_feeds

    settings = load_config(config, url_overrides=url or [])
    check_output_file(resolve_db(db), "--db")
    bounds = Bounds.starting_now(deadline or settings.deadline)
    result = update_feeds(resolve_db(db), settings.select(source or []), quiet=quiet,
                          bounds=bounds)
    for name, note in result.notes:
        typer.echo(printable(f"{name}: {note}"))
    print_reports(result.reports, quiet)
    for name, problem in result.failures:
        eprint(f"error: {name}: {problem}")
    if result.failures:
        raise typer.Exit(2)


@db_app.command("migrate")
@handle_errors
def migrate_command(
    db: Path | None = DB_OPTION,
    wait: Annotated[float, typer.Option(
        "--wait", min=0, help="Seconds to wait for a running import to finish.")] = 60.0,
) -> None:
    """Upgrade the database to this hullguard's schema (atomic; readers never migrate)."""
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.dbwrite import migrate_database

    target = resolve_db(db)
    with VulnDB.open(target) as vdb:  # checks the file before anything is written
        before = vdb.schema_version
    migrate_database(target, wait)
    with VulnDB.open(target) as vdb:
        typer.echo(f"database: {target}: schema {before} -> {vdb.schema_version}")


@db_app.command("feeds")
@handle_errors
def feeds_command(
    config: Path | None = CONFIG_OPTION,
) -> None:
    """List the known feeds, their URLs and whether `db update` fetches them by default."""
    from hullguard.vuln.config import default_max_bytes, load_config

    settings = load_config(config)
    for feed in settings.feeds:
        mark = "*" if feed.name in settings.enabled else " "
        cap = (feed.max_bytes or default_max_bytes(feed.name)) >> 20
        typer.echo(printable(f"{mark} {feed.name:28} {cap:>6} MiB  {feed.url}"))
