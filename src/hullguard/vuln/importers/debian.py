"""Debian security tracker JSON (security-tracker.debian.org/tracker/data/json).

Shape: source package -> CVE -> {description, releases: codename -> {status, fixed_version,
urgency}}. ``resolved`` with fixed version ``0`` means the release was never affected;
``open``/``undetermined`` means affected with no fix yet. One advisory per CVE, its affected
entries keyed by source package (``by_source``) and release ``Debian:<number>``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from hullguard.model import Advisory, Affected, Event, Range, Severity
from hullguard.vuln.importers.base import ImportStats, text, valid_id

NAME = "debian"
CODENAMES = {
    "buzz": "1.1", "rex": "1.2", "bo": "1.3", "hamm": "2.0", "slink": "2.1", "potato": "2.2",
    "woody": "3.0", "sarge": "3.1", "etch": "4", "lenny": "5", "squeeze": "6", "wheezy": "7",
    "jessie": "8", "stretch": "9", "buster": "10", "bullseye": "11", "bookworm": "12",
    "trixie": "13", "forky": "14", "duke": "15",
}
_URGENCY = {"unimportant": Severity.NEGLIGIBLE, "low": Severity.LOW,
            "medium": Severity.MEDIUM, "high": Severity.HIGH}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,127}$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9.+~:-]{1,128}$")


def release_ecosystem(codename: str) -> str:
    """``bookworm`` -> ``Debian:12``; unknown names (``sid``) stay as written."""
    return f"Debian:{CODENAMES.get(codename, codename)}"


def accepts(doc: Any) -> bool:
    if not isinstance(doc, dict) or not doc or "id" in doc:
        return False
    first = next(iter(doc.values()))
    if not isinstance(first, dict) or not first:
        return False
    entry = next(iter(first.values()))
    return isinstance(entry, dict) and "releases" in entry


def parse(doc: Any, where: str, stats: ImportStats) -> Iterator[Advisory]:
    found: dict[str, list[Affected]] = defaultdict(list)
    urgency: dict[str, Severity] = defaultdict(lambda: Severity.UNKNOWN)
    descriptions: dict[str, str] = {}
    for package, cves in doc.items():
        if not isinstance(package, str) or not _NAME_RE.match(package) or not isinstance(
                cves, dict):
            stats.skip(where, f"bad package entry {str(package)[:60]!r}")
            continue
        for cve, entry in cves.items():
            _collect(package, cve, entry, where, stats, found, urgency)
            if isinstance(entry, dict) and cve not in descriptions:
                descriptions[cve] = text(entry.get("description"), stats.limits.max_text)
    for cve, affected in found.items():
        yield Advisory(id=cve, source=NAME, summary=descriptions.get(cve, ""),
                       affected=tuple(affected), severity=urgency[cve])


def _collect(package: str, cve: Any, entry: Any, where: str, stats: ImportStats,
             found: dict[str, list[Affected]], urgency: dict[str, Severity]) -> None:
    releases = entry.get("releases") if isinstance(entry, dict) else None
    if not valid_id(cve) or not isinstance(releases, dict):
        stats.skip(where, f"{package}: bad entry {str(cve)[:60]!r}")
        return
    for codename, info in releases.items():
        affected = _release(package, codename, info)
        if affected is None:
            continue
        found[cve].append(affected)
        level = _URGENCY.get(str(info.get("urgency", "")).rstrip("*"), Severity.UNKNOWN)
        urgency[cve] = max(urgency[cve], level)


def _release(package: str, codename: Any, info: Any) -> Affected | None:
    """The affected entry of one release, or None when it is not affected (or malformed)."""
    if not isinstance(codename, str) or not _NAME_RE.match(codename) or not isinstance(
            info, dict):
        return None
    status, fixed = info.get("status"), info.get("fixed_version")
    ecosystem = release_ecosystem(codename)
    if status == "resolved" and isinstance(fixed, str) and _VERSION_RE.match(fixed):
        if fixed == "0":
            return None
        events: tuple[Event, ...] = (Event(introduced="0"), Event(fixed=fixed))
        return Affected(ecosystem, package, (Range("ECOSYSTEM", events),), by_source=True)
    if status in ("open", "undetermined"):
        events = (Event(introduced="0"),)
        return Affected(ecosystem, package, (Range("ECOSYSTEM", events),), by_source=True)
    return None
