"""Re-matching stored SBOMs without image I/O: the component index, the targeted re-match of
the SBOMs a set of advisories names, the full re-match, and the finding events they record.

The index holds, per stored SBOM, every (ecosystem, name) the matcher looks its packages up
under (:func:`hullguard.vuln.match.ecosystems_for`, names normalized as the database stores
them), so "which images does this advisory name" is one join in the store. A targeted
re-match builds and matches only those packages of those images; an image whose findings
for them changed gets a new ``rescan`` entry (those findings, plus the previous entry's rows
for every other package, copied by the store without decoding or matching anything) and one
event per finding that appeared, was fixed or withdrawn. The entries and events are written
a chunk of images per transaction, in a fixed number of statements per chunk
(:func:`hullguard.store.monitor.add_carried_scans`).
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hullguard.model import Finding, Sbom, Severity
from hullguard.model.package import Package
from hullguard.model.secret import SecretFinding
from hullguard.sbom.native import from_dict
from hullguard.store.base import write_session
from hullguard.store.monitor import (
    CarriedScan,
    PriorRows,
    StoredImage,
    add_carried_scans,
    add_components,
    add_events,
    images_naming,
    latest_scan_ids,
    prior_findings,
    sbom_data,
    unindexed_sboms,
    workloads_of,
)
from hullguard.store.rescan import ImageChanges, diff_findings, rescan_all
from hullguard.store.scans import add_scan, decode_sbom
from hullguard.vuln.db import VulnDB
from hullguard.vuln.importers.osv import normalize_name
from hullguard.vuln.match import ecosystems_for
from hullguard.vuln.scan import MatchCache, match, sort_findings

Pair = tuple[str, str]
INDEX_BATCH = 500  # SBOMs per write transaction while indexing
WRITE_CHUNK = 500  # changed images per write transaction of a targeted re-match
KEY_FILTER = 2_000  # up to this many named package keys, only their findings are read


def lookup_pairs(package: Package, sbom: Sbom) -> set[Pair]:
    """Where the matcher looks ``package`` up: (ecosystem, normalized name) pairs."""
    return {(eco, normalize_name(eco, name))
            for eco, name, _by_source in ecosystems_for(package, sbom.distro)}


def index_components(factory: sessionmaker[Session]) -> int:
    """Index every stored SBOM the component index lacks; how many were indexed."""
    with factory() as session:
        todo = list(unindexed_sboms(session))
    for start in range(0, len(todo), INDEX_BATCH):
        batch = [(digest, _sbom_pairs(decode_sbom(data, f"store:{digest}")))
                 for digest, data in todo[start:start + INDEX_BATCH]]
        write_session(factory.kw["bind"], partial(add_components, sboms=batch))
    return len(todo)


def _sbom_pairs(sbom: Sbom) -> set[Pair]:
    return {pair for package in sbom.packages for pair in lookup_pairs(package, sbom)}


@dataclasses.dataclass
class Rematch:
    changes: list[ImageChanges]
    images: int  # images re-matched
    events: list[dict[str, Any]]


def rematch_targeted(factory: sessionmaker[Session], db: VulnDB,
                     pairs: set[Pair]) -> Rematch:
    """Re-match the packages named by ``pairs`` in the images whose SBOMs have them; an
    image whose findings for them changed gets a new scan entry carrying the rest over,
    written with its events in chunks of images (one write transaction each)."""
    with factory() as session:
        images = images_naming(session, pairs)
        data = sbom_data(session, {image.sbom_digest for image in images})
        latest = latest_scan_ids(session, [image.id for image in images])
    named = {image.id: named_part(data[image.sbom_digest], pairs, f"store:{image.key}")
             for image in images}
    del data
    keys = {p.key for sbom in named.values() for p in sbom.packages}
    with factory() as session:
        before = prior_findings(session, sorted(latest.values()),
                                keys if len(keys) <= KEY_FILTER else None)
    cache, out, entries = MatchCache(), [], []
    for image in images:
        sbom = named[image.id]
        found, _ = match(sbom, db, cache)
        mine, previous = {p.key for p in sbom.packages}, latest.get(image.id)
        rows = before.get(previous or -1, PriorRows({}, []))
        changes = ImageChanges(image.reference, image.key)
        diff_findings(changes, {k: v for k, v in rows.fields.items() if k[1] in mine},
                      found, db)
        if changes.changed:
            out.append((image, changes))
            entries.append(CarriedScan(image.id, image.sbom_digest, previous,
                                       sort_findings(found),
                                       [i for i, key in rows.rows if key in mine], sbom.image))
    events = _write_targeted(factory, db, out, entries)
    return Rematch([c for _i, c in out], len(images), events)


def named_part(data: bytes, pairs: set[Pair], where: str) -> Sbom:
    """The stored SBOM with only its packages looked up under ``pairs``. Packages whose name
    (or source name) cannot be one of them are dropped before they are built: building every
    package of every named SBOM was most of the re-match's reading time."""
    doc = json.loads(zlib.decompress(data))
    names = {normalize_name("PyPI", name) for _eco, name in pairs}  # the widest folding
    if isinstance(doc, dict) and isinstance(doc.get("packages"), list):
        doc["packages"] = [p for p in doc["packages"] if _may_name(p, names)]
    sbom = from_dict(doc, where)
    return dataclasses.replace(sbom, packages=tuple(
        p for p in sbom.packages if lookup_pairs(p, sbom) & pairs))


