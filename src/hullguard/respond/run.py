"""``respond``: inventory -> fleet scan -> lineage -> triage -> the incident folder."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hullguard.images.api import SourceOptions
from hullguard.model.inventory import Inventory, InventoryImage, Workload
from hullguard.respond.coverage import attach_coverage
from hullguard.respond.fleet import Journal, ScanJob, scan_fleet
from hullguard.respond.lineage import attach_bases, worst_blast_radius
from hullguard.respond.model import ImageResult, Incident
from hullguard.triage import DEFAULT_SLA, Sla, triage

STATE_DIR = ".hullguard-state"


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


def collect_inventory(options: RespondOptions) -> Inventory:
    from hullguard.inventory.collect import collect
    from hullguard.inventory.context import load_criticality_rules

    rules = load_criticality_rules(Path(options.criticality_config)) \
        if options.criticality_config else None
    return collect([Path(p) for p in options.paths], kubeconfig=options.kubeconfig,
                   context=options.context, cluster=options.cluster, criticality_rules=rules)


def _job(image: InventoryImage, options: RespondOptions) -> ScanJob:
    name = image.ref.name
    source = options.image_sources.get(name, "" if options.offline else name)
    return ScanJob(name, source, image.origin, options.db_path, options.secrets,
                   options.source_options, options.store_url)


def _offline_result(job: ScanJob) -> ImageResult:
    return ImageResult(job.name, job.source, job.origin,
                       error="offline, and no local image was given for it (--image REF=SOURCE)")


def scan_inventory(inventory: Inventory, options: RespondOptions,
                   on_done: Callable[[ImageResult], None] | None = None) -> list[ImageResult]:
    jobs = [_job(image, options) for image in inventory.images]
    runnable = [job for job in jobs if job.source]
    journal = Journal(options.out / STATE_DIR / "scans")
    done = {r.name: r for r in scan_fleet(runnable, workers=options.workers, journal=journal,
                                          on_done=on_done)}
    return [done.get(job.name) or _offline_result(job) for job in jobs]


def workloads_by_image(inventory: Inventory) -> dict[str, list[Workload]]:
    by_key = {w.key: w for w in inventory.workloads}
    return {image.ref.name: [by_key[k] for k in image.workload_keys if k in by_key]
            for image in inventory.images}


def build_incident(inventory: Inventory, results: Sequence[ImageResult],
                   options: RespondOptions) -> Incident:
    now = options.now or datetime.now(UTC)
    results = attach_coverage(attach_bases(results), options.db_path)
    running = workloads_by_image(inventory)
    findings = {r.name: r.findings for r in results if r.findings}
    queue = triage(findings, running, now, options.sla)
    blast = worst_blast_radius(results, running, queue)
    label = options.database_label or (options.db_path or "no advisory database (not matched)")
    warnings = () if options.db_path else (
        "no advisory database: vulnerabilities were not matched (run `hullguard db update`)",)
    return Incident(f"HG-{now:%Y%m%d-%H%M}", now, tuple(map(str, options.paths)), inventory,
                    tuple(results), tuple(queue), blast, label, warnings)


def respond(options: RespondOptions,
            on_done: Callable[[ImageResult], None] | None = None) -> Incident:
    """Run the whole flow and write the incident folder; returns the incident."""
    from hullguard.respond.writer import write_incident

    inventory = collect_inventory(options)
    results = scan_inventory(inventory, options, on_done)
    incident = build_incident(inventory, results, options)
    persist(incident, options)
    write_incident(incident, options.out)
    return incident


def persist(incident: Incident, options: RespondOptions) -> None:
    if options.store_url:
        from hullguard.respond.persist import record_fleet

        record_fleet(options.store_url, incident.inventory, incident.images, incident.database)
