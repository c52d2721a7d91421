"""Alpine secdb (secdb.alpinelinux.org ``vX.Y/{main,community}.json`` and the older YAML).

A document lists, per origin (source) package, ``secfixes``: fixed version -> ids. Fixed
version ``0`` means the package was never affected (no advisory). Each id becomes one advisory
per document whose affected entries are ``Alpine:vX.Y`` source packages fixed at that version.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from hullguard.model import Advisory, Affected, Event, Range
from hullguard.vuln.importers.base import ImportStats

NAME = "alpine-secdb"
_BRANCH_RE = re.compile(r"^(v\d+\.\d+|edge)$")
_ALIAS_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+")
_VERSION_RE = re.compile(r"^[A-Za-z0-9._+~-]{1,128}$")


def accepts(doc: Any) -> bool:
    return isinstance(doc, dict) and "packages" in doc and "distroversion" in doc


def _branch(doc: dict[str, Any], where: str) -> str | None:
    branch = doc.get("distroversion")
    if isinstance(branch, str) and _BRANCH_RE.match(branch.strip()):
        return branch.strip()
    return None


def parse(doc: Any, where: str, stats: ImportStats) -> Iterator[Advisory]:
    branch = _branch(doc, where)
    packages = doc.get("packages") or []  # an empty YAML value reads as ""
    if branch is None or not isinstance(packages, list):
        stats.skip(where, "secdb document without a valid distroversion or packages list")
        return
    fixes: dict[str, list[Affected]] = defaultdict(list)
    aliases: dict[str, set[str]] = defaultdict(set)
    for entry in packages:
        _collect(entry, f"Alpine:{branch}", where, stats, (fixes, aliases))
    for vuln_id, affected in fixes.items():
        yield Advisory(id=vuln_id, source=NAME, aliases=tuple(sorted(aliases[vuln_id])),
                       affected=tuple(affected))


def _ids(value: Any, where: str, stats: ImportStats) -> list[tuple[str, tuple[str, ...]]] | None:
    """(id, aliases) of one secfixes entry. An item is an id, optionally followed by other
    ids of the same flaw (``CVE-2016-9932 XSA-200``) or a comment (``CVE-2019-15166 (AoE)``)."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    out = []
    for item in value[:1000]:
        tokens = item.split()
        # Real entries carry junk such as ``CVE-2017-8073.patch``: keep the id-shaped prefix.
        first = _ALIAS_RE.match(tokens[0]) if tokens else None
        if first:
            out.append((first.group(0), tuple(t for t in tokens[1:] if _ALIAS_RE.fullmatch(t))))
        else:
            stats.skip(where, f"secfixes id {item[:60]!r} is not an id")
    return out


_Found = tuple[dict[str, list[Affected]], dict[str, set[str]]]


def _collect(entry: Any, ecosystem: str, where: str, stats: ImportStats, found: _Found) -> None:
    pkg = entry.get("pkg") if isinstance(entry, dict) else None
    name = pkg.get("name") if isinstance(pkg, dict) else None
    secfixes = pkg.get("secfixes") if isinstance(pkg, dict) else None
    if not isinstance(name, str) or not _VERSION_RE.match(name) or not isinstance(
            secfixes, dict | str | type(None)):
        stats.skip(where, f"secdb entry without a valid name/secfixes: {str(entry)[:80]!r}")
        return
    for fixed, value in (secfixes or {}).items() if isinstance(secfixes, dict) else ():
        ids = _ids(value, where, stats)
        if not isinstance(fixed, str) or not _VERSION_RE.match(fixed) or ids is None:
            stats.skip(where, f"{name}: bad secfixes entry {str(fixed)[:60]!r}")
            continue
        if fixed == "0":
            continue  # never affected
        rng = Range("ECOSYSTEM", (Event(introduced="0"), Event(fixed=fixed)))
        for vuln_id, also in ids:
            found[0][vuln_id].append(Affected(ecosystem, name, (rng,), by_source=True))
            found[1][vuln_id].update(also)
