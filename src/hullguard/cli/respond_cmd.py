"""``hullguard respond`` (the breach-response run) and ``hullguard scan-fleet``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from hullguard.cli.common import (
    ALLOW_PRIVATE_OPTION,
    COMPOSE_ENV_FILE_OPTION,
    COMPOSE_ENV_OPTION,
    EXIT_FINDINGS,
    FAIL_ON_UNCOVERED_HELP,
    LAYER_CACHE_OPTION,
    REGISTRY_DEADLINE_OPTION,
    check_format,
    check_input_file,
    check_layer_cache,
    check_output_dir,
    check_store,
    eprint,
    handle_errors,
    printable,
    progress_enabled,
    resolve_image,
)

if TYPE_CHECKING:
    from hullguard.model.inventory import Inventory
    from hullguard.pipeline.respond import Observer, RespondOptions
    from hullguard.respond.model import ImageResult, Incident

T = TypeVar("T")


def _image_map(pairs: list[str]) -> dict[str, str]:
    from hullguard.errors import InputError
    from hullguard.images.reference import parse_reference

    mapping = {}
    for pair in pairs:
        ref, sep, source = pair.partition("=")
        if not sep or not source:
            raise InputError(f"{pair!r} is not REF=SOURCE", where="--image")
        mapping[str(parse_reference(ref))] = resolve_image(source)  # a bare path: sniffed
    return mapping


def _options(paths: list[str], out: Path, db: str | None, images: list[str], offline: bool,
             workers: int, secrets: bool, cluster: bool, kubeconfig: str | None,
             context: str | None, criticality: str | None, store: str) -> RespondOptions:
    from hullguard.pipeline.respond import RespondOptions
    from hullguard.vuln.db import default_db_path

    db_path = Path(db) if db else default_db_path()
    if db and db_path.exists():
        check_input_file(db_path, "--db")  # a directory; a missing one gets the hint below
    if db and not db_path.exists():
        from hullguard.errors import DatabaseError

        raise DatabaseError("no advisory database here", where=str(db_path),
                            hint="create one with `hullguard db import` or `hullguard db update`")
    return RespondOptions(paths, out, str(db_path) if db_path.exists() else "",
                          image_sources=_image_map(images), offline=offline, workers=workers,
                          secrets=secrets, cluster=cluster, kubeconfig=kubeconfig,
                          context=context, criticality_config=criticality, store_url=store)


EXECUTORS = ("inprocess", "local", "celery")


def _with_executor(options: RespondOptions, name: str, broker: str | None) -> RespondOptions:
    """The executor named by --executor ("" = by --workers, as before); celery checks the
    broker now, within its bound, before any work."""
    from dataclasses import replace

    from hullguard.errors import InputError

    if name and name not in EXECUTORS:
        raise InputError(f"unknown executor {name!r}", where="--executor",
                         hint=f"one of {', '.join(EXECUTORS)}")
    if broker and name != "celery":
        raise InputError("--broker needs --executor celery", where="--broker")
    if name == "inprocess":
        from hullguard.pipeline.executors import InProcessExecutor

        return replace(options, executor=InProcessExecutor())
    if name == "local":
        import os

        from hullguard.pipeline.executors import LocalPoolExecutor

        return replace(options, executor=LocalPoolExecutor(options.workers or os.cpu_count()
                                                           or 1))
    if name == "celery":
        return replace(options, executor=_celery(broker))
    return options


def _celery(broker: str | None) -> Any:
    import os

    from hullguard.errors import InputError

    broker = broker or os.environ.get("HULLGUARD_BROKER", "")  # not an envvar of --broker:
    # a set $HULLGUARD_BROKER must not turn the default executor's run into a mistake
    if not broker:
        raise InputError("--executor celery needs a broker", where="--broker",
                         hint="--broker amqp://guest:guest@HOST:5672// or redis://HOST:6379/0 "
                              "(or $HULLGUARD_BROKER)")
    try:
        from hullguard.workers.app import check_broker
        from hullguard.workers.client import CeleryExecutor
    except ImportError as error:
        raise InputError(f"the workers extra is not installed ({error.name})",
                         where="--executor", hint="pip install 'hullguard[workers]'") from None
    executor = CeleryExecutor(check_broker(broker))
    executor.check_broker()
    return executor


def _demo_options(out: Path, workers: int, secrets: bool) -> RespondOptions:
    from hullguard.demo import prepare_demo
    from hullguard.pipeline.respond import STATE_DIR, RespondOptions

    state = out / STATE_DIR / "demo"
    demo = prepare_demo(state)
    # The demo keeps its own store so it never mixes demo images into the user's store.
    return RespondOptions([str(p) for p in demo.paths], out, str(demo.db_path),
                          database_label=demo.label, image_sources=demo.image_sources,
                          offline=True, workers=workers, secrets=secrets,
                          store_url=f"sqlite:///{(state / 'store.sqlite').resolve()}",
                          sample_logs=state / "registry.log")


def _run(use_case: Callable[[RespondOptions, Observer], T], options: RespondOptions,
         quiet: bool) -> T:
    """Run a use case, printing inventory issues as warnings, then a rich progress bar on
    stderr (off when not a TTY or --quiet) while the images are scanned."""
    from hullguard.pipeline.respond import Observer

    class Printer(Observer):
        bar: Any = None
        task: Any = None

        def inventory(self, inventory: Inventory) -> None:
            for issue in inventory.issues:
                eprint(f"warning: {issue}")
            if progress_enabled(quiet):
                from rich.progress import Progress

                self.bar = Progress(transient=True)
                self.task = self.bar.add_task("scanning images", total=len(inventory.images))
                self.bar.start()

        def image_done(self, result: ImageResult) -> None:
            if self.bar is not None:
                self.bar.update(self.task, advance=1, description=printable(result.name[-50:]))

    printer = Printer()
    try:
        return use_case(options, printer)
    finally:
        if printer.bar is not None:
            printer.bar.stop()


PER_PRIORITY_SHOWN = 5


def _queue_lines(incident: Incident) -> list[str]:
    """Up to PER_PRIORITY_SHOWN items of every priority (P3 included), each naming the image
    and the workload."""
    lines = []
    for priority in sorted(incident.priority_counts(), key=lambda p: p.rank):
        items = [i for i in incident.triage if i.priority is priority]
        for item in items[:PER_PRIORITY_SHOWN]:
            where = f"{item.workload} ({item.image})" if item.workload else item.image
            lines.append(f"  {item.priority} {where}: {item.reason}")
        if len(items) > PER_PRIORITY_SHOWN:
            lines.append(f"  {priority}: ... and {len(items) - PER_PRIORITY_SHOWN} more "
                         "(see the report)")
    return lines


def _summary(incident: Incident, out: Path, store_url: str) -> str:
    counts = incident.priority_counts()
    not_scanned = sum(1 for i in incident.images if not i.scanned)
    partly = incident.partly_checked()
    queue = ", ".join(f"{p} {counts[p]}" for p in sorted(counts, key=lambda p: p.rank))
    lines = [f"incident {incident.id} ({incident.severity}): {len(incident.images)} images, "
             f"{not_scanned} not scanned, {len(partly)} not fully checked; "
             f"priority queue: {queue or 'empty'}"]
    lines += _queue_lines(incident)
    if partly:
        lines.append(f"not covered: {len(partly)} images in "
                     f"{len(incident.unchecked_workloads())} workloads were not fully checked "
                     "(see Not covered in the declaration)")
    lines.append(f"report: {out / 'report.html'}")
    lines.append(f"declaration: {out / 'declaration.md'}")
    if store_url and incident.blast:
        lines.append(f"blast radius: hullguard graph blast-radius {incident.blast.root} "
                     f"--store {store_url}")
    return "\n".join(printable(line) for line in lines)


Paths = Annotated[list[str] | None, typer.Argument(
    help="Manifests, kubectl JSON dumps, compose files, Dockerfiles, image lists, or "
         "directories of them.")]
Db = Annotated[str | None, typer.Option("--db", help="Advisory database (default: "
                                       "$HULLGUARD_DB or the user data dir).")]
Images = Annotated[list[str] | None, typer.Option(
    "--image", help="REF=SOURCE: scan SOURCE (e.g. docker-archive:web.tar) for the "
                    "reference REF instead of pulling it. Repeatable.")]
Offline = Annotated[bool, typer.Option(
    "--offline", help="Never contact registries; references without --image are listed as "
                      "not scanned.")]
Cluster = Annotated[bool, typer.Option("--cluster", help="Also inventory the live cluster.")]
Kubeconfig = Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file.")]
Context = Annotated[str | None, typer.Option("--context", help="Kubeconfig context.")]
CriticalityConfig = Annotated[str | None, typer.Option(
    "--criticality-config", help="YAML file mapping namespace/workload globs to criticality.")]
Workers = Annotated[int, typer.Option("--workers", "-j", help="Worker processes (0 = CPUs).")]
NoSecrets = Annotated[bool, typer.Option("--no-secrets", help="Skip secret scanning.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
ExecutorOption = Annotated[str, typer.Option(
    "--executor", help="Where images are scanned: inprocess, local (worker processes; the "
                       "default picks by --workers) or celery (hullguard worker processes "
                       "behind --broker).")]
BrokerOption = Annotated[str | None, typer.Option(
    "--broker",
    help="Celery broker for --executor celery: amqp://... (RabbitMQ) or redis://... "
         "(default: $HULLGUARD_BROKER).")]
Store = Annotated[str | None, typer.Option(
    "--store", help="Store URL or SQLite path (default: $HULLGUARD_STORE or store.sqlite in "
                    "the user data dir).")]
SlaOption = Annotated[str | None, typer.Option(
    "--sla", help="Deadlines per priority, e.g. P0=4h,P1=1d,P2=2w,P3=none (default "
                  "P0=6h,P1=24h,P2=7d,P3=none: next cycle).")]
NoStore = Annotated[bool, typer.Option("--no-store", help="Do not read or write the store.")]
FailOnUncovered = Annotated[bool, typer.Option("--fail-on-uncovered",
                                               help=FAIL_ON_UNCOVERED_HELP)]


def warn_uncovered(results: list[ImageResult]) -> bool:
    """One warning per package source the database could not check, across the fleet (not
    per package or image); then one per image whose catalog skipped content. True when
    anything went unchecked."""
    from hullguard.vuln.coverage import SourceCoverage

    by_source: dict[str, list[tuple[str, SourceCoverage]]] = {}
    for result in results:
        for item in result.uncovered:
            by_source.setdefault(item.source, []).append((result.name, item))
    for source, images in sorted(by_source.items()):
        names = ", ".join(name for name, _ in images[:5]) + (" ..." if len(images) > 5 else "")
        first = images[0][1]
        eprint(f"warning: {source}: {first.reason}; {sum(c.packages for _, c in images)} "
               f"packages in {len(images)} images were NOT checked for vulnerabilities "
               f"({names}); fix: {first.fix}")
    for result in results:
        if result.scanned and result.skipped:
            eprint(f"warning: {result.name}: the catalog skipped content "
                   f"({len(result.skipped)} warnings); the image was only partly checked")
    return bool(by_source) or any(r.scanned and r.skipped for r in results)


ContainFlag = Annotated[bool | None, typer.Option(
    "--contain/--no-contain", help="Also write OUT/containment/ (`hullguard contain` on the "
                                   "new incident; default: on with --demo, else off).")]
LogsOption = Annotated[list[str] | None, typer.Option(
    "--logs", metavar="SOURCE:FILE", help="Ingest this log into OUT/forensics/ and add a "
    "Forensics section (first pulls, push anomalies); repeatable; `hullguard forensics "
    "sources` lists the sources.")]
IocsOption = Annotated[Path | None, typer.Option(
    "--iocs", help="Indicators file (as `hullguard forensics ioc --iocs`): search every scanned "
                   "image and the --logs for them; hits go in the Forensics section.")]
YaraOption = Annotated[Path | None, typer.Option(
    "--yara", help="YARA rule file or folder, searched like --iocs.")]


def _indicators(iocs: Path | None, yara: Path | None) -> Any:
    """The indicators of --iocs and --yara, loaded (and checked) before any work."""
    from hullguard.forensics.ioc import Indicators, load_iocs, load_yara

    found = Indicators()
    if iocs:
        check_input_file(iocs, "--iocs")
        load_iocs(iocs, found)
    if yara:
        load_yara(yara, found)
    return found


PostureOption = Annotated[list[str] | None, typer.Option(
    "--posture", metavar="TARGET", help="Also audit registry accounts into OUT/posture/ "
    "(`hullguard posture`): dockerhub:ORG, harbor:URL or registry:CONFIG; repeatable; same "
    "credentials as `hullguard posture` (HULLGUARD_DOCKERHUB_TOKEN, HULLGUARD_HARBOR_*).")]
PostureLevelOption = Annotated[str, typer.Option(
    "--posture-level", help="Hardening level for --posture: L1, L2 or L3.")]
PostureApiOption = Annotated[str, typer.Option(
    "--posture-api-url", help="Docker Hub API base URL for --posture dockerhub:ORG.")]
PostureCaOption = Annotated[Path | None, typer.Option(
    "--posture-ca-file", exists=True, dir_okay=False,
    help="CA certificate of Harbor's TLS for --posture harbor:URL.")]


def _posture(targets: list[str] | None, level: str, api_url: str, ca_file: Path | None,
             offline: bool) -> Any:
    """--posture and its knobs, checked before any work (an offline run reads config files
    only: the Docker Hub and Harbor audits need their APIs)."""
    from hullguard.errors import InputError
    from hullguard.harden.posture.incident import PostureOptions, PostureTarget
    from hullguard.lint.registry import parse_level

    parsed = tuple(PostureTarget.parse(text) for text in targets or ())
    online = [str(t) for t in parsed if t.needs_network]
    if offline and online:
        raise InputError(f"--posture {online[0]} reads an API, and --offline forbids the "
                         "network", where="--posture", hint="drop --offline, or audit only "
                                                            "registry:CONFIG targets")
    for target in parsed:
        if target.platform == "registry":
            check_input_file(Path(target.value), "--posture")
    return PostureOptions(parsed, parse_level(level), api_url, ca_file) if parsed else None


RemediateFlag = Annotated[bool | None, typer.Option(
    "--remediate/--no-remediate", help="Also write OUT/remediation/ (`hullguard remediate` on "
                                       "the new incident, offline with --offline; default: "
                                       "on with --demo, else off).")]


def _with_follow_ups(options: RespondOptions, demo: bool, contain: bool | None,
                     remediate: bool | None) -> RespondOptions:
    """--contain/--remediate, each on by default for the demo only (a real run asks)."""
    from dataclasses import replace

    return replace(options, contain=demo if contain is None else contain,
                   remediate=demo if remediate is None else remediate)


def _store_url(store: str | None, no_store: bool) -> str:
    from hullguard.store.base import default_store_url

    return "" if no_store else (store or default_store_url())


def register(app: typer.Typer) -> None:
    @app.command("respond")
    @handle_errors
    def respond_command(
        paths: Paths = None,
        out: Annotated[Path, typer.Option("--out", "-o", help="Incident folder.")] = Path(
            "incident"),
        demo: Annotated[bool, typer.Option("--demo", help="Run on the bundled demo fleet "
                                           "(offline, own store, containment and "
                                           "remediation); only --out, --workers, "
                                           "--no-secrets, --sla, --fail-on-uncovered, "
                                           "--contain, --remediate (and their --no- "
                                           "forms), --posture (and its --posture-* "
                                           "flags) and --quiet apply.")] = False,
        db: Db = None, image: Images = None, offline: Offline = False,
        cluster: Cluster = False, kubeconfig: Kubeconfig = None, context: Context = None,
        criticality: CriticalityConfig = None, workers: Workers = 0,
        no_secrets: NoSecrets = False, store: Store = None, no_store: NoStore = False,
        sla: SlaOption = None, fail_on_uncovered: FailOnUncovered = False,
        quiet: Quiet = False,
        registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
        allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
        env: list[str] | None = COMPOSE_ENV_OPTION,
        env_file: list[Path] | None = COMPOSE_ENV_FILE_OPTION,
        contain: ContainFlag = None, remediate: RemediateFlag = None,
        logs: LogsOption = None, iocs: IocsOption = None, yara: YaraOption = None,
        posture: PostureOption = None, posture_level: PostureLevelOption = "L1",
        posture_api_url: PostureApiOption = "https://hub.docker.com",
        posture_ca_file: PostureCaOption = None,
        layer_cache: str = LAYER_CACHE_OPTION,
        executor: ExecutorOption = "", broker: BrokerOption = None,
    ) -> None:
        """Breach response: inventory, fleet scan, secrets, lineage and triage, written as an
        incident folder (declaration.md, report.html, findings.json, findings.sarif, sboms/)."""
        from hullguard.errors import InputError
        from hullguard.pipeline.respond import respond
        from hullguard.respond.writer import check_out

        if not demo and not paths and not cluster:
            raise InputError("give manifests/compose files/Dockerfiles, --cluster, or --demo")
        check_output_dir(out, "--out")
        if not demo:
            check_store(_store_url(store, no_store))
            check_input_file(Path(criticality) if criticality else None, "--criticality-config")
        check_out(out)
        options = _demo_options(out, workers, not no_secrets) if demo else _options(
            list(paths or []), out, db, image or [], offline, workers, not no_secrets,
            cluster, kubeconfig, context, criticality, _store_url(store, no_store))
        if sla:
            from dataclasses import replace

            from hullguard.triage import parse_sla

            options = replace(options, sla=parse_sla(sla))
        options = _with_follow_ups(options, demo, contain, remediate)
        from dataclasses import replace

        options = replace(options, layer_cache=check_layer_cache(layer_cache))
        if logs and not demo:
            from hullguard.forensics.ingest import IngestSpec

            options = replace(options, logs=tuple(IngestSpec.parse(text) for text in logs))
        if iocs or yara:
            options = replace(options, indicators=_indicators(iocs, yara))
        if posture:
            options = replace(options, posture=_posture(
                posture, posture_level, posture_api_url, posture_ca_file,
                offline and not demo))
        options = _with_executor(options, executor, broker)
        incident = _run(respond, options, quiet)
        _warn(incident.warnings)
        unchecked = warn_uncovered(list(incident.images))
        typer.echo(_summary(incident, out, options.store_url))
        if fail_on_uncovered and unchecked:
            raise typer.Exit(EXIT_FINDINGS)

    @app.command("scan-fleet")
    @handle_errors
    def scan_fleet_command(
        paths: Paths = None, db: Db = None, image: Images = None, offline: Offline = False,
        cluster: Cluster = False, kubeconfig: Kubeconfig = None, context: Context = None,
        state: Annotated[Path, typer.Option(
            "--state", help="Folder for resumable progress (rerun to resume).")] = Path(
            ".hullguard-fleet"),
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
        workers: Workers = 0, no_secrets: NoSecrets = False, store: Store = None,
        no_store: NoStore = False, fail_on_uncovered: FailOnUncovered = False,
        quiet: Quiet = False,
        registry_deadline: float | None = REGISTRY_DEADLINE_OPTION,
        allow_private_registries: bool = ALLOW_PRIVATE_OPTION,
        env: list[str] | None = COMPOSE_ENV_OPTION,
        env_file: list[Path] | None = COMPOSE_ENV_FILE_OPTION,
        layer_cache: str = LAYER_CACHE_OPTION,
        executor: ExecutorOption = "", broker: BrokerOption = None,
    ) -> None:
        """Scan every distinct image of the inventory in parallel (resumable; one bad image
        is reported as not scanned and the rest continue). Exit 0; 1 with
        --fail-on-uncovered when packages went unchecked; 2 on errors."""
        from hullguard.pipeline.respond import scan_inventory_fleet

        check_format(fmt, FLEET_FORMATS)
        check_output_dir(state, "--state")
        check_store(_store_url(store, no_store))
        options = _options(list(paths or []), state, db, image or [], offline, workers,
                           not no_secrets, cluster, kubeconfig, context, None,
                           _store_url(store, no_store))
        from dataclasses import replace

        options = replace(options, layer_cache=check_layer_cache(layer_cache))
        options = _with_executor(options, executor, broker)
        fleet = _run(scan_inventory_fleet, options, quiet)
        results = fleet.results
        _warn(fleet.warnings)
        unchecked = warn_uncovered(results)
        typer.echo(_fleet_table(results) if fmt == "table" else _fleet_json(results))
        if fail_on_uncovered and unchecked:
            raise typer.Exit(EXIT_FINDINGS)


FLEET_FORMATS = ("table", "json")


def _fleet_status(row: dict[str, Any]) -> str:
    if not row["scanned"]:
        return f"NOT SCANNED: {row['error']}"
    status = "scanned" + (" (reused)" if row["reused"] else "")
    if row["not_checked"]:
        status += f"; NOT COVERED: {row['not_checked']} packages not checked"
    if row["skipped"]:
        status += f"; content skipped ({len(row['skipped'])} warnings)"
    return status


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        if warning:
            eprint(printable(f"warning: {warning}"))


def _fleet_rows(results: list[ImageResult]) -> list[dict[str, object]]:
    from hullguard.vuln.coverage import coverage_dict

    return [{"image": r.name, "scanned": r.scanned, "digest": r.digest,
             "packages": len(r.sbom.packages) if r.sbom else 0, "findings": len(r.findings),
             "secrets": len(r.secrets), "error": r.error, "reused": r.reused,
             "coverage": [coverage_dict(c) for c in r.coverage], "skipped": r.skipped,
             "not_checked": sum(c.packages for c in r.uncovered)}
            for r in results]


def _fleet_json(results: list[ImageResult]) -> str:
    import json

    return json.dumps({"images": _fleet_rows(results)}, indent=2)


def _fleet_table(results: list[ImageResult]) -> str:
    lines = [f"{'IMAGE':60} {'PACKAGES':>8} {'VULNS':>6} {'SECRETS':>7}  STATUS"]
    for row in _fleet_rows(results):
        status = _fleet_status(row)
        lines.append(f"{str(row['image'])[:60]:60} {row['packages']:>8} {row['findings']:>6} "
                     f"{row['secrets']:>7}  {status}")
    return printable("\n".join(lines))