def _may_name(package: object, names: set[str]) -> bool:
    """Whether a stored package could be looked up under one of ``names`` (folded the PyPI
    way, which every ecosystem's lookup name folds to); a malformed entry is kept, so
    reading it fails as it always did."""
    if not isinstance(package, dict):
        return True
    return any(isinstance(package.get(field), str)
               and normalize_name("PyPI", package[field]) in names
               for field in ("name", "source_name"))


def _write_targeted(factory: sessionmaker[Session], db: VulnDB,
                    changed: list[tuple[StoredImage, ImageChanges]],
                    entries: list[CarriedScan]) -> list[dict[str, Any]]:
    """The new scan entries and their events, a chunk of images per write transaction (a
    cycle that dies half-way is redone: the images written diff as unchanged then)."""
    now = datetime.now(UTC)
    rows = _event_rows(factory, db, changed, "targeted", now)
    label, done = str(db.path), 0
    for chunk in _write_chunks(entries):
        events = [row for image_rows in rows[done:done + len(chunk)] for row in image_rows]
        write_session(factory.kw["bind"], partial(_write_chunk, chunk=chunk, events=events,
                                                  label=label, now=now))
        done += len(chunk)
    return [row for image_rows in rows for row in image_rows]


def _write_chunk(session: Session, chunk: list[CarriedScan], events: list[dict[str, Any]],
                 label: str, now: datetime) -> None:
    add_carried_scans(session, chunk, label, now)
    add_events(session, events)


def _write_chunks(entries: list[CarriedScan]) -> Iterator[list[CarriedScan]]:
    for start in range(0, len(entries), WRITE_CHUNK):
        yield entries[start:start + WRITE_CHUNK]


def rematch_full(factory: sessionmaker[Session], db: VulnDB) -> Rematch:
    """Every stored SBOM matched again (the safety net), with events for what changed."""
    changes = rescan_all(factory, db)
    changed = [(_image_of(c), c) for c in changes if c.changed]
    return Rematch(changes, len(changes), _record(factory, db, changed, "full"))


def _image_of(changes: ImageChanges) -> StoredImage:
    digest = changes.key if changes.key.startswith("sha256:") else ""
    return StoredImage(0, changes.key, changes.reference, digest, "")


def _record(factory: sessionmaker[Session], db: VulnDB,
            changed: list[tuple[StoredImage, ImageChanges]], cause: str) -> list[dict[str, Any]]:
    """The events of a full re-match (its scan entries are written by ``rescan_all``)."""
    events = [row for rows in _event_rows(factory, db, changed, cause, datetime.now(UTC))
              for row in rows]
    if events:
        write_session(factory.kw["bind"], partial(add_events, rows=events))
    return events


def _event_rows(factory: sessionmaker[Session], db: VulnDB,
                changed: list[tuple[StoredImage, ImageChanges]], cause: str,
                now: datetime) -> list[list[dict[str, Any]]]:
    """Each changed image's events, with the workloads running it."""
    if not changed:
        return []
    with factory() as session:
        used = workloads_of(session, [(image.key, image.digest) for image, _c in changed])
    kev = set(db.kev_ids())
    return [event_rows(image, changes, used.get(image.key, []), kev, cause, now)
            for image, changes in changed]


def event_rows(image: StoredImage, changes: ImageChanges, workloads: list[str],
               kev: set[str], cause: str, now: datetime) -> list[dict[str, Any]]:
    groups = (("new", changes.new), ("resolved", changes.fixed),
              ("withdrawn", changes.withdrawn))
    return [_event(kind, finding, image, workloads, kev, cause, now)
            for kind, findings in groups for finding in findings]


def _event(kind: str, finding: dict[str, Any], image: StoredImage, workloads: list[str],
           kev: set[str], cause: str, now: datetime) -> dict[str, Any]:
    ids = {finding["id"], *_aliases(finding.get("aliases", ()))}
    return {"at": now, "kind": kind, "cause": cause, "image_key": image.key[:1024],
            "reference": image.reference, "vuln_id": str(finding["id"])[:200],
            "package": finding.get("package", ""), "version": finding.get("version", ""),
            "severity": int(Severity.parse(str(finding.get("severity", "")))),
            "kev": bool(ids & kev), "workloads": json.dumps(workloads)}


def _aliases(value: Iterable[str] | str) -> list[str]:
    return list(json.loads(value)) if isinstance(value, str) else list(value)


def record_scanned(factory: sessionmaker[Session], sbom: Sbom, findings: Sequence[Finding],
                   secrets: Sequence[SecretFinding], db: VulnDB | None) -> int:
    """Store a fresh scan (a watched tag that moved) with an event per finding and per secret
    (a secret by rule and fingerprint, never its value); the scan id."""
    from hullguard.store.scans import image_key

    key = image_key(sbom)
    image = StoredImage(0, key, sbom.image.reference, str(sbom.image.digest or ""), "")
    with factory() as session:
        used = workloads_of(session, [(image.key, image.digest)]).get(key, [])
    changes = ImageChanges(image.reference, key)
    if db is not None:
        diff_findings(changes, {}, [f for f in findings if not f.suppressed_by], db)
    now = datetime.now(UTC)
    rows = event_rows(image, changes, used, set(db.kev_ids()) if db else set(), "scan", now)
    rows += [{"at": now, "kind": "secret", "cause": "scan", "image_key": key[:1024],
              "reference": image.reference, "vuln_id": secret.rule_id[:200],
              "package": secret.fingerprint, "version": "",
              "severity": int(secret.severity), "kev": False, "workloads": json.dumps(used)}
             for secret in secrets]
    label = str(db.path) if db is not None else ""

    def work(session: Session) -> int:
        scan_id = add_scan(session, sbom, findings, label, "scan")
        add_events(session, rows)
        return scan_id

    return write_session(factory.kw["bind"], work)
