"""The store's read models for the service (dashboard pages and API): plain values, no HTML;
the one place the service's pages read the store, as repository functions (no SQL elsewhere).

Images are the store's ``images`` rows (keyed by manifest digest, else config digest); their
findings are those of their latest scan; names come from the lineage index; workloads from the
inventory links. Queries are bounded (``limit``) so a 100,000-image store pages, not loads."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hullguard.model import Severity
from hullguard.store.models import (
    FindingRecord,
    GraphImageRecord,
    GraphLinkRecord,
    GraphPackageRecord,
    ImageRecord,
    NameRecord,
    OccurrenceRecord,
    SbomRecord,
    ScanRecord,
    WorkloadRecord,
)

MAX_ROWS = 500
SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")


@dataclass(frozen=True)
class ImageRow:
    key: str  # the images.key: manifest digest, else config digest, else kind:reference
    names: tuple[str, ...]
    counts: dict[str, int]  # severity -> active findings in the latest scan
    scanned_at: datetime | None
    workloads: int = 0
    internet_facing: bool = False

    @property
    def title(self) -> str:
        return self.names[0] if self.names else self.key

    @property
    def worst(self) -> str:
        return next((s for s in SEVERITIES if self.counts.get(s)), "none")


@dataclass(frozen=True)
class Overview:
    images: int
    scanned: int
    workloads: int
    internet_facing: int
    findings: dict[str, int]
    last_scan: datetime | None
    databases: tuple[str, ...]
    riskiest: tuple[ImageRow, ...]


@dataclass(frozen=True)
class FindingView:
    id: str
    aliases: tuple[str, ...]
    package: str
    version: str
    severity: str
    fixed_versions: tuple[str, ...]
    suppressed_by: str = ""


@dataclass(frozen=True)
class WorkloadView:
    key: str
    namespace: str
    kind: str
    name: str
    environment: str
    criticality: str
    internet_facing: bool
    container: str = ""


@dataclass(frozen=True)
class ImageDetail:
    row: ImageRow
    digest: str
    reference: str
    names_over_time: tuple[tuple[str, datetime, datetime], ...]
    findings: tuple[FindingView, ...]
    layers: tuple[tuple[int, str, str], ...]  # index, digest, created_by
    packages: tuple[tuple[str, str, str], ...]  # name, version, type
    base: str  # the base image's names ("" = none indexed)
    workloads: tuple[WorkloadView, ...]
    user: str = ""
    distro: str = ""


@dataclass(frozen=True)
class SearchHit:
    image: ImageRow
    matched: str  # what matched: "CVE-... in pkg@1.2" or "pkg 1.2 (python)"


@dataclass(frozen=True)
class Change:
    image: ImageRow
    new: tuple[FindingView, ...]
    resolved: tuple[FindingView, ...]


@dataclass(frozen=True)
class QueueRow:
    image: ImageRow
    workloads: tuple[WorkloadView, ...]
    reasons: tuple[str, ...] = field(default=())


def _latest_scan_ids(conn: Session, image_ids: Sequence[int] | None = None) -> dict[int, int]:
    query = select(ScanRecord.image_id, func.max(ScanRecord.id)).group_by(ScanRecord.image_id)
    if image_ids is not None:
        query = query.where(ScanRecord.image_id.in_(list(image_ids)))
    return {image_id: scan_id for image_id, scan_id in conn.execute(query)}


def _names(conn: Session, keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    wanted = list(keys)
    found: dict[str, tuple[str, ...]] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(select(GraphImageRecord.id, GraphImageRecord.names)
                            .where(GraphImageRecord.id.in_(wanted[start:start + 500])))
        found.update({key: tuple(n for n in names.split("\n") if n) for key, names in rows})
    return found


def _workloads_of(conn: Session, keys: Sequence[str]) -> dict[str, list[WorkloadView]]:
    """Image key -> the workloads whose containers name it (through the lineage links)."""
    rows = conn.execute(
        select(GraphLinkRecord.image_id, OccurrenceRecord.container, WorkloadRecord)
        .join(OccurrenceRecord, OccurrenceRecord.id == GraphLinkRecord.occurrence_id)
        .join(WorkloadRecord, WorkloadRecord.key == OccurrenceRecord.workload_key)
        .where(GraphLinkRecord.image_id.in_(list(keys))))
    found: dict[str, dict[str, WorkloadView]] = defaultdict(dict)
    for image_id, container, workload in rows:
        found[image_id][workload.key] = WorkloadView(
            workload.key, workload.namespace, workload.kind, workload.name,
            workload.environment, workload.criticality, bool(workload.internet_facing),
            container)
    return {key: sorted(views.values(), key=lambda w: w.key) for key, views in found.items()}


def _rows(conn: Session, images: Sequence[ImageRecord]) -> list[ImageRow]:
    latest = _latest_scan_ids(conn, [image.id for image in images])
    counts, scanned = _counts(conn, list(latest.values()))
    names = _names(conn, [image.key for image in images])
    workloads = _workloads_of(conn, [image.key for image in images])
    return [ImageRow(image.key, names.get(image.key, ()) or (image.reference,),
                     counts.get(latest.get(image.id, -1), {}), scanned.get(
                         latest.get(image.id, -1)), len(workloads.get(image.key, [])),
                     any(w.internet_facing for w in workloads.get(image.key, [])))
            for image in images]


def _counts(conn: Session, scan_ids: list[int]) -> tuple[dict[int, dict[str, int]],
                                                             dict[int, datetime]]:
    counts: dict[int, dict[str, int]] = {}
    times: dict[int, datetime] = {}
    for start in range(0, len(scan_ids), 500):
        chunk = scan_ids[start:start + 500]
        for scan_id, text, created in conn.execute(
                select(ScanRecord.id, ScanRecord.counts, ScanRecord.created_at)
                .where(ScanRecord.id.in_(chunk))):
            loaded = json.loads(text or "{}")
            counts[scan_id] = {str(k): int(v) for k, v in loaded.items()
                               if isinstance(v, int) and v}
            times[scan_id] = created
    return counts, times


def _rank(row: ImageRow) -> tuple[int, ...]:
    return tuple(-row.counts.get(s, 0) for s in SEVERITIES[:4])


def overview(conn: Session, top: int = 10) -> Overview:
    images = list(conn.scalars(select(ImageRecord)))
    rows = sorted(_rows(conn, images), key=_rank)
    findings: Counter[str] = Counter()
    for row in rows:
        findings.update(row.counts)
    workloads = list(conn.scalars(select(WorkloadRecord)))
    databases = tuple(sorted(set(conn.scalars(select(ScanRecord.database).distinct()))))
    last = conn.scalar(select(func.max(ScanRecord.created_at)))
    return Overview(len(images), sum(1 for r in rows if r.scanned_at), len(workloads),
                    sum(1 for w in workloads if w.internet_facing), dict(findings), last,
                    databases, tuple(r for r in rows[:top] if any(r.counts.values())))


def image_rows(conn: Session, *, min_severity: str = "", text: str = "",
               limit: int = 100, offset: int = 0) -> list[ImageRow]:
    """Images by risk, optionally only those with a finding at ``min_severity`` or above and
    a name containing ``text``."""
    images = list(conn.scalars(select(ImageRecord).order_by(ImageRecord.id)))
    rows = sorted(_rows(conn, images), key=_rank)
    if min_severity in SEVERITIES:
        wanted = SEVERITIES[:SEVERITIES.index(min_severity) + 1]
        rows = [r for r in rows if any(r.counts.get(s) for s in wanted)]
    if text:
        needle = text.lower()
        rows = [r for r in rows if any(needle in n.lower() for n in (*r.names, r.key))]
    return rows[offset:offset + min(limit, MAX_ROWS)]


def image_detail(conn: Session, key: str) -> ImageDetail | None:
    image = conn.scalars(select(ImageRecord).where(
        or_(ImageRecord.key == key, ImageRecord.digest == key))).first()
    if image is None:
        return None
    (row,) = _rows(conn, [image])
    latest = _latest_scan_ids(conn, [image.id]).get(image.id)
    findings = _findings(conn, latest) if latest is not None else ()
    over_time = tuple(conn.execute(
        select(NameRecord.name, NameRecord.first_seen, NameRecord.last_seen)
        .where(NameRecord.digest == image.key).order_by(NameRecord.last_seen.desc())))
    layers, packages, user, distro = _from_sbom(conn, image)
    parent = conn.scalar(select(GraphImageRecord.parent).where(GraphImageRecord.id == image.key))
    base = ", ".join(_names(conn, [parent]).get(parent, (parent,))) if parent else ""
    return ImageDetail(row, image.digest or "", image.reference,
                       tuple((n, f, t) for n, f, t in over_time), findings, layers, packages,
                       base, tuple(_workloads_of(conn, [image.key]).get(image.key, [])),
                       user, distro)


def _findings(conn: Session, scan_id: int) -> tuple[FindingView, ...]:
    rows = conn.scalars(select(FindingRecord).where(FindingRecord.scan_id == scan_id))
    views = [_finding_view(r) for r in rows]
    return tuple(sorted(views, key=lambda f: (SEVERITIES.index(f.severity), f.id, f.package)))


def _finding_view(record: FindingRecord) -> FindingView:
    return FindingView(record.vuln_id, tuple(json.loads(record.aliases or "[]")),
                       record.package_name, record.version, str(Severity(record.severity)),
                       tuple(json.loads(record.fixed_versions or "[]")), record.suppressed_by)


def _from_sbom(conn: Session, image: ImageRecord) -> tuple[
        tuple[tuple[int, str, str], ...], tuple[tuple[str, str, str], ...], str, str]:
    from hullguard.store.scans import decode_sbom

    data = conn.scalar(select(SbomRecord.data).where(SbomRecord.digest == image.sbom_digest))
    if data is None:
        return (), (), "", ""
    sbom = decode_sbom(data, f"store: {image.key}")
    layers = tuple((layer.index, str(layer.digest or layer.diff_id or ""), layer.created_by)
                   for layer in sbom.image.layers)
    packages = tuple(sorted((p.name, p.version, str(p.type)) for p in sbom.packages))
    distro = sbom.distro.pretty_name or f"{sbom.distro.id} {sbom.distro.version_id}" \
        if sbom.distro else ""
    return layers, packages, sbom.image.config.user, distro


def search(conn: Session, text: str, limit: int = 200) -> tuple[list[SearchHit],
                                                                   list[SearchHit]]:
    """(vulnerability hits, package hits) for an id/alias or a package name."""
    needle = text.strip()
    if not needle:
        return [], []
    latest = _latest_scan_ids(conn)
    by_scan = {scan_id: image_id for image_id, scan_id in latest.items()}
    vuln_rows = conn.execute(
        select(FindingRecord.scan_id, FindingRecord.vuln_id, FindingRecord.package_name,
               FindingRecord.version)
        .where(FindingRecord.scan_id.in_(list(by_scan)))
        .where(or_(FindingRecord.vuln_id == needle,
                   FindingRecord.aliases.contains(json.dumps(needle))))
        .limit(limit)).all()
    package_rows = conn.execute(
        select(GraphPackageRecord.image_id, GraphPackageRecord.name, GraphPackageRecord.version,
               GraphPackageRecord.type)
        .where(func.lower(GraphPackageRecord.name) == needle.lower()).limit(limit)).all()
    images = {image.id: image for image in conn.scalars(select(ImageRecord).where(
        or_(ImageRecord.id.in_([by_scan[r.scan_id] for r in vuln_rows]),
            ImageRecord.key.in_([r.image_id for r in package_rows]))))}
    rows = {row.key: row for row in _rows(conn, list(images.values()))}
    by_id = {image.id: rows[image.key] for image in images.values()}
    vulns = [SearchHit(by_id[by_scan[r.scan_id]], f"{r.vuln_id} in {r.package_name}@{r.version}")
             for r in vuln_rows]
    packages = [SearchHit(rows[r.image_id], f"{r.name} {r.version} ({r.type})")
                for r in package_rows if r.image_id in rows]
    return vulns, packages


def changes(conn: Session, since: datetime) -> list[Change]:
    """Per image: findings of its latest scan that its last scan before ``since`` lacked
    (new), and the other way round (resolved). Images first scanned after ``since`` count
    every finding as new."""
    latest = _latest_scan_ids(conn)
    before = {image_id: scan_id for image_id, scan_id in conn.execute(
        select(ScanRecord.image_id, func.max(ScanRecord.id))
        .where(ScanRecord.created_at <= since).group_by(ScanRecord.image_id))}
    diffs: dict[int, tuple[tuple[FindingView, ...], tuple[FindingView, ...]]] = {}
    for image_id, scan_id in latest.items():
        if before.get(image_id) == scan_id:
            continue
        now = {(f.id, f.package): f for f in _findings(conn, scan_id)}
        old = {(f.id, f.package): f for f in _findings(conn, before[image_id])} \
            if image_id in before else {}
        new = tuple(f for k, f in now.items() if k not in old)
        resolved = tuple(f for k, f in old.items() if k not in now)
        if new or resolved:
            diffs[image_id] = (new, resolved)
    images = list(conn.scalars(select(ImageRecord).where(ImageRecord.id.in_(list(diffs)))))
    rows = _rows(conn, images)  # one batch, not a query round per changed image
    found = [Change(row, *diffs[image.id]) for image, row in zip(images, rows, strict=True)]
    return sorted(found, key=lambda c: _rank(c.image))


def queue(conn: Session, limit: int = 100) -> list[QueueRow]:
    """Images that workloads run, riskiest first: critical and high findings, then internet
    exposure, then production/critical workloads (the reasons are listed per row)."""
    images = list(conn.scalars(select(ImageRecord)))
    rows = _rows(conn, images)
    workloads = _workloads_of(conn, [r.key for r in rows])
    queued = []
    for row in rows:
        used = workloads.get(row.key, [])
        if not used or not any(row.counts.get(s) for s in SEVERITIES[:2]):
            continue
        reasons = [f"{row.counts[s]} {s}" for s in SEVERITIES[:2] if row.counts.get(s)]
        if row.internet_facing:
            reasons.append("internet-facing")
        if any(w.environment == "production" for w in used):
            reasons.append("production")
        queued.append(QueueRow(row, tuple(used), tuple(reasons)))
    queued.sort(key=lambda q: (*_rank(q.image)[:2], not q.image.internet_facing,
                               "production" not in q.reasons))
    return queued[:limit]
