"""Re-matching stored SBOMs without image I/O: the component index, the targeted re-match of
the SBOMs a set of advisories names, the full re-match, and the finding events they record.

The index holds, per stored SBOM, every (ecosystem, name) the matcher looks its packages up
under (:func:`hullguard.vuln.match.ecosystems_for`, names normalized as the database stores
them), so "which images does this advisory name" is one join in the store. A targeted
re-match matches only those packages of those images; an image whose findings for them
changed gets a new ``rescan`` entry (those findings, plus the previous entry's rows for
every other package copied inside the database) and one event per finding that appeared,
was fixed or withdrawn.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hullguard.model import Finding, Sbom, Severity
from hullguard.model.package import Package
from hullguard.model.secret import SecretFinding
from hullguard.store.base import write_session
from hullguard.store.monitor import (
    StoredImage,
    add_carried_scan,
    add_components,
    add_events,
    images_naming,
    latest_scan_ids,
    sbom_data,
    unindexed_sboms,
    workloads_of,
)
from hullguard.store.rescan import ImageChanges, diff_findings, rescan_all
from hullguard.store.scans import add_scan, decode_sbom, findings_of
from hullguard.vuln.db import VulnDB
from hullguard.vuln.importers.osv import normalize_name
from hullguard.vuln.match import ecosystems_for
from hullguard.vuln.scan import MatchCache, match, sort_findings

Pair = tuple[str, str]
INDEX_BATCH = 500  # SBOMs per write transaction while indexing


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
        write_session(factory.kw["bind"], _adder(batch))
    return len(todo)


def _adder(batch: list[tuple[str, set[Pair]]]) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        for digest, pairs in batch:
            add_components(session, digest, pairs)

    return work


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
    image whose findings for them changed gets a new scan entry carrying the rest over."""
    with factory() as session:
        images = images_naming(session, pairs)
        data = sbom_data(session, {image.sbom_digest for image in images})
        latest = latest_scan_ids(session, [image.id for image in images])
        before = findings_of(session, sorted(latest.values()))
    cache, out, pending = MatchCache(), [], []
    for image in images:
        sbom = decode_sbom(data[image.sbom_digest], f"store:{image.key}")
        named = tuple(p for p in sbom.packages if lookup_pairs(p, sbom) & pairs)
        found, _ = match(dataclasses.replace(sbom, packages=named), db, cache)
        keys = {p.key for p in named}
        previous = latest.get(image.id)
        prior = {k: v for k, v in before.get(previous or -1, {}).items() if k[1] in keys}
        changes = ImageChanges(image.reference, image.key)
        diff_findings(changes, prior, found, db)
        if changes.changed:
            out.append((image, changes))
            pending.append(_carry(sbom, sort_findings(found), keys, previous,
                                  (image.sbom_digest, data[image.sbom_digest]), str(db.path)))
    events = _record(factory, db, out, "targeted", pending)
    return Rematch([c for _i, c in out], len(images), events)


def _carry(sbom: Sbom, found: list[Finding], keys: set[str], previous: int | None,
           encoded: tuple[str, bytes], label: str) -> Callable[[Session], object]:
    return lambda session: add_carried_scan(session, sbom, found, keys, previous, label,
                                            encoded)


def rematch_full(factory: sessionmaker[Session], db: VulnDB) -> Rematch:
    """Every stored SBOM matched again (the safety net), with events for what changed."""
    changes = rescan_all(factory, db)
    changed = [(_image_of(c), c) for c in changes if c.changed]
    return Rematch(changes, len(changes), _record(factory, db, changed, "full", []))


def _image_of(changes: ImageChanges) -> StoredImage:
    digest = changes.key if changes.key.startswith("sha256:") else ""
    return StoredImage(0, changes.key, changes.reference, digest, "")


def _record(factory: sessionmaker[Session], db: VulnDB,
            changed: list[tuple[StoredImage, ImageChanges]], cause: str,
            pending: list[Callable[[Session], object]]) -> list[dict[str, Any]]:
    """The new scan entries and the events, in one write transaction."""
    if not changed and not pending:
        return []
    with factory() as session:
        used = workloads_of(session, [(image.key, image.digest) for image, _c in changed])
    kev = set(db.kev_ids())
    now = datetime.now(UTC)
    events = [row for image, changes in changed
              for row in event_rows(image, changes, used.get(image.key, []), kev, cause, now)]

    def work(session: Session) -> None:
        for write_scan in pending:
            write_scan(session)
        add_events(session, events)

    write_session(factory.kw["bind"], work)
    return events


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
