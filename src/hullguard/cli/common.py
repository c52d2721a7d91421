"""What every command shares: error reporting, output files, progress. Only cli/ prints."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from hullguard.errors import HullguardError, InputError
from hullguard.textsafe import escape_surrogates
from hullguard.textsafe import printable as printable  # re-exported for the commands

if TYPE_CHECKING:
    from hullguard.model import Severity

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_BUG = 0, 1, 2, 3


class _Settings:
    """Global options (set by the main callback before any command runs)."""

    debug = False


SETTINGS = _Settings()


def eprint(message: str) -> None:
    """A line to stderr with terminal control characters made visible (hostile text)."""
    sys.stderr.write(escape_surrogates(printable(_redacted(message))) + "\n")


def _redacted(text: str) -> str:
    """Without values taken from the environment for compose files (``--env NAME``)."""
    if "hullguard.inventory.compose" not in sys.modules:
        return text  # nothing read from the environment: keep start-up light
    from hullguard.inventory.compose import redact

    return redact(text)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn HullguardError into one clear message on stderr and exit code 2, and any other
    exception (a bug) into one line and exit code 3 (``--debug`` shows the traceback)."""

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
        except Exception as error:  # the one place that catches everything
            if _is_cli_control(error):
                raise  # exit codes and usage errors the command chose
            raise report_unexpected(error) from None

    return wrapper


def _is_cli_control(error: Exception) -> bool:
    """typer.Exit/Abort and click's usage errors (click may be vendored inside typer)."""
    return isinstance(error, typer.Exit | typer.Abort) or any(
        "click" in cls.__module__ and cls.__name__ in ("ClickException", "Exit", "Abort")
        for cls in type(error).__mro__)


def report_unexpected(error: BaseException) -> typer.Exit:
    """An exception no module turned into a HullguardError: a path the OS refused is still
    the user's mistake (exit 2); anything else is a bug (one line and exit 3, or the
    traceback with ``--debug``)."""
    if isinstance(error, OSError) and error.filename is not None:
        eprint(f"error: {error.filename}: {error.strerror or error}")
        return typer.Exit(EXIT_ERROR)
    if SETTINGS.debug:
        traceback.print_exception(error)
    text = str(error).splitlines()[0][:200] if str(error) else ""
    eprint(f"error: unexpected {type(error).__name__}{': ' + text if text else ''}"
           + ("" if SETTINGS.debug else " (a bug: rerun with --debug for the traceback "
              "and report it)"))
    return typer.Exit(EXIT_BUG)


def write_output(text: str, output: Path | None) -> None:
    """Write to ``output`` atomically (never half-written), or to stdout. An unwritable
    ``output`` is an InputError naming it."""
    text = escape_surrogates(_redacted(text))  # hostile names must not crash UTF-8
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from hullguard.fsutil import write_text_atomic

    try:
        write_text_atomic(output, text)
    except OSError as error:  # unwritable directory, a file where a directory should be, ...
        raise InputError(f"cannot write: {error.strerror or error}", where=str(output)) from None


_PSEUDO_FILESYSTEMS = ("/proc", "/sys")


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path("/")


def _probe_directory(directory: Path, shown: Path, where: str) -> None:
    """Create and remove a temp file in ``directory``: the one test that also holds for
    root, read-only mounts and /proc (os.access says yes to all three)."""
    if not directory.is_dir():
        raise InputError(f"cannot write: {directory} is not a directory",
                         where=f"{where} {shown}")
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".hullguard-probe-")
    except OSError as error:
        raise InputError(f"cannot write in {directory}: {error.strerror or error}",
                         where=f"{where} {shown}") from None
    os.close(fd)
    os.unlink(name)


def _refuse_pseudo(path: Path, where: str) -> None:
    absolute = Path(os.path.abspath(path))
    if any(absolute == Path(p) or Path(p) in absolute.parents for p in _PSEUDO_FILESYSTEMS):
        raise InputError(f"cannot write under /{absolute.parts[1]} (a kernel "
                         "pseudo-filesystem)", where=f"{where} {path}")


def check_output_file(path: Path | None, where: str) -> None:
    """Before any work: ``path`` can be written as a file (stdout when None). A device or
    pipe (``-o /dev/null``) is fine; a directory, or a parent that cannot be created or
    written, is an InputError naming the flag and path, so nothing is half-written later."""
    if path is None:
        return
    if os.path.lexists(path):
        if path.is_dir():
            raise InputError("is a directory, not a file", where=f"{where} {path}")
        if not path.is_file() and path.exists():
            return  # /dev/null, /dev/stdout, a FIFO: written in place
    _refuse_pseudo(path, where)
    parent = _nearest_existing(Path(os.path.abspath(path)).parent)
    _probe_directory(parent, path, where)


