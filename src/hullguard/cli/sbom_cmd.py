"""``hullguard sbom IMAGE``: catalog an image and write an SBOM (table, JSON, CycloneDX, SPDX).

Only typer and cli.common are imported at module level: the catalog engine, cyclonedx-python-lib
and spdx-tools load inside the command, so ``hullguard --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    LAYER_CACHE_OPTION,
    OUTPUT_OPTION,
    PLATFORM_OPTION,
    REGISTRY_DEADLINE_OPTION,
    check_format,
    check_layer_cache,
    check_output_file,
    handle_errors,
    option_quiet,
    progress,
    resolve_image,
    show_warnings,
    write_output,
)
from hullguard.errors import InputError

if TYPE_CHECKING:
    from hullguard.images.api import SourceOptions
    from hullguard.model import Sbom

FORMAT_NAMES = ("table", "json", "cyclonedx-json", "spdx-json")  # = hullguard.sbom.FORMATS

IMAGE_HELP = (
    "Image reference: docker-archive:PATH, oci-archive:PATH, oci:DIR[:TAG], dir:PATH, "
    "rootfs:FILE (a root filesystem tarball), sbom:PATH (CycloneDX/SPDX JSON), registry:REF, "
    "a bare REF (alpine:3.18 means docker.io/library/alpine:3.18) or an existing path (its "
    "kind is detected and said on stderr)."
)


def register(app: typer.Typer) -> None:
    app.command("sbom")(sbom_command)


@handle_errors
def sbom_command(
    image: Annotated[str, typer.Argument(help=IMAGE_HELP)],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help=f"Output format: {', '.join(FORMAT_NAMES)}.")] = "table",
    output: Path | None = OUTPUT_OPTION,
    platform: str = PLATFORM_OPTION,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Allow plain HTTP / unverified TLS to a registry.")] = False,
    username: Annotated[str | None, typer.Option(
        "--username", "-u", help="Registry user name (with --password-stdin).")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the registry password from stdin.")] = False,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
    layer_cache: str = LAYER_CACHE_OPTION,
    quiet: bool = option_quiet(),
) -> None:
    """Catalog the packages inside IMAGE and write an SBOM (default: a readable table)."""
    from hullguard.sbom import FORMATS, render

    check_format(fmt, FORMATS)
    check_output_file(output, "--output")
    layer_cache = check_layer_cache(layer_cache)
    options = _source_options(platform, insecure, username, password_stdin)
    sbom = _catalog(resolve_image(image), options, quiet, layer_cache)
    # Warnings go to stderr (never into the SBOM stream); a hostile image can make many.
    show_warnings(sbom.warnings, more=" (all are listed in -f json)")
    write_output(render(sbom, fmt), output)


def _source_options(platform: str, insecure: bool, username: str | None,
                    password_stdin: bool) -> SourceOptions:
    from hullguard.images.api import SourceOptions
    from hullguard.model import Platform

    if password_stdin and not username:
        raise InputError("--password-stdin needs --username", where="--password-stdin")
    password = _read_password() if password_stdin else None
    return SourceOptions(platform=Platform.parse(platform), insecure=insecure,
                         username=username, password=password)


def _read_password() -> str:
    """The first line of stdin, like ``docker login --password-stdin``; never echoed."""
    text = sys.stdin.readline().rstrip("\r\n")
    if not text:
        raise InputError("no password on stdin", where="--password-stdin")
    return text


def _catalog(image: str, options: SourceOptions, quiet: bool, layer_cache: str) -> Sbom:
    from hullguard.catalog import catalog_image

    with progress(f"cataloging {image}", quiet) as update:
        return catalog_image(image, options, on_progress=update, layer_cache=layer_cache)

