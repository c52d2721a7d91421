"""A newer tag of the same base image that scans better ("updated base image", as Docker
Scout calls it): read the registry's tag list, keep the tags of the same line, scan a capped
number of them against the advisory database, and propose the nearest one with fewer
critical/high findings. Never a tag that scans worse, never one the database cannot check.

Tag rule (written here rather than taken from ``packaging``: registry tags are not PEP 440,
``3.10.3-slim`` would be refused or misread): ``[v]N(.N){0,3}[-SUFFIX]``, numbers without
leading zeros and of at most 9 digits. A candidate has the same prefix, the same suffix (the
variant: ``-slim``, ``-alpine``), the same number of version numbers (a floating ``3.18`` is
not swapped for a pinned ``3.18.9``) and the same major; it is newer than the current tag.
Order: the newest of the current branch first (``3.10.3`` -> ``3.10.9``), then the
following branches in ascending order, each newest first (``3.11.x``, then ``3.12.x``); a
two-number tag is a branch of its own (``3.18`` -> ``3.19``, then ``3.20``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hullguard.errors import HullguardError
from hullguard.model import Severity
from hullguard.remediate.plan import SAFE_ID

if TYPE_CHECKING:
    from hullguard.model.reference import ImageReference

MAX_CANDIDATES = 5  # images pulled and scanned per base, at most (--base-candidates)
MAX_TAGS = 10_000  # tags read from the registry's list, at most (a hostile list is cut)
TAG_PAGE = 1000  # tags asked per page (?n=)
MAX_LAYER_BYTES = 4 << 30  # uncompressed bytes per layer of a candidate (base images are small)
_NUMBER = r"(?:0|[1-9][0-9]{0,8})"  # no leading zeros: 03.18 is not 3.18
_TAG = re.compile(rf"(v?)({_NUMBER}(?:\.{_NUMBER}){{0,3}})(-[A-Za-z0-9][A-Za-z0-9._-]{{0,99}})?")


@dataclass(frozen=True, order=True)
class TagVersion:
    numbers: tuple[int, ...]
    prefix: str = ""
    suffix: str = ""

    @property
    def branch(self) -> tuple[int, ...]:
        """``3.18`` for ``3.18.9``; a two-number tag (``3.18``) is a branch of its own."""
        return self.numbers[:-1] if len(self.numbers) > 2 else self.numbers


def parse_tag(tag: str) -> TagVersion | None:
    """The version a tag names, or None for ``latest``, ``edge``, dates with letters, ..."""
    match = _TAG.fullmatch(tag)
    if not match:
        return None
    numbers = tuple(int(n) for n in match.group(2).split("."))
    return TagVersion(numbers, match.group(1), match.group(3) or "")


def candidate_tags(current: str, tags: Iterable[str]) -> list[str]:
    """The tags to try for ``current``, best first (see the module docstring)."""
    now = parse_tag(current)
    if now is None or len(now.numbers) < 2:
        return []
    same: list[tuple[TagVersion, str]] = []
    later: list[tuple[TagVersion, str]] = []
    for tag in set(tags):
        version = parse_tag(tag)
        if version is None or version.numbers <= now.numbers or \
                (version.prefix, version.suffix) != (now.prefix, now.suffix) or \
                len(version.numbers) != len(now.numbers) or version.numbers[0] != now.numbers[0]:
            continue
        (same if version.branch == now.branch else later).append((version, tag))
    same.sort(reverse=True)
    later.sort(key=lambda item: (item[0].branch, [-n for n in item[0].numbers]))
    return [tag for _, tag in same + later]


@dataclass(frozen=True)
class Counts:
    """What one tag scans to against the database."""

    critical: int
    high: int
    total: int
    fixable: int
    ids: frozenset[str]
    release: str = ""  # "alpine 3.10"

    def describe(self) -> str:
        return (f"critical {self.critical}, high {self.high}, all {self.total} "
                f"({self.fixable} fixable)")

    def better_than(self, other: Counts) -> bool:
        """Never worse in critical or high, and fewer of them (or, with as many, fewer in
        all: a feed without severities, such as Alpine's secdb, rates everything unknown)."""
        if self.critical > other.critical or self.high > other.high:
            return False
        mine, theirs = self.critical + self.high, other.critical + other.high
        return mine < theirs or (mine == theirs and self.total < other.total)


@dataclass
class Recommendation:
    base: str  # the normalized current base reference
    tag: str = ""  # the proposed tag ("" = none)
    reference: str = ""  # the proposed reference (normalized)
    digest: str = ""
    before: Counts | None = None
    after: Counts | None = None
    notes: list[str] = field(default_factory=list)  # what was tried, skipped, and why

    @property
    def fixed_ids(self) -> list[str]:
        if self.before is None or self.after is None:
            return []
        return sorted(i for i in self.before.ids - self.after.ids if SAFE_ID.fullmatch(i))


def scan_counts(reference: str, db_path: str) -> Counts:
    """Pull, catalog and match one image; an image the database cannot check (no advisory
    data for its release) is an error, never "no findings"."""
    from hullguard.catalog import catalog_image
    from hullguard.errors import HullguardError
    from hullguard.images.api import SourceOptions
    from hullguard.vuln.db import VulnDB
    from hullguard.vuln.scan import scan_sbom

    # A stage does not call the pipeline: the candidate is cataloged and matched directly
    # (no secrets, no journal, no store: only its counts are wanted).
    try:
        sbom = catalog_image(reference, SourceOptions(max_layer_bytes=MAX_LAYER_BYTES))
    except HullguardError as error:
        raise _Skip(f"not scanned: {_one_line(error.diagnostics())}") from None
    with VulnDB.open(db_path) as db:
        result = scan_sbom(sbom, db)
    if result.uncovered:
        raise _Skip(f"the database cannot check it: {result.uncovered[0].describe()}")
    distro = result.sbom.distro
    release = ".".join(distro.version_id.split(".")[:2]) if distro else ""
    findings = result.findings
    return Counts(sum(f.severity is Severity.CRITICAL for f in findings),
                  sum(f.severity is Severity.HIGH for f in findings), len(findings),
                  sum(f.has_fix for f in findings), frozenset(f.id for f in findings),
                  f"{distro.id} {release}" if distro else "")


class _Skip(Exception):
    """A candidate (or the base) that cannot be compared, with the reason for the report."""


def recommend(base: str, db_path: str, limit: int = MAX_CANDIDATES,
              eol: dict[str, bool] | None = None) -> Recommendation:
    """Look for a better tag of ``base``; ``eol`` says which releases ("alpine 3.12") are end
    of life (a move to another release only goes to a supported one)."""
    from hullguard.images.reference import parse_reference

    rec = Recommendation(base)
    reference = parse_reference(base)
    if reference.digest or parse_tag(reference.tag) is None:
        rec.notes.append(f"tag {reference.tag or '(digest)'!r} is not a version: no newer "
                         "tag to look for")
        return rec
    try:
        rec.before = scan_counts(base, db_path)
    except _Skip as why:
        rec.notes.append(f"{reference.familiar}: {why}")
        return rec
    if not rec.before.fixable:
        rec.notes.append(f"{reference.familiar} has no fixable findings: no newer tag needed")
        return rec
    _search(rec, reference, db_path, limit, eol or {})
    return rec


def _search(rec: Recommendation, reference: ImageReference, db_path: str, limit: int,
            eol: dict[str, bool]) -> None:
    from hullguard.model.reference import ImageReference

    assert rec.before is not None
    tags, cut = _list_tags(reference, rec)
    candidates = candidate_tags(reference.tag, tags)
    rec.notes.append(f"{len(tags)} tags listed{' (list cut there)' if cut else ''}, "
                     f"{len(candidates)} candidates, at most {limit} scanned")
    for tag in candidates[:limit]:
        name = str(ImageReference(reference.registry, reference.repository, tag))
        if _try(rec, tag, name, db_path, eol):
            return
    rec.notes.append("no candidate scans better: keep the current tag and upgrade packages")


def _try(rec: Recommendation, tag: str, name: str, db_path: str, eol: dict[str, bool]) -> bool:
    from hullguard.remediate.run import resolve_digest

    assert rec.before is not None
    digest = resolve_digest(name)  # first, and the scan is by digest: what is pinned is
    if not digest:                 # what was scanned, even if the tag moves meanwhile
        rec.notes.append(f"{tag}: its digest could not be resolved")
        return False
    try:
        counts = scan_counts(f"{name}@{digest}", db_path)
    except _Skip as why:
        rec.notes.append(f"{tag}: {why}")
        return False
    if counts.release != rec.before.release and eol.get(counts.release):
        rec.notes.append(f"{tag}: {counts.describe()}; {counts.release} is end of life")
        return False
    if not counts.better_than(rec.before):
        rec.notes.append(f"{tag}: {counts.describe()}; not better")
        return False
    rec.tag, rec.reference, rec.digest, rec.after = tag, name, digest, counts
    return True


def _list_tags(reference: ImageReference, rec: Recommendation) -> tuple[list[str], bool]:
    from hullguard.images.api import SourceOptions
    from hullguard.images.registry.source import client_for

    try:
        with client_for(reference, SourceOptions()) as client:
            tags = client.list_tags(reference.repository, page_size=TAG_PAGE,
                                    max_tags=MAX_TAGS)
    except HullguardError as error:
        rec.notes.append(f"tag list not read: {_one_line(str(error))}")
        return [], False
    return tags, len(tags) >= MAX_TAGS


def _one_line(text: str) -> str:
    """A registry's words for the report: first line, bounded."""
    return (text.splitlines() or [""])[0][:200]
