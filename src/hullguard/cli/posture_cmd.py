"""``hullguard posture dockerhub|harbor|registry``: registry account posture checked against
the hardening levels (L1, L2, L3) and NIST SP 800-53 controls; pass, fail or manual per
check. The checks load inside the commands so ``hullguard --help`` stays fast."""

from __future__ import annotations

from pathlib import Path

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    EXIT_FINDINGS,
    FAIL_ON_OPTION,
    OUTPUT_OPTION,
    check_format,
    handle_errors,
    option_quiet,
    parse_fail_on,
    progress,
    show_warnings,
    write_output,
)

posture_app = typer.Typer(help="Audit registry accounts: Docker Hub organizations, Harbor, "
                               "self-hosted distribution registries.", no_args_is_help=True)

LEVEL_OPTION = typer.Option("L1", "--level", "-l",
                            help="Hardening level: L1 (baseline), L2 (hardened, includes "
                                 "L1) or L3 (maximum, includes L2).")
FORMAT_OPTION = typer.Option("table", "--format", "-f",
                             help="table, json, sarif, markdown or html (scores per level "
                                  "and control family).")

CA_FILE_OPTION = typer.Option(None, "--ca-file", exists=True, dir_okay=False,
                              help="CA certificate that signed Harbor's TLS certificate.")
CONFIG_OPTION = typer.Option(..., "--config", dir_okay=False,
                             help="The distribution registry's config.yml.")


def register(app: typer.Typer) -> None:
    app.add_typer(posture_app, name="posture")


def _emit(report: object, fmt: str, output: Path | None, fail_on: str | None) -> None:
    from hullguard.harden.posture.report import render
    from hullguard.model.lint import LintReport

    assert isinstance(report, LintReport)
    show_warnings(report.warnings)
    write_output(render(report, fmt), output)
    threshold = parse_fail_on(fail_on)
    if threshold is not None and any(f.status == "fail" and f.check.severity >= threshold
                                     for f in report.findings):
        raise typer.Exit(EXIT_FINDINGS)


def _checked(fmt: str, level: str, fail_on: str | None) -> str:
    from hullguard.harden.posture.report import FORMATS
    from hullguard.lint.registry import parse_level

    check_format(fmt, FORMATS)
    parse_fail_on(fail_on)
    return parse_level(level)


@posture_app.command("dockerhub")
@handle_errors
def dockerhub_command(
    org: str = typer.Option(..., "--org", help="The Docker Hub organization (namespace)."),
    api_url: str = typer.Option("https://hub.docker.com", "--api-url",
                                help="Docker Hub API base URL."),
    level: str = LEVEL_OPTION,
    fmt: str = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    fail_on: str | None = FAIL_ON_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Docker Hub organization: members, teams, access tokens, repositories, audit log.
    The token comes from HULLGUARD_DOCKERHUB_TOKEN (user: HULLGUARD_DOCKERHUB_USERNAME,
    default the organization) or the docker config; it is never printed."""
    from hullguard.harden.posture import assess_dockerhub

    level = _checked(fmt, level, fail_on)
    with progress(f"reading Docker Hub organization {org}", quiet):
        report = assess_dockerhub(org, level=level, api_url=api_url)
    _emit(report, fmt, output, fail_on)


@posture_app.command("harbor")
@handle_errors
def harbor_command(
    url: str = typer.Option(..., "--url", help="Harbor base URL, e.g. https://harbor.example."),
    ca_file: Path | None = CA_FILE_OPTION,
    level: str = LEVEL_OPTION,
    fmt: str = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    fail_on: str | None = FAIL_ON_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Harbor: authentication, robots, projects, CVE allowlists, replication, webhooks.
    Credentials from HULLGUARD_HARBOR_USERNAME and HULLGUARD_HARBOR_PASSWORD."""
    from hullguard.harden.posture import assess_harbor

    level = _checked(fmt, level, fail_on)
    with progress(f"reading Harbor at {url}", quiet):
        report = assess_harbor(url, level=level, ca_file=ca_file)
    _emit(report, fmt, output, fail_on)


@posture_app.command("registry")
@handle_errors
def registry_command(
    config: Path = CONFIG_OPTION,
    level: str = LEVEL_OPTION,
    fmt: str = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    fail_on: str | None = FAIL_ON_OPTION,
) -> None:
    """A self-hosted distribution registry (registry:2, docker-registry) from its config."""
    from hullguard.harden.posture import assess_registry_config

    level = _checked(fmt, level, fail_on)
    _emit(assess_registry_config(config, level=level), fmt, output, fail_on)
