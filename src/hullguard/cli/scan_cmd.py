"""``hullguard scan``, ``explain`` and ``rescan``: vulnerabilities of images and stored SBOMs.

Exit codes: 0 no finding at or above ``--fail-on`` (or no ``--fail-on``), 1 such a finding
remains after suppressions and filters, 2 an error. The catalog engine, the matcher and the
store load inside the commands so ``hullguard --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    DB_OPTION,
    EXIT_FINDINGS,
    FAIL_ON_OPTION,
    FAIL_ON_UNCOVERED_OPTION,
    LAYER_CACHE_OPTION,
    OUTPUT_OPTION,
    PLATFORM_OPTION,
    REGISTRY_DEADLINE_OPTION,
    check_format,
    check_input_file,
    check_layer_cache,
    check_output_file,
    check_store,
    eprint,
    handle_errors,
    option_quiet,
    parse_fail_on,
    parse_severity,
    printable,
    progress,
    resolve_image,
    show_warnings,
    write_output,
)

if TYPE_CHECKING:
    from hullguard.images.api import SourceOptions
    from hullguard.model import Sbom
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.scan import ScanReport

FORMAT_NAMES = ("table", "json", "sarif", "cyclonedx-json")
IMAGE_HELP = ("Image: docker-archive:PATH, oci-archive:PATH, oci:DIR[:TAG], dir:PATH, "
              "rootfs:FILE (a root filesystem tarball), sbom:PATH (CycloneDX/SPDX/native "
              "JSON), registry:REF, a bare REF, or an existing path (its kind is detected).")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
    app.command("explain")(explain_command)
    app.command("rescan")(rescan_command)


STORE_OPTION: Any = typer.Option(
    None, "--store", envvar="HULLGUARD_STORE",
    help="Store DSN (default: store.sqlite in the user data dir), e.g. "
    "postgresql+psycopg://user@host/db.")
MAX_AGE_OPTION: Any = typer.Option(
    None, "--max-age-days", envvar="HULLGUARD_MAX_AGE_DAYS",
    help="Warn when the vulnerability data is older than this many days (default 7, or "
    "max_age_days in the config file).")
IGNORE_OPTION: Any = typer.Option(None, "--ignore-file", dir_okay=False,
                                  help="YAML ignore rules (id, package, reason, expires).")


def open_db(db: Path | None, max_age_days: float | None, quiet: bool) -> VulnDB:
    from hullguard.vuln.config import load_config
    from hullguard.vuln.db import VulnDB

    if max_age_days is None:
        max_age_days = load_config().max_age_days
    vdb = VulnDB.open(db)
    age = vdb.oldest_age_days()
    if age is None:
        eprint(f"warning: the vulnerability database {vdb.path} is empty")
    elif age > max_age_days:
        eprint(f"warning: vulnerability data is {age:.1f} days old (more than "
               f"{max_age_days:g}); run `hullguard db update`")
    return vdb


def _source_options(platform: str, insecure: bool) -> SourceOptions:
    from hullguard.images.api import SourceOptions
    from hullguard.model import Platform

    return SourceOptions(platform=Platform.parse(platform), insecure=insecure)


def catalog(image: str, platform: str, insecure: bool, quiet: bool) -> Sbom:
    from hullguard.catalog import catalog_image

    with progress(f"cataloging {image}", quiet) as update:
        return catalog_image(image, _source_options(platform, insecure), on_progress=update)


@handle_errors
def scan_command(
    image: str = typer.Argument(..., help=IMAGE_HELP, metavar="IMAGE"),
    db: Path | None = DB_OPTION,
    fmt: str = typer.Option("table", "--format", "-f",
                            help=f"Output format: {', '.join(FORMAT_NAMES)}."),
    output: Path | None = OUTPUT_OPTION,
    severity: str = typer.Option("", "--severity", help="Only these severities, comma-separated "
                                 "(critical,high,medium,low,negligible,unknown)."),
    ignore_unfixed: bool = typer.Option(False, "--ignore-unfixed",
                                        help="Hide findings that have no fixed version."),
    fail_on: str | None = FAIL_ON_OPTION,
    fail_on_uncovered: bool = FAIL_ON_UNCOVERED_OPTION,
    vex: Annotated[list[Path] | None, typer.Option(
        "--vex", dir_okay=False, help="OpenVEX or CycloneDX VEX file (repeatable).")] = None,
    ignore_file: Path | None = IGNORE_OPTION,
    platform: str = PLATFORM_OPTION,
    insecure: bool = typer.Option(False, "--insecure",
                                  help="Allow plain HTTP / unverified TLS to a registry."),
    store: str | None = STORE_OPTION,
    no_store: bool = typer.Option(False, "--no-store",
                                  help="Do not record the SBOM and findings in the store."),
    max_age_days: float | None = MAX_AGE_OPTION,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    layer_cache: str = LAYER_CACHE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Scan IMAGE for known vulnerabilities (catalog, match, enrich, suppress, filter)."""
    from hullguard.pipeline.scan import scan_image
    from hullguard.vuln.report import render
    from hullguard.vuln.scan import ScanOptions, load_suppressions

    check_format(fmt, FORMAT_NAMES)
    levels = frozenset(parse_severity(s, "--severity") for s in severity.split(",") if s.strip())
    gate = parse_fail_on(fail_on)
    check_output_file(output, "--output")
    if not no_store:
        check_store(store)
    for path in vex or []:
        check_input_file(path, "--vex")
    check_input_file(ignore_file, "--ignore-file")
    layer_cache = check_layer_cache(layer_cache)
    statements, rules, vex_warnings = load_suppressions(vex or [], ignore_file)
    options = ScanOptions(levels, ignore_unfixed, statements, rules)
    with open_db(db, max_age_days, quiet) as vdb, \
            progress(f"cataloging {image}", quiet) as update:
        scanned = scan_image(resolve_image(image), vdb, options,
                             _source_options(platform, insecure), store=store,
                             record=not no_store, on_progress=update,
                             layer_cache=layer_cache)
    report = scanned.report
    if scanned.not_recorded:
        eprint(f"warning: scan not recorded in the store: {scanned.not_recorded}")
    show_warnings([*vex_warnings, *report.sbom.warnings, *report.warnings],
                  more=" (see -f json)")
    warn_uncovered(report)
    write_output(render(report, fmt) if fmt != "table" else printable(render(report, fmt)),
                 output)
    if gate is not None and report.at_or_above(gate):
        raise typer.Exit(EXIT_FINDINGS)
    if fail_on_uncovered and (report.uncovered or report.skipped):
        raise typer.Exit(EXIT_FINDINGS)