def check_output_dir(path: Path, where: str) -> None:
    """Before any work: ``path`` is (or can be created as) a writable directory."""
    if os.path.lexists(path) and not path.is_dir():
        raise InputError("exists and is not a directory", where=f"{where} {path}")
    _refuse_pseudo(path, where)
    _probe_directory(_nearest_existing(Path(os.path.abspath(path))), path, where)


def check_layer_cache(setting: str) -> str:
    """``--layer-cache``: "off", or a directory that is (or can be created as) writable;
    "" is the default directory. Returns the setting the pipeline takes."""
    if setting in ("", "off"):
        return setting
    if not setting.strip():
        raise InputError("give a directory or off", where="--layer-cache")
    check_output_dir(Path(setting), "--layer-cache")
    return str(Path(setting).expanduser().resolve())


def check_store(url: str | None, where: str = "--store") -> None:
    """A SQLite store (a path or ``sqlite:///PATH``) must be a writable file location;
    other URLs (PostgreSQL) are checked when connecting."""
    if not url or url == "sqlite://" or url == "sqlite:///:memory:":
        return
    if url.startswith("sqlite:///"):
        check_output_file(Path(url.removeprefix("sqlite:///")), where)
    elif "://" not in url:
        check_output_file(Path(url).expanduser(), where)


def check_input_file(path: Path | None, where: str) -> None:
    """A file the user named must exist and be a file (a clear error before any work)."""
    if path is None:
        return
    if not path.exists():
        raise InputError("no such file", where=f"{where} {path}")
    if path.is_dir():
        raise InputError("is a directory, not a file", where=f"{where} {path}")


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


def resolve_image(text: str) -> str:
    """An IMAGE argument as the sources understand it. A bare existing path is sniffed
    (docker-archive, OCI archive or layout, SBOM, directory, rootfs tarball) and the kind
    found is said on stderr, so ``deb.tar`` is never looked up on Docker Hub."""
    from hullguard.images.reference import has_kind, parse_source

    if has_kind(text) or not os.path.lexists(text):
        return text
    source = parse_source(text)
    eprint(f"{text}: detected {source.kind} (reading it as {source})")
    return str(source)


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


# -- registry and compose-variable options ------------------------------------------------
# They record the choice in this process's environment (HULLGUARD_REGISTRY_DEADLINE,
# HULLGUARD_ALLOW_PRIVATE, HULLGUARD_COMPOSE_ENV[_FILE]): fleet scans run in worker processes,
# which inherit it, and the clients read it where they are built.

def _deadline_chosen(value: float | None) -> float | None:
    if value is not None:
        import os

        from hullguard.images.registry.stall import DEADLINE_ENV

        if not 0 < value < float("inf"):
            raise typer.BadParameter("give a number of seconds above 0")
        os.environ[DEADLINE_ENV] = repr(value)
    return value


def _private_allowed(value: bool) -> bool:
    if value:
        from hullguard.images.registry.netpolicy import allow_private_everywhere

        allow_private_everywhere()
    return value


def _env_names_passed(value: list[str] | None) -> list[str] | None:
    from hullguard.inventory.compose import pass_variables

    try:
        pass_variables(names=value)
    except InputError as error:  # callbacks run before handle_errors: click's own error
        raise typer.BadParameter(error.message) from None
    return value


def _env_files_passed(value: list[Path] | None) -> list[Path] | None:
    from hullguard.inventory.compose import pass_variables

    pass_variables(files=value)
    return value


REGISTRY_DEADLINE_OPTION: Any = typer.Option(
    None, "--registry-deadline", metavar="SECONDS", callback=_deadline_chosen,
    help="Overall time limit of one registry request, body included (default 1800; also "
         "HULLGUARD_REGISTRY_DEADLINE).")
LAYER_CACHE_OPTION: Any = typer.Option(
    "", "--layer-cache", metavar="DIR|off",
    help="Per-layer record cache: a layer seen before (same verified blob digest) is not "
         "read or downloaded again. Default: on, in the user cache directory.")
ALLOW_PRIVATE_OPTION: Any = typer.Option(
    False, "--allow-private-registries", callback=_private_allowed,
    help="Allow registries on private addresses (10/8, 172.16/12, 192.168/16, fc00::/7, "
         "100.64/10); or list hosts and CIDRs in HULLGUARD_ALLOW_PRIVATE.")
COMPOSE_ENV_OPTION: Any = typer.Option(
    None, "--env", metavar="NAME", callback=_env_names_passed,
    help="Let compose files use the environment variable NAME (repeatable; its value is "
         "shown as *** in outputs). Nothing else is read from the environment.")
COMPOSE_ENV_FILE_OPTION: Any = typer.Option(
    None, "--env-file", exists=True, dir_okay=False, callback=_env_files_passed,
    help="KEY=VALUE file of compose variables (repeatable; wins over a .env next to the "
         "compose file).")
