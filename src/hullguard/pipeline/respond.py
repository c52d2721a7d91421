"""``respond`` and ``scan-fleet``: inventory -> fleet scan -> lineage -> triage -> the
incident folder -> the store. Returns values; the face (CLI, service) renders them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hullguard.errors import HullguardError, InputError
from hullguard.images.api import SourceOptions
from hullguard.model.inventory import Inventory, InventoryImage, Workload
from hullguard.model.problem import Problem
from hullguard.pipeline.executors import Executor
from hullguard.pipeline.fleet import scan_fleet
from hullguard.pipeline.jobs import ImageJob, JobOptions
from hullguard.pipeline.lineage import attach_bases, worst_blast_radius
from hullguard.respond.coverage import attach_coverage
from hullguard.respond.journal import Journal
from hullguard.respond.model import ImageResult, Incident
from hullguard.respond.writer import STATE_DIR
from hullguard.triage import DEFAULT_SLA, Sla, triage

if TYPE_CHECKING:
    from hullguard.forensics.ingest import IngestSpec
    from hullguard.forensics.ioc import Indicators
    from hullguard.harden.posture.incident import PostureOptions

__all__ = ["STATE_DIR", "FleetScan", "Observer", "RespondOptions", "respond",
           "scan_inventory_fleet"]


class Observer:
    """What a face hears while a use case runs (the CLI: warnings and a progress bar)."""

    def inventory(self, inventory: Inventory) -> None:
        """The inventory is collected; the scan starts now."""

    def image_done(self, result: ImageResult) -> None:
        """One image is finished (scanned or not)."""


@dataclass(frozen=True)
class RespondOptions:
    paths: Sequence[str]
    out: Path
    db_path: str = ""  # advisory database; "" = no vulnerability matching (reported)
    database_label: str = ""
    image_sources: Mapping[str, str] = field(default_factory=dict)  # reference -> local source
    offline: bool = False  # never contact a registry: unmapped references are not scanned
    workers: int = 0
    secrets: bool = True
    sla: Sla = DEFAULT_SLA
    now: datetime | None = None
    cluster: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    criticality_config: str | None = None
    source_options: SourceOptions = field(default_factory=SourceOptions)
    store_url: str = ""  # "" = do not use the store
    layer_cache: str = ""  # per-layer records: "" = the user cache directory, "off" = none
    executor: Executor | None = None  # None: in-process or a local pool, by ``workers``
    contain: bool = False  # write OUT/containment/ (hullguard contain on the new incident)
    remediate: bool = False  # write OUT/remediation/ (remediate; offline when ``offline``)
    logs: tuple[IngestSpec, ...] = ()  # --logs: ingested into OUT/forensics/
    sample_logs: Path | None = None  # the demo: its sample registry log, written and ingested
    indicators: Indicators | None = None  # --iocs/--yara: searched in the images and the logs
    posture: PostureOptions | None = None  # --posture: registry account audit into posture/


def collect_inventory(options: RespondOptions) -> Inventory:
    from hullguard.inventory.collect import collect
    from hullguard.inventory.context import load_criticality_rules

    rules = load_criticality_rules(Path(options.criticality_config)) \
        if options.criticality_config else None
    inventory = collect([Path(p) for p in options.paths], kubeconfig=options.kubeconfig,
                        context=options.context, cluster=options.cluster,
                        criticality_rules=rules)
    require_images(inventory, options)
    return inventory


def require_images(inventory: Inventory, options: RespondOptions) -> None:
    """An inventory without a single image is an error, not an all-clear incident."""
    if inventory.images:
        return
    inputs = [*map(str, options.paths), *(["the cluster"] if options.cluster else [])]
    reasons = "; ".join(str(issue) for issue in inventory.issues[:3])
    raise InputError(f"no image found in {', '.join(inputs) or 'the inputs'}"
                     + (f" ({reasons})" if reasons else ""),
                     hint="give Kubernetes manifests, kubectl JSON, compose files, "
                          "Dockerfiles or image lists")


def _job(image: InventoryImage, options: RespondOptions) -> ImageJob:
    name = image.ref.key
    source = options.image_sources.get(name, "" if options.offline else name)
    # No digest: a pinned reference is verified by the registry client itself, and the
    # inventory's digest may be an image index's, not the platform manifest's the job checks.
    return ImageJob(name, source, image.origin, "",
                    JobOptions(options.db_path, options.secrets, options.store_url,
                               source=options.source_options,
                               layer_cache=options.layer_cache))


OFFLINE = Problem("offline", message="offline, and no local image was given for it "
                                     "(--image REF=SOURCE)")


def _offline_result(job: ImageJob) -> ImageResult:
    return ImageResult(job.reference, job.source, job.origin, problem=OFFLINE)


def scan_inventory(inventory: Inventory, options: RespondOptions,
                   on_done: Callable[[ImageResult], None] | None = None) -> list[ImageResult]:
    jobs = [_job(image, options) for image in inventory.images]
    runnable = [job for job in jobs if job.source]
    from hullguard.respond.writer import recover_state

    recover_state(options.out)
    journal = Journal(options.out / STATE_DIR / "scans")
    done = {r.name: r for r in scan_fleet(runnable, workers=options.workers, journal=journal,
                                          on_done=on_done, executor=options.executor)}
    return [done.get(job.reference) or _offline_result(job) for job in jobs]


def workloads_by_image(inventory: Inventory) -> dict[str, list[Workload]]:
    by_key = {w.key: w for w in inventory.workloads}
    return {image.ref.key: [by_key[k] for k in image.workload_keys if k in by_key]
            for image in inventory.images}


def build_incident(inventory: Inventory, results: Sequence[ImageResult],
                   options: RespondOptions) -> Incident:
    now = options.now or datetime.now(UTC)
    results = attach_coverage(attach_bases(results), options.db_path)
    running = workloads_by_image(inventory)
    findings = {r.name: r.findings for r in results if r.findings}
    queue = triage(findings, running, now, options.sla)
    blast = worst_blast_radius(results, inventory, queue)
    label = options.database_label or (options.db_path or "no advisory database (not matched)")
    warnings: tuple[str, ...] = () if options.db_path else (
        "no advisory database: vulnerabilities were not matched (run `hullguard db update`)",)
    warnings += tuple(f"{r.name}: {w}" for r in results for w in r.warnings)
    return Incident(f"HG-{now:%Y%m%d-%H%M}", now, tuple(map(str, options.paths)), inventory,
                    tuple(results), tuple(queue), blast, label, warnings)


def respond(options: RespondOptions, observer: Observer | None = None) -> Incident:
    """Run the whole flow, write the incident folder, then record it in the store. A store
    failure never costs the folder: it is one more warning of the returned incident."""
    from hullguard.respond.writer import check_out, write_incident

    observer = observer or Observer()
    check_out(options.out)
    inventory = collect_inventory(options)
    observer.inventory(inventory)
    results = scan_inventory(inventory, options, observer.image_done)
    incident = build_incident(inventory, results, options)
    # The folder first: a store failure never costs it.
    incident = write_incident(incident, options.out, _extend(options))
    failure = persist(incident, options)
    return replace(incident, warnings=(*incident.warnings, failure)) if failure else incident


def _extend(options: RespondOptions) -> Callable[[Incident, Path], Incident] | None:
    """The steps run on the written incident inside the folder swap (None: none asked)."""
    if not (options.contain or options.remediate or options.logs or options.sample_logs
            or options.indicators or options.posture):
        return None
    from hullguard.pipeline.followups import FollowUpOptions, run_follow_ups

    steps = FollowUpOptions(options.contain, options.remediate, options.offline,
                            options.db_path, options.logs, options.sample_logs,
                            options.indicators, options.posture)
    return lambda incident, staging: run_follow_ups(incident, staging, steps)


@dataclass(frozen=True)
class FleetScan:
    inventory: Inventory
    results: list[ImageResult]
    warnings: list[str]  # per image, then the store's


def scan_inventory_fleet(options: RespondOptions, observer: Observer | None = None
                         ) -> FleetScan:
    """``scan-fleet``: inventory -> fleet scan -> coverage -> the store (no incident)."""
    observer = observer or Observer()
    inventory = collect_inventory(options)
    observer.inventory(inventory)
    results = attach_coverage(scan_inventory(inventory, options, observer.image_done),
                              options.db_path)
    warnings = [w for r in results for w in r.warnings]
    if options.store_url:
        warnings.append(record(options.store_url, inventory, results,
                               options.db_path or "none"))
    return FleetScan(inventory, results, [w for w in warnings if w])


def persist(incident: Incident, options: RespondOptions) -> str:
    """Record the incident's scans in the store (this process only: the one writer); "" or
    why it failed (the caller has written the folder already)."""
    if not options.store_url:
        return ""
    return record(options.store_url, incident.inventory, incident.images, incident.database)


def record(store_url: str, inventory: Inventory, results: Sequence[ImageResult],
           database: str) -> str:
    from sqlalchemy.exc import SQLAlchemyError

    from hullguard.respond.persist import record_fleet

    try:
        record_fleet(store_url, inventory, results, database)
    except (HullguardError, SQLAlchemyError, OSError) as error:
        reason = error.diagnostics() if isinstance(error, HullguardError) else \
            f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
        return f"the store was not updated ({reason}); the incident folder is complete"
    return ""
