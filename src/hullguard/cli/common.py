"""What every command shares: error reporting, output files, progress. Only cli/ prints."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from hullguard.errors import HullguardError, InputError
from hullguard.textsafe import printable as printable  # re-exported for the commands

if TYPE_CHECKING:
    from hullguard.model import Severity

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def eprint(message: str) -> None:
    """A line to stderr with terminal control characters made visible (hostile text)."""
    sys.stderr.write(printable(message) + "\n")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn HullguardError into one clear message on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except HullguardError as error:
            eprint(f"error: {error.diagnostics()}")
            raise typer.Exit(EXIT_ERROR) from None
        except KeyboardInterrupt:
            eprint("interrupted")
            raise typer.Exit(130) from None

    return wrapper


def write_output(text: str, output: Path | None) -> None:
    """Write to ``output`` atomically (never half-written), or to stdout. An unwritable
    ``output`` is an InputError naming it."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from hullguard.fsutil import write_text_atomic

    try:
        write_text_atomic(output, text)
    except OSError as error:  # unwritable directory, a file where a directory should be, ...
        raise InputError(f"cannot write: {error.strerror or error}", where=str(output)) from None


def progress_enabled(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress(description: str, quiet: bool) -> Iterator[Callable[[str], None]]:
    """A rich spinner on stderr; yields a function to update its text. Off when not a TTY."""
    if not progress_enabled(quiet):
        yield lambda _text: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(description) as status:
        yield lambda text: status.update(printable(text))


MAX_WARNINGS_SHOWN = 20


def show_warnings(warnings: Iterable[str], limit: int = MAX_WARNINGS_SHOWN, *,
                  total: int | None = None, more: str = "") -> None:
    """The first ``limit`` warnings on stderr, then how many more there were: ``total`` when
    the caller kept only some of them, and ``more`` appended to that line (where to see all)."""
    items = list(warnings)
    for warning in items[:limit]:
        eprint(f"warning: {warning}")
    hidden = (len(items) if total is None else total) - min(limit, len(items))
    if hidden > 0:
        eprint(f"warning: ... and {hidden} more{more}")


def check_format(fmt: str, names: Collection[str]) -> None:
    if fmt not in names:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(names)}",
                         where="--format")


def parse_severity(text: str, where: str) -> Severity:
    """A severity flag value (``--fail-on high``, ``--severity critical,high``)."""
    from hullguard.model import Severity

    name = text.strip().upper()
    if name not in Severity.__members__:
        choices = ", ".join(s.name.lower() for s in Severity)
        raise InputError(f"unknown severity {text!r}; choose from {choices}", where=where)
    return Severity[name]


def parse_fail_on(text: str | None) -> Severity | None:
    """The ``--fail-on`` gate: None when the flag was not given."""
    return parse_severity(text, "--fail-on") if text else None


FAIL_ON_OPTION: Any = typer.Option(
    None, "--fail-on", help="Exit 1 when a finding of this severity or higher remains "
    "(low, medium, high, critical): a CI gate.")
FAIL_ON_UNCOVERED_HELP = ("Exit 1 when any package went unchecked: its distro release or "
                          "ecosystem has no advisory data in the database, or the catalog "
                          "skipped content.")
FAIL_ON_UNCOVERED_OPTION: Any = typer.Option(False, "--fail-on-uncovered",
                                             help=FAIL_ON_UNCOVERED_HELP)
DB_OPTION: Any = typer.Option(
    None, "--db", envvar="HULLGUARD_DB", dir_okay=False,
    help="Vulnerability database (default: vulndb.sqlite in the user data dir).")
# No square brackets in help texts: rich reads "[/variant]" as markup and --help crashes.
PLATFORM_OPTION: Any = typer.Option(
    "linux/amd64", "--platform",
    help="Platform to pick from a multi-platform image: os/arch or os/arch/variant.")
OUTPUT_OPTION: Any = typer.Option(None, "--output", "-o", dir_okay=False,
                                  help="Write to FILE (atomically) instead of stdout.")


def option_quiet() -> Any:
    return typer.Option(False, "--quiet", "-q", help="No progress output on stderr.")
