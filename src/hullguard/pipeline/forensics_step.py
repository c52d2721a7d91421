"""respond's forensics step: ingest the logs given with ``--logs`` into the incident's
``forensics/`` case database (inside the folder swap), then ask it the first pull of each
fleet digest with findings and the push anomalies. DuckDB is imported only here, lazily."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hullguard.respond.model import (
    FirstPull,
    ForensicsSummary,
    ImageResult,
    IocHit,
    IocIndicator,
    LogAnomaly,
)

if TYPE_CHECKING:
    import duckdb

    from hullguard.forensics.ingest import IngestSpec
    from hullguard.forensics.ioc import Indicators
    from hullguard.forensics.joins import IndicatorHit
    from hullguard.forensics.model import IngestSummary

FOLDER = "forensics"


def run_forensics(images: Sequence[ImageResult], staging: Path, specs: Sequence[IngestSpec],
                  indicators: Indicators | None = None,
                  workloads: Mapping[str, Sequence[str]] | None = None) -> ForensicsSummary:
    """The summary, or one with ``error`` set (and no ``forensics/``) when the step failed."""
    try:
        summary = _logs(images, staging, specs) if specs else ForensicsSummary()
        return replace(summary, **_iocs(images, staging if specs else None, indicators,
                                        workloads or {})) if indicators else summary
    except Exception as error:  # any failure here must not cost the incident folder
        from hullguard.pipeline.followups import reason

        shutil.rmtree(staging / FOLDER, ignore_errors=True)
        return ForensicsSummary(error=reason(error))


def _logs(images: Sequence[ImageResult], staging: Path,
          specs: Sequence[IngestSpec]) -> ForensicsSummary:
    from hullguard.forensics import db
    from hullguard.forensics.ingest import ingest

    ingested = ingest(staging, specs)
    con = db.open_read(staging)
    try:
        return _summary(con, ingested, images, db.database_path(staging), staging)
    finally:
        con.close()


def _iocs(images: Sequence[ImageResult], case: Path | None, indicators: Indicators,
          workloads: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """--iocs/--yara over every scanned image (all layers, deleted files too) and the logs;
    an image that cannot be opened is a warning, the others are still searched. The hits
    are joined to the workloads and the first sighting in the logs."""
    from hullguard.errors import HullguardError
    from hullguard.forensics.ioc import IocReport, ioc_scan, join_report, scan_logs
    from hullguard.forensics.joins import fleet_from_results

    searched, joined = [], IocReport()
    for image in (i for i in images if i.scanned and i.source):
        try:
            report = ioc_scan([image.source], indicators)
        except HullguardError as error:
            joined.warnings.append(f"{image.name}: not searched for indicators: {error}")
            continue
        searched.append(image.name)
        joined.warnings += report.warnings
        joined.matches += [replace(m, target=image.name) for m in report.matches]
        joined.digests[image.name] = image.digest
    if case is not None:
        searched.append("logs")
        joined.matches += scan_logs(case, indicators)
    join_report(joined, case, fleet_from_results(((i.name, i.digest) for i in images),
                                                 workloads))
    return {"ioc_searched": tuple(searched), "ioc_hits": tuple(
                IocHit("logs" if m.state == "log" else m.target, m.path, m.state, m.indicator,
                       m.detail) for m in joined.matches),
            "ioc_warnings": tuple(joined.warnings),
            "ioc_indicators": tuple(_indicator(h) for h in joined.indicators)}


def _indicator(hit: IndicatorHit) -> IocIndicator:
    return IocIndicator(hit.indicator, tuple(hit.images), tuple(hit.workloads), hit.log_records,
                        _iso(hit.first_seen) if hit.first_seen else "", hit.first_seen_by)


def _summary(con: duckdb.DuckDBPyConnection, ingested: IngestSummary,
             images: Sequence[ImageResult], database: Path, staging: Path) -> ForensicsSummary:
    from hullguard.forensics.queries import push_anomalies

    files = tuple(f"{f.source}: {Path(f.path).name} ({f.events} events, {f.bad} bad)"
                  for f in ingested.files)
    pulls, missing = [], []
    for image in compromised(images):
        found = first_pull(con, image)
        if found:
            pulls.append(found)
        else:
            missing.append(image.name)
    anomalies = tuple(LogAnomaly(a.kind, a.subject, a.detail, _iso(a.first), _iso(a.last),
                                 a.count) for a in push_anomalies(con))
    return ForensicsSummary(str(database.relative_to(staging)), ingested.total_events, files,
                            tuple(pulls), tuple(missing), anomalies)


def write_sample_logs(images: Sequence[ImageResult], path: Path) -> Path:
    """The demo's sample day of registry logs for its own images (demo/registry_logs.py)."""
    from hullguard.demo.registry_logs import FLEET_HOST, fleet_day
    from hullguard.forensics.sources.base import split_image

    fleet = [(split_image(i.name)[1], i.digest) for i in compromised(images)
             if split_image(i.name)[0] == FLEET_HOST]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in fleet_day(sorted(fleet))), "utf-8")
    return path


def compromised(images: Sequence[ImageResult]) -> list[ImageResult]:
    """Scanned images with a digest and any finding or leaked secret."""
    return [i for i in images if i.scanned and i.digest and (i.findings or i.secrets)]


def first_pull(con: duckdb.DuckDBPyConnection, image: ImageResult) -> FirstPull | None:
    from hullguard.forensics.queries import pulls_of
    from hullguard.forensics.sources.base import split_image

    registry, repository, _, _ = split_image(image.name)
    target = f"{registry + '/' if registry else ''}{repository}@{image.digest}"
    groups = [g for g in pulls_of(con, target) if g.digest == image.digest]
    if not groups:
        return None
    group = groups[0]
    return FirstPull(image.name, image.digest, _iso(group.first),
                     _earliest(group.by_actor, group.by_client, group.by_user_agent),
                     group.count)


def _earliest(*buckets: list[dict[str, Any]]) -> str:
    """Who made the first pull: the actor, client and user agent whose first pull is it."""
    parts = [min(bucket, key=lambda row: row["first"])["value"] for bucket in buckets if bucket]
    return " / ".join(str(p) for p in parts if p)


def _iso(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
