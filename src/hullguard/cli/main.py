"""``hullguard`` entry point. Each command group lives in its own module with ``register(app)``;
modules import heavy libraries inside their commands so start-up stays light."""

from __future__ import annotations

import importlib

import typer

from hullguard import __version__

# One line per command module; each defines register(app: typer.Typer) -> None.
COMMAND_MODULES = (
    "hullguard.cli.sbom_cmd",
    "hullguard.cli.scan_cmd",
    "hullguard.cli.db_cmd",
    "hullguard.cli.inventory_cmd",
    "hullguard.cli.graph_cmd",
    "hullguard.cli.respond_cmd",
    "hullguard.cli.secrets_cmd",
    "hullguard.cli.lint_cmd",
    "hullguard.cli.store_cmd",
)

app = typer.Typer(
    name="hullguard",
    help="Container supply-chain security and breach response.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hullguard {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Container supply-chain security and breach response."""


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue  # a command group not built yet
        module.register(app)


_register_all()


def run() -> None:
    app()
