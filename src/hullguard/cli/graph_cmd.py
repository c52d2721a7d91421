"""``hullguard graph``: lineage, blast radius and who-has over the store.

``graph index IMAGE...`` catalogs images into the store (layer chain + SBOM packages);
``inventory PATH --store URL`` saves where they run. The queries then never re-pull.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hullguard.cli.common import eprint, handle_errors, option_quiet, progress, write_output
from hullguard.errors import InputError

FORMATS = ("tree", "json", "dot", "mermaid")

graph_app = typer.Typer(help="Base-image lineage, blast radius and who-has, from the store.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")


def _store_option() -> Any:
    return typer.Option("--store", help="Store: SQLite path or postgresql:// DSN "
                        "(default: $HULLGUARD_STORE or the user data directory).")


def _format_option() -> Any:
    return typer.Option("--format", "-f", help=f"Output: {', '.join(FORMATS)}.")


def _output_option() -> Any:
    return typer.Option("--output", "-o", dir_okay=False, help="Write to FILE (atomically).")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}",
                         where="--format")


def _run(store: str | None, fmt: str, output: Path | None, query: Any) -> None:
    from hullguard.graph.render import render
    from hullguard.store.graph import StoreGraph
    from hullguard.store.inventory import engine_for

    _check_format(fmt)
    with StoreGraph(engine_for(store)) as source:
        for problem in source.problems:
            eprint(f"warning: {problem}")
        write_output(render(query(source), fmt), output)


@graph_app.command("blast-radius")
@handle_errors
def blast_radius_command(
    image: Annotated[str, typer.Argument(help="Image reference or digest (sha256:...).")],
    store: Annotated[str | None, _store_option()] = None,
    fmt: Annotated[str, _format_option()] = "tree",
    output: Annotated[Path | None, _output_option()] = None,
) -> None:
    """Every image built on IMAGE (transitively, by layers and Dockerfile FROMs) and every
    workload, compose service and Dockerfile that uses them, with exposure and environment."""
    from hullguard.graph.queries import blast_radius

    _run(store, fmt, output, lambda source: blast_radius(source, image))


@graph_app.command("who-has")
@handle_errors
def who_has_command(
    package: Annotated[str, typer.Argument(
        help="[TYPE:]NAME[@RANGE], e.g. openssl, openssl@<3.0.7, "
             "log4j-core@>=2.0,<2.17.1, pypi:requests@<2.31.")],
    store: Annotated[str | None, _store_option()] = None,
    fmt: Annotated[str, _format_option()] = "tree",
    output: Annotated[Path | None, _output_option()] = None,
) -> None:
    """Every indexed image whose SBOM has PACKAGE (in the range), and where it runs."""
    from hullguard.graph.queries import who_has

    _run(store, fmt, output, lambda source: who_has(source, package))


@graph_app.command("lineage")
@handle_errors
def lineage_command(
    image: Annotated[str, typer.Argument(help="Image reference or digest.")],
    store: Annotated[str | None, _store_option()] = None,
    fmt: Annotated[str, _format_option()] = "tree",
    output: Annotated[Path | None, _output_option()] = None,
) -> None:
    """The bases IMAGE is built on (nearest first), the images built directly on it, and
    its declared Dockerfile bases."""
    from hullguard.graph.queries import lineage

    _run(store, fmt, output, lambda source: lineage(source, image))


@graph_app.command("index")
@handle_errors
def index_command(
    images: Annotated[list[str], typer.Argument(
        help="Images to index: docker-archive:PATH, oci-archive:PATH, oci:DIR[:TAG], REF.")],
    store: Annotated[str | None, _store_option()] = None,
    no_packages: Annotated[bool, typer.Option(
        "--no-packages", help="Index layer chains only (skip cataloging).")] = False,
    quiet: bool = option_quiet(),
) -> None:
    """Add images (layer chain, names, SBOM packages) to the store's lineage index."""
    from hullguard.catalog.engine import catalog_source
    from hullguard.images import open_image
    from hullguard.store.graph import index_images
    from hullguard.store.inventory import engine_for

    engine = engine_for(store)
    with progress("indexing", quiet) as update:
        for text in images:
            update(f"indexing {text}")
            with open_image(text) as source:
                sbom = None if no_packages else catalog_source(source)
                index_images(engine, [(source.info, sbom)])
            eprint(f"indexed {text}: {len(source.info.layers)} layers"
                   + ("" if sbom is None else f", {len(sbom.packages)} packages"))
