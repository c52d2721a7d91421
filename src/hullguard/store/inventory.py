"""The inventory's tables: occurrences, workloads, declared Dockerfile bases, per-file issues.

``save_inventory`` replaces the stored inventory (it describes the fleet *now*);
``load_inventory`` rebuilds the same :class:`Inventory`. The tables are mapped classes in
:mod:`hullguard.store.models`; the bulk writes and reads here are Core statements on them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection

from hullguard.inventory.references import origin
from hullguard.model.image import Digest
from hullguard.model.inventory import (
    Criticality,
    DeclaredBase,
    Environment,
    Exposure,
    ImageOccurrence,
    Inventory,
    InventoryImage,
    InventoryIssue,
    SourceKind,
    SourceLocation,
    Workload,
)
from hullguard.model.reference import ImageReference
from hullguard.store.models import (
    DeclaredRecord,
    IssueRecord,
    OccurrenceRecord,
    SourceRecord,
    WorkloadRecord,
    table_of,
)

CHUNK = 500  # bound parameters per IN (...) query

occurrences = table_of(OccurrenceRecord)
workloads = table_of(WorkloadRecord)
declared = table_of(DeclaredRecord)
issues = table_of(IssueRecord)
sources = table_of(SourceRecord)


def chunks(values: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def create_tables(engine: Engine) -> None:
    """Create the store's tables (ours and the core ones) when missing."""
    from hullguard.store.base import ensure_schema

    ensure_schema(engine)


def _occurrence_row(occ: ImageOccurrence) -> dict[str, Any]:
    loc = occ.location
    return {"registry": occ.ref.registry, "repository": occ.ref.repository, "tag": occ.ref.tag,
            "ref_digest": occ.ref.digest_text, "ref_name": occ.ref.key, "raw": occ.raw,
            "kind": loc.kind.value, "path": loc.path, "line": loc.line,
            "namespace": loc.namespace, "workload_kind": loc.workload_kind,
            "workload": loc.workload, "container": loc.container,
            "helm_source": loc.helm_source, "workload_key": loc.workload_key,
            "running_digest": occ.running_digest, "role": occ.role}


def _workload_row(w: Workload) -> dict[str, Any]:
    data = {"labels": w.labels, "annotations": w.annotations, "pod_labels": w.pod_labels,
            "containers": w.containers}
    return {"key": w.key, "namespace": w.namespace, "kind": w.kind, "name": w.name,
            "source": w.source, "data": json.dumps(data),
            "internet_facing": w.exposure.internet_facing,
            "exposure_via": json.dumps(list(w.exposure.via)),
            "environment": w.environment.value, "criticality": w.criticality.value,
            "criticality_source": w.criticality_source}


def save_inventory(engine: Engine, inventory: Inventory) -> None:
    """Replace the stored inventory with ``inventory`` in one write transaction."""
    from hullguard.store.base import write

    write(engine, lambda conn: replace_inventory(conn, inventory))


def replace_inventory(conn: Connection, inventory: Inventory) -> None:
    """:func:`save_inventory` inside the caller's write transaction."""
    occ_rows = [_occurrence_row(o) for i in inventory.images for o in i.occurrences]
    for table in (occurrences, workloads, declared, issues, sources):
        conn.execute(delete(table))
    if occ_rows:
        conn.execute(insert(occurrences), occ_rows)
    if inventory.workloads:
        conn.execute(insert(workloads), [_workload_row(w) for w in inventory.workloads])
    if inventory.declared_bases:
        conn.execute(insert(declared), [
            {"dockerfile": d.dockerfile, "base": d.base.key, "line": d.line,
             "stage": d.stage, "target": d.target.key if d.target else "",
             "consumer": d.consumer} for d in inventory.declared_bases])
    if inventory.issues:
        conn.execute(insert(issues), [
            {"path": i.path, "line": i.line, "severity": i.severity, "message": i.message}
            for i in inventory.issues])
    if inventory.sources:
        conn.execute(insert(sources), [{"source": s} for s in inventory.sources])
    from hullguard.store.graph import rebuild_links

    rebuild_links(conn)


