"""``hullguard forensics``: load pull, push and audit logs into the case database, ask it
questions, and search images and logs for indicators of compromise.

DuckDB and YARA load inside the commands so ``hullguard --help`` stays fast.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import typer

from hullguard.cli.common import (
    EXIT_FINDINGS,
    OUTPUT_OPTION,
    PLATFORM_OPTION,
    check_format,
    eprint,
    handle_errors,
    option_quiet,
    progress,
    show_warnings,
    write_output,
)

CASE_HELP = "Case folder holding forensics/events.duckdb (default: the incident folder)."
CASE_OPTION: Any = typer.Option(Path("incident"), "--case", help=CASE_HELP)
FORMAT_OPTION: Any = typer.Option("table", "--format", "-f", help="table, json or csv.")
SPECS_ARGUMENT: Any = typer.Argument(..., metavar="SOURCE:FILE...",
                                     help="Log files, each prefixed by its source name.")
IMAGES_ARGUMENT: Any = typer.Argument(None, metavar="IMAGE...", help=(
    "Images (registry REF, oci:DIR, docker-archive:PATH, oci-archive:PATH or a path)."))
IOCS_OPTION: Any = typer.Option(None, "--iocs", help=(
    "Indicators, one per line: sha256/sha1/md5 hash, string:TEXT, regex:PATTERN."))
YARA_OPTION: Any = typer.Option(None, "--yara", help="YARA rule file or folder.")
IOC_CASE_OPTION: Any = typer.Option(None, "--case", help=(
    "Also search this case's ingested logs (string/regex; sha256 against logged digests)."))

app = typer.Typer(help="Forensics over registry, audit and container logs; IoC search.",
                  no_args_is_help=True)
query_app = typer.Typer(help="Ask the case database a question.", no_args_is_help=True)
app.add_typer(query_app, name="query")


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="forensics")


@app.command("sources")
@handle_errors
def sources_command() -> None:
    """List the log formats ingest understands (SOURCE names)."""
    from hullguard.forensics.render import table
    from hullguard.forensics.sources import SOURCES

    typer.echo(table(("source", "expected format"),
                     [(s.name, s.description) for s in SOURCES]), nl=False)


@app.command("ingest")
@handle_errors
def ingest_command(
    specs: list[str] = SPECS_ARGUMENT,
    case: Path = CASE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Load logs into the case's DuckDB events table (and refresh events.parquet). Bad lines
    are counted per file; exit 1 when any file had some."""
    from hullguard.forensics.ingest import IngestSpec, ingest
    from hullguard.forensics.render import summary

    parsed = [IngestSpec.parse(text) for text in specs]  # every argument checked first
    with progress("ingesting logs", quiet) as step:
        result = ingest(case, parsed, step)
    typer.echo(summary(result), nl=False)
    if result.bad:
        eprint(f"warning: {result.bad} bad records were skipped (counted above)")
        raise typer.Exit(EXIT_FINDINGS)


@query_app.callback()
def query_callback(ctx: typer.Context, case: Path = CASE_OPTION) -> None:
    """Questions: pulls-of, timeline, push-anomalies, sql."""
    ctx.obj = case


def _open(ctx: typer.Context) -> Any:
    from hullguard.forensics.db import open_read

    return open_read(ctx.obj or Path("incident"))


@query_app.command("pulls-of")
@handle_errors
def pulls_of_command(ctx: typer.Context,
                     image: str = typer.Argument(..., metavar="IMAGE|DIGEST"),
                     fmt: str = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION) -> None:
    """First and last pull, count, by actor, client address and user agent, per digest."""
    from hullguard.forensics import render
    from hullguard.forensics.queries import pulls_of

    check_format(fmt, render.FORMATS)
    with _open(ctx) as con:
        write_output(render.pulls(pulls_of(con, image), fmt), output)


def _time(text: str | None, flag: str) -> datetime.datetime | None:
    from hullguard.errors import InputError

    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise InputError("not an ISO 8601 time", where=f"{flag} {text}") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