def warn_uncovered(report: ScanReport) -> None:
    """One warning per package source the database could not check (never capped: each is
    a part of the image that was not checked at all)."""
    from hullguard.vuln.coverage import uncovered_warnings

    for note in uncovered_warnings(report.sbom.image.name, report.coverage):
        eprint(f"warning: {note}")


@handle_errors
def explain_command(
    vuln_id: str = typer.Argument(..., metavar="ID", help="CVE, GHSA, OSV or distro id."),
    image: str = typer.Argument(..., help=IMAGE_HELP, metavar="IMAGE"),
    db: Path | None = DB_OPTION,
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
    platform: str = PLATFORM_OPTION,
    insecure: bool = typer.Option(False, "--insecure"),
    max_age_days: float | None = MAX_AGE_OPTION,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Explain why ID matches (or not) in IMAGE: record, range, version comparison, severity.
    Exit 0 when it matches, 1 when it does not."""
    from hullguard.vuln.explain import explain, render_json, render_text

    check_format(fmt, ("text", "json"))
    with open_db(db, max_age_days, quiet) as vdb:
        sbom = catalog(resolve_image(image), platform, insecure, quiet)
        result = explain(vuln_id, sbom, vdb)
    text = render_json(result) if fmt == "json" else printable(render_text(result))
    write_output(text, None)
    if not result.findings:
        raise typer.Exit(EXIT_FINDINGS)


@handle_errors
def rescan_command(
    db: Path | None = DB_OPTION,
    store: str | None = STORE_OPTION,
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
    output: Path | None = OUTPUT_OPTION,
    max_age_days: float | None = MAX_AGE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Re-match every stored SBOM against the current database (no image I/O) and report
    what changed per image: new, fixed and withdrawn findings."""
    from hullguard.pipeline.scan import rescan
    from hullguard.store.rescan import render_changes

    check_format(fmt, ("table", "json"))
    check_output_file(output, "--output")
    check_store(store)
    with open_db(db, max_age_days, quiet) as vdb:
        changes = rescan(vdb, store)
    text = render_changes(changes, fmt)
    write_output(text if fmt == "json" else printable(text), output)
