"""``hullguard mirror``: copy what the fleet runs to a registry you own, by digest, with its
signatures, attestations and referrers (docs/mirror.md). The work is in
:mod:`hullguard.harden.mirror`; this module parses flags and renders the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    EXIT_FINDINGS,
    REGISTRY_DEADLINE_OPTION,
    check_input_file,
    check_output_dir,
    check_output_file,
    eprint,
    handle_errors,
    printable,
    progress_enabled,
)
from hullguard.errors import InputError

if TYPE_CHECKING:
    from hullguard.harden.mirror.report import MirrorReport

INPUTS_HELP = ("Kubernetes manifests, compose files, Dockerfiles (FROM bases too), image "
               "lists or directories of them (the inventory), or image references.")


def register(app: typer.Typer) -> None:
    app.command("mirror")(mirror_command)


@handle_errors
def mirror_command(
    inputs: Annotated[list[str], typer.Argument(help=INPUTS_HELP, metavar="PATH|IMAGE...")],
    to: Annotated[str, typer.Option(
        "--to", metavar="REGISTRY[/PREFIX]",
        help="The mirror: a registry host and an optional repository prefix.")],
    platform: Annotated[list[str] | None, typer.Option(
        "--platform", metavar="OS/ARCH[/VARIANT]",
        help="Copy only these platforms of a multi-arch index (repeatable); the mirror then "
             "holds a NEW index with a new digest (reported).")] = None,
    all_platforms: Annotated[bool, typer.Option(
        "--all-platforms", help="Copy indexes whole, same digest (the default).")] = False,
    tags: Annotated[bool, typer.Option(
        "--tags", help="Also write each reference's tag at the mirror.")] = False,
    name_map: Annotated[Path | None, typer.Option(
        "--name-map", metavar="FILE",
        help="JSON/YAML object: source name prefix -> mirror name prefix.")] = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", metavar="FILE",
        help="Write the mapping file (source, digest, mirror reference, what was copied) "
             "that `hullguard pin` reads.")] = None,
    no_signatures: Annotated[bool, typer.Option(
        "--no-signatures", help="Do not copy .sig/.att/.sbom tags and referrers.")] = False,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, max=64, help="Images and blob transfers at once.")] = 4,
    chunk_size: Annotated[str, typer.Option(
        "--chunk-size", metavar="BYTES",
        help="Blobs larger than this go up in resumable chunks of this size (K/M/G "
             "suffixes; default 64M).")] = "64M",
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", metavar="DIR",
        help="Verified blobs and upload sessions kept for a rerun (default "
             "~/.cache/hullguard/mirror; emptied when a run completes).")] = None,
    docker_config: Annotated[str | None, typer.Option(
        "--docker-config", metavar="FILE",
        help="Docker config with credentials per registry (default "
             "$DOCKER_CONFIG/config.json or ~/.docker/config.json).")] = None,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Allow plain HTTP / unverified TLS to the registries.")] = False,
    output_format: Annotated[str, typer.Option(
        "--format", help="Report on stdout: text or json.")] = "text",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
    allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
) -> None:
    """Copy images to a registry you own, by digest and byte for byte, with their signatures,
    attestations and referrers; a rerun copies only what is missing. Exit 1 when an image
    was not copied (the report says why), e.g. at a source's rate limit."""
    from hullguard.harden.mirror.engine import MirrorOptions
    from hullguard.harden.mirror.mapping import load_name_map, parse_target
    from hullguard.harden.mirror.upload import UploadSettings
    from hullguard.harden.mirror.usecase import default_cache_dir, gather_sources, run_mirror
    from hullguard.model import Platform

    if output_format not in ("text", "json"):
        raise InputError(f"unknown format {output_format!r}", where="--format",
                         hint="text or json")
    if platform and all_platforms:
        raise InputError("--platform and --all-platforms exclude each other",
                         where="--platform")
    size = parse_size(chunk_size)
    cache = cache_dir or default_cache_dir()
    check_output_file(mapping, "--mapping")
    check_output_dir(cache, "--cache-dir")
    check_input_file(name_map, "--name-map")
    check_input_file(Path(docker_config) if docker_config else None, "--docker-config")
    options = MirrorOptions(
        target=parse_target(to), name_map=load_name_map(name_map) if name_map else {},
        platforms=tuple(Platform.parse(p) for p in platform or ()), tags=tags,
        trust=not no_signatures, jobs=jobs, docker_config=docker_config, insecure=insecure,
        cache_dir=cache,
        upload=UploadSettings(monolithic_limit=size, chunk_size=size, state_dir=cache))
    sources = gather_sources(inputs)
    for warning in sources.warnings:
        eprint(f"warning: {warning}")
    observer = _progress(quiet)
    try:
        report = run_mirror(sources.references, options, mapping, observer)  # type: ignore[arg-type]
    finally:
        observer.stop()
    _render(report, output_format, mapping)
    if not report.complete:
        raise typer.Exit(EXIT_FINDINGS)


def parse_size(text: str) -> int:
    """``16M`` -> 16777216; at least 64 KiB (a chunk smaller than that is all overhead)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = units.get(value[-1:], 1)
    number = value[:-1] if value[-1:] in units else value
    if not number.isdigit() or int(number) * factor < 64 << 10:
        raise InputError(f"{text!r} is not a size of at least 64K", where="--chunk-size")
    return int(number) * factor


class _Progress:
    """A rich progress bar on stderr (images done, bytes sent), only when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        self.task: Any = None
        self.enabled = enabled
        self.sent = 0

    def started(self, images: int) -> None:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[sent]}"),
                                console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("mirroring", total=images, sent="")
            self.bar.start()

    def transferred(self, size: int) -> None:
        self.sent += size
        if self.bar is not None:
            self.bar.update(self.task, sent=f"{self.sent / (1 << 20):.1f} MiB sent")

    def image_done(self, result: Any) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=printable(result.source[-50:]))

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _progress(quiet: bool) -> _Progress:
    from hullguard.harden.mirror.engine import Observer

    class Printer(_Progress, Observer):
        """The engine's Observer, drawn by :class:`_Progress`."""

    return Printer(progress_enabled(quiet))


def _render(report: MirrorReport, output_format: str, mapping: Path | None) -> None:
    if output_format == "json":
        sys.stdout.write(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    else:
        for line in text_lines(report):
            typer.echo(printable(line))
    if mapping is not None:
        eprint(f"mapping written to {mapping}")


def text_lines(report: MirrorReport) -> list[str]:
    lines = []
    for result in report.results:
        head = f"{result.status:12} {result.source}"
        if result.ok:
            lines.append(f"{head} -> {result.mirror}")
            lines += [f"{'':13}{item}" for item in result.copied]
            lines += [f"{'':13}note: {note}" for note in result.notes
                      if not note.startswith("tag ")]
        else:
            lines.append(f"{head}: {result.reason}")
    copied = sum(1 for r in report.results if r.status == "copied")
    present = sum(1 for r in report.results if r.status == "present")
    failed = len(report.results) - copied - present
    sent = sum(r.bytes_sent for r in report.results)
    lines.append(f"{copied} copied, {present} already at the mirror, {failed} not copied; "
                 f"{sent} bytes of blobs sent")
    if report.stopped_by and report.retry_at:
        lines.append(f"stopped at {report.stopped_by}'s rate limit: retry after "
                     f"{report.retry_at.isoformat(timespec='seconds')} "
                     f"({report.retry_after:.0f} s); rerunning copies only what is missing")
    return lines
