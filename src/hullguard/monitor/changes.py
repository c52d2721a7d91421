"""Advisory change detection: the records an update (or an imported file) added, changed or
withdrawn, and every (ecosystem, name) they name now or named before.

The monitor keeps, per stored record (the database's own dedup key), a sha256 of its content
and the packages it names (``store.monitor``). Comparing that with the database now finds
the changes without the old database file; a record that left the database (a distro record
re-issued under a new content key, a source dropped) counts with the packages it named.
KEV entries are kept the same way (key ``kev:CVE``): a new one is a "new KEV entry".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hullguard.store.monitor import StoredAdvisory
from hullguard.vuln.db import VulnDB

KEV_PREFIX = "kev:"
Pair = tuple[str, str]


@dataclass
class AdvisoryChanges:
    added: list[str] = field(default_factory=list)  # advisory ids
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kev_added: list[str] = field(default_factory=list)
    packages: set[Pair] = field(default_factory=set)  # what to re-match
    baseline: bool = False  # no earlier state: everything is "seen", nothing re-matched
    state_rows: list[dict[str, Any]] = field(default_factory=list)  # to upsert
    state_removed: list[str] = field(default_factory=list)  # keys to delete

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.withdrawn or self.removed
                    or self.kev_added)

    def summary(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed),
                "withdrawn": len(self.withdrawn), "removed": len(self.removed),
                "kev_added": len(self.kev_added), "packages": len(self.packages)}


def advisory_changes(db: VulnDB, stored: dict[str, StoredAdvisory]) -> AdvisoryChanges:
    """What changed in ``db`` since ``stored`` (an empty ``stored`` is the baseline)."""
    out = AdvisoryChanges(baseline=not stored)
    seen: set[str] = set()
    for record in db.fingerprints():
        seen.add(record.key)
        before = stored.get(record.key)
        if before is not None and before.content == record.content:
            continue
        out.state_rows.append({"key": record.key[:400], "vuln_id": record.vuln_id[:200],
                               "content": record.content, "modified": record.modified,
                               "withdrawn": record.withdrawn,
                               "packages": json.dumps(record.packages)})
        _classify(out, record.vuln_id, record.withdrawn, before)
        out.packages.update(record.packages)
        out.packages.update(before.packages if before else ())
    _kev_changes(out, db.kev_ids(), stored, seen)
    for key, before in stored.items():
        if key not in seen:
            out.state_removed.append(key)
            if not key.startswith(KEV_PREFIX):
                out.removed.append(key.split(":")[1] if ":" in key else key)
                out.packages.update(before.packages)
    if out.baseline:
        out.added, out.changed, out.kev_added, out.packages = [], [], [], set()
    return out


def _classify(out: AdvisoryChanges, vuln_id: str, withdrawn: bool,
              before: StoredAdvisory | None) -> None:
    if withdrawn and (before is None or not before.withdrawn):
        out.withdrawn.append(vuln_id)
    elif before is None:
        out.added.append(vuln_id)
    else:
        out.changed.append(vuln_id)


def _kev_changes(out: AdvisoryChanges, kev: dict[str, str],
                 stored: dict[str, StoredAdvisory], seen: set[str]) -> None:
    for cve, added in kev.items():
        key = KEV_PREFIX + cve
        seen.add(key)
        before = stored.get(key)
        if before is not None and before.content == added[:64]:
            continue
        out.state_rows.append({"key": key[:400], "vuln_id": cve[:200], "content": added[:64],
                               "modified": "", "withdrawn": False, "packages": "[]"})
        if before is None:
            out.kev_added.append(cve)
