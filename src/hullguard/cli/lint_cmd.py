"""``hullguard lint IMAGE|Dockerfile|compose|k8s-YAML|DIR``: hygiene checks mapped to the
hardening levels (L1 baseline, L2 hardened, L3 maximum) and NIST SP 800-53 controls.

The checks load inside the command so ``hullguard --help`` stays fast.
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
    check_output_file,
    handle_errors,
    option_quiet,
    parse_fail_on,
    progress,
    show_warnings,
    write_output,
)

TARGET_HELP = ("A Dockerfile, compose file, Kubernetes manifest, a directory of them, or an "
               "image (docker-archive:PATH, oci:DIR, a registry REF, an image tar path).")


def register(app: typer.Typer) -> None:
    app.command("lint")(lint_command)


@handle_errors
def lint_command(
    target: str = typer.Argument(..., help=TARGET_HELP, metavar="TARGET"),
    level: str = typer.Option("L1", "--level", "-l",
                              help="Hardening level to enforce: L1 (baseline), L2 (hardened, "
                                   "includes L1) or L3 (maximum, includes L2)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or sarif."),
    output: Path | None = OUTPUT_OPTION,
    fail_on: str | None = FAIL_ON_OPTION,
    platform: str = PLATFORM_OPTION,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Check images, Dockerfiles, compose files and Kubernetes workloads for risky settings."""
    from hullguard.images.api import SourceOptions
    from hullguard.lint import lint_target
    from hullguard.lint.registry import parse_level
    from hullguard.lint.report import FORMATS, render
    from hullguard.model import Platform

    check_format(fmt, FORMATS)
    check_output_file(output, "--output")
    threshold = parse_fail_on(fail_on)
    options = SourceOptions(platform=Platform.parse(platform))
    with progress(f"linting {target}", quiet):
        report = lint_target(target, options, level=parse_level(level))
    show_warnings(report.warnings)
    write_output(render(report, fmt), output)
    if threshold is not None and any(f.check.severity >= threshold for f in report.findings):
        raise typer.Exit(EXIT_FINDINGS)
