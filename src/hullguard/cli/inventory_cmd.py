"""``hullguard inventory PATH...``: every image reference in manifests, dumps, compose files,
Dockerfiles, image lists and (optionally) a live cluster. Heavy modules load inside."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hullguard.cli.common import (
    COMPOSE_ENV_FILE_OPTION,
    COMPOSE_ENV_OPTION,
    EXIT_ERROR,
    check_format,
    check_input_file,
    check_output_file,
    check_store,
    eprint,
    handle_errors,
    write_output,
)
from hullguard.errors import InputError

MAX_ISSUES_SHOWN = 50


def register(app: typer.Typer) -> None:
    app.command("inventory")(inventory_command)


@handle_errors
def inventory_command(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Files or directories (searched recursively): Kubernetes YAML/JSON, kubectl "
             "dumps, Helm output, compose files, Dockerfiles, image lists.")] = None,
    kubeconfig: Annotated[Path | None, typer.Option(
        "--kubeconfig", dir_okay=False, help="Kubeconfig for --cluster (default: "
        "$KUBECONFIG or ~/.kube/config).")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", help="Kubeconfig context for --cluster.")] = None,
    cluster: Annotated[bool, typer.Option(
        "--cluster", help="Also list workloads of the live cluster (needs the kubernetes "
        "package).")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="Write to FILE (atomically).")] = None,
    criticality_config: Annotated[Path | None, typer.Option(
        "--criticality-config", dir_okay=False,
        help="YAML mapping namespace/workload globs to critical/high/medium/low.")] = None,
    store: Annotated[str | None, typer.Option(
        "--store", help="Also save the inventory to this store (SQLite path or "
        "postgresql:// DSN) for `hullguard graph`.")] = None,
    env: list[str] | None = COMPOSE_ENV_OPTION,
    env_file: list[Path] | None = COMPOSE_ENV_FILE_OPTION,
) -> None:
    """Find every image reference and where it is used, with exposure, environment and
    criticality per workload. Per-file problems are reported; the rest is still processed."""
    from hullguard.inventory.collect import collect
    from hullguard.inventory.context import CriticalityRules, load_criticality_rules
    from hullguard.inventory.render import FORMATS, render

    check_format(fmt, FORMATS)
    check_output_file(output, "--output")
    check_store(store)
    check_input_file(criticality_config, "--criticality-config")
    if not paths and not (cluster or kubeconfig or context):
        raise InputError("give at least one PATH, or --cluster", where="inventory")
    rules = load_criticality_rules(criticality_config) if criticality_config \
        else CriticalityRules()
    inventory = collect(paths or [], kubeconfig=kubeconfig, context=context, cluster=cluster,
                        criticality_rules=rules)
    if store:
        from hullguard.store.base import make_engine
        from hullguard.store.inventory import save_inventory

        save_inventory(make_engine(store), inventory)
    write_output(render(inventory, fmt), output)
    for issue in inventory.issues[:MAX_ISSUES_SHOWN]:
        eprint(str(issue))
    if len(inventory.issues) > MAX_ISSUES_SHOWN:
        eprint(f"... and {len(inventory.issues) - MAX_ISSUES_SHOWN} more (see -f json)")
    if not inventory.sources and inventory.issues:
        raise typer.Exit(EXIT_ERROR)  # nothing could be read at all
