"""``hullguard gate``: evaluate images (or an incident folder) against a YAML policy at a
stage; ``gate export`` writes Kyverno / policy-controller admission policies from it;
``gate schema`` prints the policy's JSON Schema (docs/gate.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    DB_OPTION,
    EXIT_FINDINGS,
    OUTPUT_OPTION,
    PLATFORM_OPTION,
    REGISTRY_DEADLINE_OPTION,
    check_format,
    check_output_file,
    eprint,
    handle_errors,
    option_quiet,
    progress_enabled,
    write_output,
)
from hullguard.errors import InputError

if TYPE_CHECKING:
    from hullguard.harden.gate.evidence import Evidence
    from hullguard.harden.gate.policy import StagePolicy

TARGETS_HELP = ("Images (registry references, oci:DIR, docker-archive:FILE, ...) or one "
                "incident folder written by `hullguard respond`; or `export` / `schema`.")
POLICY_HELP = "The gate policy (YAML; `hullguard gate schema` prints its JSON Schema)."
STAGE_HELP = "The stage to evaluate: build, scan, sign or deploy (its rules and overrides)."


def register(app: typer.Typer) -> None:
    app.command("gate")(gate_command)


@handle_errors
def gate_command(
    targets: Annotated[list[str], typer.Argument(help=TARGETS_HELP)],
    policy_file: Annotated[Path | None, typer.Option(
        "--policy", dir_okay=False, help=POLICY_HELP)] = None,
    stage: Annotated[str, typer.Option("--stage", help=STAGE_HELP)] = "deploy",
    db: Path | None = DB_OPTION,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="gate: text, json or sarif on stdout; export: kyverno or "
        "policy-controller.")] = "",
    json_file: Annotated[Path | None, typer.Option(
        "--json", dir_okay=False, help="Also write the JSON report to FILE.")] = None,
    sarif_file: Annotated[Path | None, typer.Option(
        "--sarif", dir_okay=False, help="Also write the SARIF 2.1.0 report to FILE.")] = None,
    signature_format: Annotated[str, typer.Option(
        "--signature-format", help="export: which signatures admission verifies: legacy "
        "(cosign's .sig tags, Kyverno type Cosign) or bundle (Sigstore bundles, Kyverno type "
        "SigstoreBundle).")] = "legacy",
    name: Annotated[str, typer.Option(
        "--name", help="export: the admission policy's metadata.name.")] = "hullguard-gate",
    output: Path | None = OUTPUT_OPTION,
    platform: str = PLATFORM_OPTION,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Allow plain HTTP / unverified TLS to a registry.")] = False,
    quiet: bool = option_quiet(),
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
) -> None:
    """Gate images on a written policy: pass/fail per image and rule, exit 1 on failure.

    `hullguard gate export --policy FILE -f kyverno|policy-controller` writes the admission
    policy instead; `hullguard gate schema` prints the policy's JSON Schema."""
    if targets[0] == "schema" and len(targets) == 1:
        _print_schema(output)
        return
    if policy_file is None:
        raise InputError("--policy FILE is required", where="gate",
                         hint="`hullguard gate schema` describes the policy file")
    from hullguard.harden.gate.policy import load_policy

    policy = load_policy(policy_file, stage)
    if targets[0] == "export" and len(targets) == 1:
        _export(policy, fmt or "kyverno", signature_format, name, output)
        return
    _gate(policy, targets, db, fmt or "text", json_file, sarif_file, output,
          (platform, insecure, quiet))


def _print_schema(output: Path | None) -> None:
    import json

    from hullguard.harden.gate.policy import schema

    write_output(json.dumps(schema(), indent=2) + "\n", output)


def _export(policy: StagePolicy, fmt: str, signature_format: str, name: str,
            output: Path | None) -> None:
    from hullguard.harden.gate.export import FORMATS, export, not_exported

    check_format(fmt, FORMATS)
    check_output_file(output, "--output")
    write_output(export(policy, fmt, signature_format, name), output)
    skipped = not_exported(policy)
    if skipped:
        eprint(f"note: not enforceable at admission, keep gating in CI: {', '.join(skipped)}")


def _gate(policy: StagePolicy, targets: list[str], db: Path | None, fmt: str,
          json_file: Path | None, sarif_file: Path | None, output: Path | None,
          source: tuple[str, bool, bool]) -> None:
    from hullguard.harden.gate.evaluate import evaluate
    from hullguard.harden.gate.report import FORMATS, render, to_json, to_sarif

    check_format(fmt, FORMATS)
    for path, where in ((json_file, "--json"), (sarif_file, "--sarif"), (output, "--output")):
        check_output_file(path, where)
    evidence = _evidence(policy, targets, db, source)
    report = evaluate(policy, evidence, datetime.now(UTC).date())
    if json_file:
        write_output(to_json(report), json_file)
    if sarif_file:
        write_output(to_sarif(report), sarif_file)
    write_output(render(report, fmt), output)
    if not report.passed:
        raise typer.Exit(EXIT_FINDINGS)


def _evidence(policy: StagePolicy, targets: list[str], db: Path | None,
              source: tuple[str, bool, bool]) -> list[Evidence]:
    from hullguard.harden.gate.rules import active_rules
    from hullguard.pipeline.gate import CollectOptions, collect_images, collect_incident

    if len(targets) == 1 and Path(targets[0]).is_dir() \
            and (Path(targets[0]) / "findings.json").is_file():
        return collect_incident(Path(targets[0]))
    from hullguard.cli.sbom_cmd import _source_options

    platform, insecure, quiet = source
    needs_db = any(rule.key == "vulnerabilities" for rule in active_rules(policy))
    db_path = str(_database(db)) if needs_db else ""
    options = CollectOptions(db_path, _source_options(platform, insecure, None, False))
    show = progress_enabled(quiet)
    return collect_images(targets, policy, options,
                          on_image=(lambda image: eprint(f"gate: scanned {image}"))
                          if show else None)


def _database(db: Path | None) -> Path:
    from hullguard.vuln.db import default_db_path

    return db if db is not None else default_db_path()
