"""``hullguard pin PATH... --map MAPPING|--mirror REGISTRY[/PREFIX]``: rewrite image references
to the mirror by digest (a unified diff by default, the files with ``--write``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    COMPOSE_ENV_FILE_OPTION,
    COMPOSE_ENV_OPTION,
    EXIT_FINDINGS,
    REGISTRY_DEADLINE_OPTION,
    check_output_file,
    eprint,
    handle_errors,
    show_warnings,
    write_output,
)

if TYPE_CHECKING:
    from hullguard.harden.mirror.pin import PinResult


def register(app: typer.Typer) -> None:
    app.command("pin")(pin_command)


Paths = Annotated[list[Path], typer.Argument(
    metavar="PATH...", help="Kubernetes manifests, compose files, Dockerfiles or directories.")]
MapFile = Annotated[Path | None, typer.Option(
    "--map", metavar="MAPPING", help="The mapping file `hullguard mirror` wrote.")]
Mirror = Annotated[str | None, typer.Option(
    "--mirror", metavar="REGISTRY[/PREFIX]",
    help="Resolve each digest at this mirror registry (the images must be there already).")]
NameMap = Annotated[Path | None, typer.Option(
    "--name-map", metavar="FILE",
    help="With --mirror: source name prefix -> mirror name prefix (as for `mirror`).")]
Write = Annotated[bool, typer.Option(
    "--write", help="Rewrite the files in place (atomically) instead of printing a diff.")]
Diff = Annotated[bool, typer.Option(
    "--diff", help="Print a unified diff on stdout (the default).")]
Kustomize = Annotated[Path | None, typer.Option(
    "--kustomize", metavar="FILE", dir_okay=False,
    help="Write a kustomize images: list to FILE instead of editing Kubernetes manifests.")]
FailOnUnpinned = Annotated[bool, typer.Option(
    "--fail-on-unpinned", help="Exit 1 when any reference could not be pinned.")]


@handle_errors
def pin_command(paths: Paths, map_file: MapFile = None, mirror: Mirror = None,
                name_map: NameMap = None, write: Write = False, diff: Diff = False,
                kustomize: Kustomize = None, fail_on_unpinned: FailOnUnpinned = False,
                env: list[str] | None = COMPOSE_ENV_OPTION,
                env_file: list[Path] | None = COMPOSE_ENV_FILE_OPTION,
                allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
                registry_deadline: float | None = REGISTRY_DEADLINE_OPTION) -> None:
    """Rewrite image references in manifests, compose files and Dockerfiles to the mirror by
    digest, keeping the original as a comment; list every reference that cannot be pinned."""
    from hullguard.harden.mirror import pin

    resolver = _resolver(map_file, mirror, name_map)
    if write and diff:
        from hullguard.errors import InputError

        raise InputError("--write and --diff exclude each other", where="--write")
    check_output_file(kustomize, "--kustomize")
    if kustomize is not None:
        pin.check_kustomize_file(kustomize)
    try:
        result = pin.plan(paths, resolver, pin.PinOptions(kustomize=kustomize is not None))
    finally:
        getattr(resolver, "close", lambda: None)()
    _output(result, write, kustomize)
    _report(result)
    if fail_on_unpinned and result.unpinned:
        raise typer.Exit(EXIT_FINDINGS)


def _resolver(map_file: Path | None, mirror: str | None, name_map: Path | None) -> Any:
    from hullguard.errors import InputError
    from hullguard.harden.mirror import mapping, pin

    if (map_file is None) == (mirror is None):
        raise InputError("give exactly one of --map MAPPING and --mirror REGISTRY",
                         where="--map/--mirror",
                         hint="`hullguard mirror ... --mapping FILE` writes a mapping")
    if map_file is not None:
        if name_map is not None:
            raise InputError("--name-map only applies with --mirror", where="--name-map")
        return pin.MapResolver(mapping.read_mapping(map_file))
    names = mapping.load_name_map(name_map) if name_map is not None else None
    return pin.MirrorResolver(mapping.parse_target(mirror or ""), names)


def _output(result: PinResult, write: bool, kustomize: Path | None) -> None:
    from hullguard.harden.mirror import pin

    if kustomize is not None:
        write_output(pin.kustomize_text(result.kustomize), kustomize)
        eprint(f"wrote {len(result.kustomize)} kustomize image(s) to {kustomize}")
    if write:
        for file_plan in pin.write_plans(result.plans):
            eprint(f"wrote {file_plan.path}")
        return
    text = pin.unified_diff(result.plans)
    if text:
        write_output(text, None)


def _report(result: PinResult) -> None:
    for path, why in result.skipped:
        eprint(f"warning: {path}: {why}")
    show_warnings([f"{found.path}:{found.line}: not pinned: {found.text}: {why}"
                   for found, why in result.unpinned], limit=1000)
    already = sum(p.already for p in result.plans)
    changed = sum(1 for p in result.plans if p.changed)
    eprint(f"{len(result.pinned)} reference(s) pinned in {changed} file(s), {already} already "
           f"pinned, {len(result.unpinned)} not pinned")
