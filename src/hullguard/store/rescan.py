"""``rescan``: re-match every stored SBOM against the current database, with no image I/O,
and report per image what changed since its last scan."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hullguard.model import Finding, Sbom
from hullguard.store.base import write_session
from hullguard.store.scans import (
    FindingKey,
    add_scan,
    decode_sbom,
    findings_of,
    latest_scans,
    stored_sboms,
)
from hullguard.vuln.db import VulnDB
from hullguard.vuln.scan import MatchCache, match, sort_findings


@dataclass
class ImageChanges:
    reference: str
    key: str
    new: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)  # no longer matches the data
    withdrawn: list[dict[str, Any]] = field(default_factory=list)  # its advisory was withdrawn
    total: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.new or self.fixed or self.withdrawn)


def _summary(finding: Finding) -> dict[str, Any]:
    return {"id": finding.id, "aliases": list(finding.aliases), "purl": finding.package.purl,
            "package": finding.package.name, "version": finding.package.version,
            "severity": str(finding.severity)}


def _withdrawn(stored: dict[str, Any], db: VulnDB) -> bool:
    """Gone because every record behind it is withdrawn or gone from the database."""
    records = [a for name in (stored["id"], *stored["aliases"]) for a in db.advisories(name)]
    return all(a.withdrawn for a in records)


def diff_findings(changes: ImageChanges, before: dict[FindingKey, dict[str, Any]],
          now: list[Finding], db: VulnDB) -> None:
    current = {(f.id, f.package.key): f for f in now}
    changes.new = [_summary(current[k]) for k in current if k not in before]
    for key, stored in before.items():
        if key not in current:
            stored = {**stored, "aliases": json.loads(stored["aliases"])}
            (changes.withdrawn if _withdrawn(stored, db) else changes.fixed).append(stored)
    changes.total = len(current)


def rescan_all(factory: sessionmaker[Session], db: VulnDB) -> list[ImageChanges]:
    """Re-match each stored image's latest SBOM; an image whose findings changed gets a new
    ``rescan`` entry (an unchanged one keeps its latest scan, so the history holds changes,
    not copies). Matching runs outside any write lock; the entries are written in one write
    transaction at the end, so a concurrent scan never waits for the whole rescan."""
    out, cache = [], MatchCache()
    pending: list[tuple[Sbom, list[Finding], tuple[str, bytes]]] = []
    with factory() as session:
        latest = latest_scans(session)
        previous = findings_of(session, sorted(latest.values()))
        stored = list(stored_sboms(session))  # closing the session ends the read
    for image, data in stored:
        changes = ImageChanges(image.reference, image.key)
        out.append(changes)
        sbom = decode_sbom(data, f"store:{image.key}")
        findings, _unparseable = match(sbom, db, cache)
        before = previous.get(latest.get(image.id, -1), {})
        diff_findings(changes, before, findings, db)
        if changes.changed or image.id not in latest:
            pending.append((sbom, sort_findings(findings), (str(image.sbom_digest), data)))
    if pending:
        write_session(factory.kw["bind"], lambda session: [
            add_scan(session, sbom, findings, str(db.path), "rescan", encoded)
            for sbom, findings, encoded in pending])
    return out


def render_changes(changes: list[ImageChanges], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"images": [c.__dict__ for c in changes]}, indent=2) + "\n"
    lines = []
    for change in changes:
        status = (f"{len(change.new)} new, {len(change.fixed)} fixed, "
                  f"{len(change.withdrawn)} withdrawn" if change.changed else "unchanged")
        lines.append(f"{change.reference}: {status} ({change.total} findings)")
        lines += [f"  + {f['id']} {f['package']} {f['version']} ({f['severity']})"
                  for f in change.new]
        lines += [f"  - {f['id']} {f['package']} {f['version']} (fixed)" for f in change.fixed]
        lines += [f"  - {f['id']} {f['package']} {f['version']} (withdrawn)"
                  for f in change.withdrawn]
    return "\n".join(lines or ["no stored images; `hullguard scan` stores each scanned image"])