# Column orders for the fast row converters (graph queries build thousands of these).
OCCURRENCE_COLUMNS = ("registry", "repository", "tag", "ref_digest", "raw", "kind", "path",
                      "line", "namespace", "workload_kind", "workload", "container",
                      "helm_source", "running_digest", "role")
WORKLOAD_COLUMNS = ("namespace", "kind", "name", "source", "data", "internet_facing",
                    "exposure_via", "environment", "criticality", "criticality_source")
_KINDS = {k.value: k for k in SourceKind}
_ENVIRONMENTS = {e.value: e for e in Environment}
_CRITICALITIES = {c.value: c for c in Criticality}


def occurrence_columns() -> list[Any]:
    return [occurrences.c[name] for name in OCCURRENCE_COLUMNS]


def workload_columns() -> list[Any]:
    return [workloads.c[name] for name in WORKLOAD_COLUMNS]


def occurrence_from_values(values: Sequence[Any]) -> ImageOccurrence:
    """An occurrence from values in :data:`OCCURRENCE_COLUMNS` order."""
    (registry, repository, tag, ref_digest, raw, kind, path, line, namespace, workload_kind,
     workload, container, helm_source, running_digest, role) = values
    location = SourceLocation(_KINDS[kind], path, line, namespace, workload_kind, workload,
                              container, helm_source)
    return ImageOccurrence(reference_from_columns(registry, repository, tag, ref_digest), raw,
                           location, running_digest, role)


def reference_from_columns(registry: str, repository: str, tag: str,
                           digest: str) -> ImageReference:
    """The one adapter from the text columns back to the value (the digest column keeps
    \"\" for none: :attr:`ImageReference.digest_text`)."""
    return ImageReference(registry, repository, tag,
                          Digest.parse(digest, where="stored reference") if digest else None)


def occurrence_from_row(row: Any) -> ImageOccurrence:
    return occurrence_from_values([row._mapping[column] for column in occurrence_columns()])


def _pairs(data: dict[str, Any], key: str) -> tuple[tuple[str, str], ...]:
    pairs = data.get(key)
    return tuple((str(k), str(v)) for k, v in pairs) if pairs else ()


def workload_from_values(values: Sequence[Any]) -> Workload:
    """A workload from values in :data:`WORKLOAD_COLUMNS` order."""
    (namespace, kind, name, source, data_text, facing, via_text, environment, criticality,
     criticality_source) = values
    data = json.loads(data_text)
    via = () if via_text == "[]" else tuple(json.loads(via_text))
    return Workload(namespace, kind, name, source, _pairs(data, "labels"),
                    _pairs(data, "annotations"), _pairs(data, "pod_labels"),
                    tuple(data.get("containers", ())), Exposure(bool(facing), via),
                    _ENVIRONMENTS[environment], _CRITICALITIES[criticality], criticality_source)


def workload_from_row(row: Any) -> Workload:
    return workload_from_values([getattr(row, name) for name in WORKLOAD_COLUMNS])


def _declared_from_row(row: Any) -> DeclaredBase:
    from hullguard.inventory.references import normalize

    target = normalize(row.target) if row.target else None
    return DeclaredBase(row.dockerfile, normalize(row.base), row.line, row.stage, target,
                        row.consumer)


def load_inventory(engine: Engine) -> Inventory:
    """The stored inventory (empty when none was saved); reading creates nothing."""
    from hullguard.store.base import has_tables

    if not has_tables(engine, [occurrences.name]):
        return Inventory()
    grouped: dict[str, list[ImageOccurrence]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(select(occurrences).order_by(occurrences.c.id)):
            occ = occurrence_from_row(row)
            grouped[occ.ref.key].append(occ)
        loaded = [workload_from_row(r) for r in conn.execute(select(workloads))]
        bases = [_declared_from_row(r) for r in conn.execute(select(declared))]
        found = [InventoryIssue(r.path, r.message, r.line, r.severity)
                 for r in conn.execute(select(issues).order_by(issues.c.id))]
        names = [r.source for r in conn.execute(select(sources).order_by(sources.c.id))]
    images = tuple(InventoryImage(occs[0].ref, origin(occs[0].ref), tuple(occs))
                   for _, occs in sorted(grouped.items()))
    return Inventory(images, tuple(sorted(loaded, key=lambda w: w.key)), tuple(found),
                     tuple(names), tuple(bases))
