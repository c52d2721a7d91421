"""``hullguard`` entry point. Each command group lives in its own module with ``register(app)``;
modules import heavy libraries inside their commands so start-up stays light."""

from __future__ import annotations

import importlib
import sys

import typer

from hullguard import __version__
from hullguard.cli.common import SETTINGS, eprint, report_unexpected

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
    "hullguard.cli.contain_cmd",
    "hullguard.cli.remediate_cmd",
    "hullguard.cli.trust_cmd",
    "hullguard.cli.mirror_cmd",
    "hullguard.cli.posture_cmd",
    "hullguard.cli.forensics_cmd",
    "hullguard.cli.store_cmd",
    "hullguard.cli.gate_cmd",
    "hullguard.cli.pin_cmd",
    "hullguard.cli.serve_cmd",
    "hullguard.cli.monitor_cmd",
    "hullguard.cli.worker_cmd",
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
    debug: bool = typer.Option(False, "--debug", envvar="HULLGUARD_DEBUG",
                               help="Show the full traceback of an unexpected error."),
) -> None:
    """Container supply-chain security and breach response."""
    SETTINGS.debug = debug


def _register_all() -> None:
    """Every listed module must import: a missing one is a packaging bug, not an option."""
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            raise ImportError(f"hullguard command module {name} is missing ({error}): a broken "
                              "install; reinstall hullguard") from error
        module.register(app)


_register_all()


def run() -> None:
    """The console entry point: anything a command's handle_errors did not catch (option
    callbacks, start-up) still ends as one line and exit code 3, never a bare traceback."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        eprint("interrupted")
        sys.exit(130)
    except Exception as error:
        sys.exit(report_unexpected(error).exit_code)
