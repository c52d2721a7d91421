"""``hullguard graph``: lineage, blast radius and who-has over the store.

``graph index IMAGE...`` catalogs images into the store (layer chain + SBOM packages);
``inventory PATH --store URL`` saves where they run. The queries then never re-pull.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hullguard.cli.common import (
    check_format,
    check_output_file,
    check_store,
    eprint,
    handle_errors,
    option_quiet,
    progress,
    resolve_image,
    write_output,
)

FORMATS = ("tree", "json", "dot", "mermaid")  # = hullguard.graph.render.FORMATS (kept light)

graph_app = typer.Typer(help="Base-image lineage, blast radius and who-has, from the store.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")


StoreOption = Annotated[str | None, typer.Option(
    "--store", help="Store: SQLite path or postgresql:// DSN "
    "(default: $HULLGUARD_STORE or the user data directory).")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help=f"Output: {', '.join(FORMATS)}.")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", dir_okay=False, help="Write to FILE (atomically).")]


def _run(store: str | None, fmt: str, output: Path | None, query: Any) -> None:
    from hullguard.graph.render import render
    from hullguard.store.base import make_engine
    from hullguard.store.graph import StoreGraph

    check_format(fmt, FORMATS)
    check_output_file(output, "--output")
    check_store(store)
    with StoreGraph(make_engine(store, must_exist=True)) as source:
        for problem in source.problems:
            eprint(f"warning: {problem}")
        write_output(render(query(source), fmt), output)


@graph_app.command("blast-radius")
@handle_errors
def blast_radius_command(
    image: Annotated[str, typer.Argument(help="Image reference or digest (sha256:...).")],
    store: StoreOption = None,
    fmt: FormatOption = "tree",
    output: OutputOption = None,
) -> None:
    """Every image built on IMAGE (transitively, by layers and Dockerfile FROMs) and every
    workload, compose service and Dockerfile that uses them, with exposure and environment."""
    from hullguard.graph.queries import blast_radius

    _run(store, fmt, output, lambda source: blast_radius(source, image))


@graph_app.command("who-has")
@handle_errors
def who_has_command(
    package: Annotated[str, typer.Argument(
        help="NAME, TYPE:NAME, NAME@RANGE or TYPE:NAME@RANGE, e.g. openssl, openssl@<3.0.7, "
             "log4j-core@>=2.0,<2.17.1, pypi:requests@<2.31.")],
    store: StoreOption = None,
    fmt: FormatOption = "tree",
    output: OutputOption = None,
) -> None:
    """Every indexed image whose SBOM has PACKAGE (in the range), and where it runs."""
    from hullguard.graph.queries import who_has

    _run(store, fmt, output, lambda source: who_has(source, package))


@graph_app.command("lineage")
@handle_errors
def lineage_command(
    image: Annotated[str, typer.Argument(help="Image reference or digest.")],
    store: StoreOption = None,
    fmt: FormatOption = "tree",
    output: OutputOption = None,
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
    store: StoreOption = None,
    no_packages: Annotated[bool, typer.Option(
        "--no-packages", help="Index layer chains only (skip cataloging).")] = False,
    quiet: bool = option_quiet(),
) -> None:
    """Add images (layer chain, names, SBOM packages) to the store's lineage index."""
    from hullguard.catalog import catalog_source
    from hullguard.images import open_image
    from hullguard.store.base import make_engine
    from hullguard.store.graph import index_images

    check_store(store)
    engine = make_engine(store)
    with progress("indexing", quiet) as update:
        for text in images:
            update(f"indexing {text}")
            with open_image(resolve_image(text)) as source:
                sbom = None if no_packages else catalog_source(source)
                index_images(engine, [(source.info, sbom)])
            eprint(f"indexed {text}: {len(source.info.layers)} layers"
                   + ("" if sbom is None else f", {len(sbom.packages)} packages"))
