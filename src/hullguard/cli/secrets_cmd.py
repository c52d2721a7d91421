"""``hullguard secrets IMAGE|PATH``: leaked credentials in every layer, the image config, or a
directory of files (Dockerfiles, compose files, Kubernetes manifests, any text).

The scanner loads inside the command so ``hullguard --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    EXIT_FINDINGS,
    FAIL_ON_OPTION,
    OUTPUT_OPTION,
    PLATFORM_OPTION,
    REGISTRY_DEADLINE_OPTION,
    check_format,
    check_input_file,
    check_output_file,
    handle_errors,
    option_quiet,
    parse_fail_on,
    progress,
    show_warnings,
    write_output,
)

TARGET_HELP = ("An image (docker-archive:PATH, oci:DIR, oci-archive:PATH, a registry REF, or a "
               "path to an image tar / OCI layout) or a file or directory to scan.")

# Module-level option object (ruff B008: no calls in defaults for mutable-typed options).
ALLOWLIST_OPTION = typer.Option(
    None, "--allowlist", help="YAML with paths (globs), fingerprints and rules to ignore.")


def register(app: typer.Typer) -> None:
    app.command("secrets")(secrets_command)


@handle_errors
def secrets_command(
    target: str = typer.Argument(..., help=TARGET_HELP, metavar="IMAGE|PATH"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or sarif."),
    output: Path | None = OUTPUT_OPTION,
    allowlist: Path | None = ALLOWLIST_OPTION,
    max_file_size: int = typer.Option(10 << 20, "--max-file-size", min=1,
                                      help="Skip (and report) files larger than N bytes."),
    fail_on: str | None = FAIL_ON_OPTION,
    platform: str = PLATFORM_OPTION,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Find leaked credentials (prefix, length and fingerprint shown, never the secret)."""
    from hullguard.images.api import SourceOptions
    from hullguard.model import Platform
    from hullguard.secrets import Limits, load_allowlist, scan_target
    from hullguard.secrets.report import FORMATS, render

    check_format(fmt, FORMATS)
    check_output_file(output, "--output")
    threshold = parse_fail_on(fail_on)
    check_input_file(allowlist, "--allowlist")
    rules_allow = load_allowlist(allowlist) if allowlist else None
    options = SourceOptions(platform=Platform.parse(platform))
    with progress(f"scanning {target} for secrets", quiet):
        report = scan_target(target, options, allowlist=rules_allow,
                             limits=Limits(max_file_size=max_file_size))
    show_warnings(report.warnings)
    write_output(render(report, fmt), output)
    if threshold is not None and any(f.severity >= threshold for f in report.findings):
        raise typer.Exit(EXIT_FINDINGS)
