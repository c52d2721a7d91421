"""``hullguard respond`` (the breach-response run) and ``hullguard scan-fleet``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from hullguard.cli.common import eprint, handle_errors, printable, progress_enabled

if TYPE_CHECKING:
    from hullguard.respond.model import ImageResult, Incident
    from hullguard.respond.run import RespondOptions


def _image_map(pairs: list[str]) -> dict[str, str]:
    from hullguard.errors import InputError
    from hullguard.images.reference import parse_reference

    mapping = {}
    for pair in pairs:
        ref, sep, source = pair.partition("=")
        if not sep or not source:
            raise InputError(f"{pair!r} is not REF=SOURCE", where="--image")
        mapping[str(parse_reference(ref))] = source
    return mapping


def _options(paths: list[str], out: Path, db: str | None, images: list[str], offline: bool,
             workers: int, secrets: bool, kubeconfig: str | None, context: str | None,
             criticality: str | None) -> RespondOptions:
    from hullguard.respond.run import RespondOptions
    from hullguard.vuln.db import resolve_db_path

    db_path = resolve_db_path(db)
    return RespondOptions(paths, out, str(db_path) if db_path.exists() else "",
                          image_sources=_image_map(images), offline=offline, workers=workers,
                          secrets=secrets, kubeconfig=kubeconfig, context=context,
                          criticality_config=criticality)


def _demo_options(out: Path, workers: int) -> RespondOptions:
    from hullguard.demo import prepare_demo
    from hullguard.respond.run import STATE_DIR, RespondOptions

    demo = prepare_demo(out / STATE_DIR / "demo")
    return RespondOptions([str(p) for p in demo.paths], out, str(demo.db_path),
                          database_label=demo.label, image_sources=demo.image_sources,
                          offline=True, workers=workers)


def _progress_printer(total: int, quiet: bool) -> tuple[object, object]:
    """A rich progress bar on stderr (off when not a TTY or --quiet) and its update hook."""
    if not progress_enabled(quiet):
        return None, lambda _result: None
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("scanning images", total=total)

    def done(result: ImageResult) -> None:
        bar.update(task, advance=1, description=printable(result.name[-50:]))

    return bar, done


def _summary(incident: Incident, out: Path) -> str:
    counts = incident.priority_counts()
    not_scanned = sum(1 for i in incident.images if not i.scanned)
    queue = ", ".join(f"{p} {counts[p]}" for p in sorted(counts, key=lambda p: p.rank))
    lines = [f"incident {incident.id} ({incident.severity}): {len(incident.images)} images, "
             f"{not_scanned} not scanned; priority queue: {queue or 'empty'}"]
    lines += [f"  {item.priority} {item.workload or item.image}: {item.reason}"
              for item in incident.triage[:5]]
    lines.append(f"report: {out / 'report.html'}")
    lines.append(f"declaration: {out / 'declaration.md'}")
    return "\n".join(printable(line) for line in lines)


def register(app: typer.Typer) -> None:
    @app.command("respond")
    @handle_errors
    def respond_command(
        paths: list[str] = typer.Argument(None, help="Manifests, compose files, Dockerfiles, "
                                          "image lists or directories of them."),
        out: Path = typer.Option(Path("incident"), "--out", "-o", help="Incident folder."),
        demo: bool = typer.Option(False, "--demo", help="Run on the bundled demo fleet."),
        db: str = typer.Option(None, "--db", help="Advisory database (default: HULLGUARD_DB "
                               "or the user data dir)."),
        image: list[str] = typer.Option([], "--image", help="REF=SOURCE: scan SOURCE (e.g. "
                                        "docker-archive:web.tar) for reference REF. Repeatable."),
        offline: bool = typer.Option(False, "--offline", help="Never contact registries; "
                                     "references without --image are listed as not scanned."),
        cluster: bool = typer.Option(False, "--cluster", help="Also inventory the live "
                                     "cluster of the kubeconfig."),
        kubeconfig: str = typer.Option(None, "--kubeconfig", help="Kubeconfig file."),
        context: str = typer.Option(None, "--context", help="Kubeconfig context."),
        criticality: str = typer.Option(None, "--criticality-config",
                                        help="YAML mapping workloads to criticality."),
        workers: int = typer.Option(0, "--workers", "-j", help="Worker processes (0 = CPUs)."),
        no_secrets: bool = typer.Option(False, "--no-secrets", help="Skip secret scanning."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
    ) -> None:
        """Breach response: inventory, scan, lineage and triage into an incident folder."""
        from hullguard.errors import InputError
        from hullguard.respond.run import (
            build_incident,
            collect_inventory,
            scan_inventory,
        )
        from hullguard.respond.writer import write_incident

        if not demo and not paths and not cluster:
            raise InputError("give manifests/compose files/Dockerfiles, --cluster, or --demo")
        options = _demo_options(out, workers) if demo else _options(
            list(paths or []) + (["cluster:"] if cluster else []), out, db, image, offline,
            workers, not no_secrets, kubeconfig, context, criticality)
        inventory = collect_inventory(options)
        for issue in inventory.issues:
            eprint(f"warning: {issue}")
        bar, done = _progress_printer(len(inventory.images), quiet)
        if bar is not None:
            bar.start()  # type: ignore[attr-defined]
        try:
            results = scan_inventory(inventory, options, done)  # type: ignore[arg-type]
        finally:
            if bar is not None:
                bar.stop()  # type: ignore[attr-defined]
        incident = build_incident(inventory, results, options)
        write_incident(incident, out)
        typer.echo(_summary(incident, out))