@query_app.command("timeline")
@handle_errors
def timeline_command(
    ctx: typer.Context,
    image: str | None = typer.Option(None, "--image", help="Only events of this image."),
    since: str | None = typer.Option(None, "--since", help="From this time (ISO 8601, UTC)."),
    until: str | None = typer.Option(None, "--until", help="Before this time."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most N events."),
    fmt: str = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION,
) -> None:
    """Events in time order."""
    from hullguard.forensics import render
    from hullguard.forensics.queries import timeline

    check_format(fmt, render.FORMATS)
    with _open(ctx) as con:
        found = timeline(con, image, _time(since, "--since"), _time(until, "--until"), limit)
    columns = list(found[0]) if found else ["time", "action"]
    write_output(render.tabular(columns, [list(r.values()) for r in found], fmt), output)


def _window(text: str) -> datetime.timedelta:
    from hullguard.errors import InputError

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) == 0:
        raise InputError("expected a duration like 50m, 1h or 2d", where=f"--window {text}")
    return datetime.timedelta(seconds=int(number) * units[unit])


def _hours(text: str) -> tuple[int, int]:
    from hullguard.errors import InputError

    start, _, end = text.partition("-")
    if not (start.isdigit() and end.isdigit() and 0 <= int(start) < int(end) <= 24):
        raise InputError("expected START-END hours like 07-19", where=f"--usual-hours {text}")
    return int(start), int(end)


@query_app.command("push-anomalies")
@handle_errors
def push_anomalies_command(
    ctx: typer.Context,
    threshold: int = typer.Option(10, "--threshold", min=0,
                                  help="Flag more pushes than this in any window."),
    window: str = typer.Option("1h", "--window", help="Sliding window length (50m, 1h, 1d)."),
    usual_hours: str = typer.Option("07-19", "--usual-hours",
                                    help="Usual push hours, UTC (START-END)."),
    fmt: str = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION,
) -> None:
    """Push bursts (sliding window), new pushers, re-pointed tags, off-hours pushes; exit 1
    when any is found."""
    from hullguard.forensics import render
    from hullguard.forensics.queries import push_anomalies

    check_format(fmt, render.FORMATS)
    with _open(ctx) as con:
        found = push_anomalies(con, threshold, _window(window), _hours(usual_hours))
    write_output(render.anomalies(found, fmt), output)
    if found:
        raise typer.Exit(EXIT_FINDINGS)


@query_app.command("sql")
@handle_errors
def sql_command(ctx: typer.Context, query: str = typer.Argument(..., metavar="SELECT"),
                limit: int = typer.Option(10_000, "--limit", min=1, help="At most N rows."),
                fmt: str = FORMAT_OPTION, output: Path | None = OUTPUT_OPTION) -> None:
    """One read-only SELECT (or WITH ... SELECT) over the events table."""
    from hullguard.forensics import render
    from hullguard.forensics.queries import run_sql

    check_format(fmt, render.FORMATS)
    with _open(ctx) as con:
        columns, found = run_sql(con, query, limit)
    write_output(render.tabular(columns, found, fmt), output)


@app.command("ioc")
@handle_errors
def ioc_command(
    images: list[str] = IMAGES_ARGUMENT,
    iocs: Path | None = IOCS_OPTION,
    yara_rules: Path | None = YARA_OPTION,
    case: Path | None = IOC_CASE_OPTION,
    max_file_size: int = typer.Option(32 << 20, "--max-file-size", min=1,
                                      help="Bytes of each file strings/regex/YARA read."),
    platform: str = PLATFORM_OPTION,
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or sarif."),
    output: Path | None = OUTPUT_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Search every layer file (deleted ones too), config, history and logs for indicators;
    exit 1 when any matches."""
    from hullguard.errors import InputError
    from hullguard.forensics import render
    from hullguard.forensics.ioc import Indicators, ioc_scan, load_iocs, load_yara
    from hullguard.images.api import SourceOptions
    from hullguard.model import Platform

    check_format(fmt, render.IOC_FORMATS)
    indicators = Indicators()
    if iocs:
        load_iocs(iocs, indicators)
    if yara_rules:
        load_yara(yara_rules, indicators)
    if not images and case is None:
        raise InputError("nothing to search", hint="give IMAGE... and/or --case DIR")
    with progress("searching for indicators", quiet):
        report = ioc_scan(images or [], indicators, case=case, max_file_size=max_file_size,
                          options=SourceOptions(platform=Platform.parse(platform)))
    show_warnings(report.warnings)
    write_output(render.ioc(report, fmt), output)
    if report.matches:
        raise typer.Exit(EXIT_FINDINGS)
