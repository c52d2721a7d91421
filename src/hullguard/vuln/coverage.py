"""Coverage: which package sources of an image the advisory database can check at all.

"No vulnerabilities found" means nothing when the database holds no records for the image's
distro release or language ecosystem. Every face (``scan`` in each format, ``scan-fleet``,
``respond``) reports coverage from here: per package source (one OS release such as
``debian 12`` or ``alpine 3.20``, or one language ecosystem such as ``PyPI``), how many
packages it has, whether the database holds advisory data for it, from which feed and how old.
The lookup keys are the matcher's own (:func:`hullguard.vuln.match.ecosystems_for`), so
"covered" means exactly "the matcher had records to compare against".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hullguard.model import Distro, Package, Sbom, Status
from hullguard.model.package import LANGUAGE_ECOSYSTEMS
from hullguard.vuln.db import VulnDB
from hullguard.vuln.match import distro_ecosystems

FIX_COMMAND = "hullguard db update"
FIX_HINT = (f"run `{FIX_COMMAND}` (or `hullguard db import FEED` with the distro's or "
            "ecosystem's advisory feed), then scan again")


@dataclass(frozen=True)
class SourceCoverage:
    """One package source of one image and whether the database could check it."""

    source: str  # "debian 12", "alpine 3.20", "PyPI"
    kind: str  # "distro" or "ecosystem"
    packages: int
    covered: bool
    reason: str  # why not covered ("" when covered)
    ecosystems: tuple[str, ...] = ()  # the database keys looked up (Debian:12, Alpine:v3.20)
    feeds: tuple[str, ...] = ()  # the sources that hold records for them
    last_updated: str = ""  # newest import/confirmation of those feeds (ISO 8601 UTC)
    age_days: float | None = None
    fix: str = ""  # the command that adds the missing data ("" when covered)

    def describe(self) -> str:
        """One line for warnings, tables and the declaration."""
        return f"{self.source} ({self.packages} packages): {self.reason}"


# ---------------------------------------------------------------------------- grouping

def _distro_label(distro: Distro | None, kind: str) -> str:
    if distro is None or not distro.id:
        return f"{kind} packages (distribution not identified)"
    version = distro.version_id
    if distro.id == "alpine":
        version = ".".join(version.split(".")[:2])
    elif distro.id != "ubuntu":
        version = version.split(".")[0] if version else distro.codename
    return f"{distro.id} {version}".strip()


def _source_of(package: Package, distro: Distro | None) -> tuple[str, str, tuple[str, ...]]:
    """(label, kind, database keys) of the package source this package belongs to."""
    if package.type.is_os:
        keys = tuple(distro_ecosystems(distro, package.type))
        return _distro_label(distro, str(package.type)), "distro", keys
    ecosystem = LANGUAGE_ECOSYSTEMS.get(package.type, str(package.type))
    keys = (ecosystem,) if package.type in LANGUAGE_ECOSYSTEMS else ()
    return ecosystem, "ecosystem", keys


def package_sources(sbom: Sbom) -> Counter[tuple[str, str, tuple[str, ...]]]:
    """Packages per source. Language packages installed by an OS package are the distro
    feed's to check (the matcher leaves them to it), so they are not counted twice."""
    return Counter(_source_of(p, sbom.distro) for p in sbom.packages if not p.owned_by)


def fix_command(keys: tuple[str, ...]) -> str:
    """The ``db update`` that fetches data for these database keys, or the generic hint."""
    from hullguard.vuln.config import ALPINE_BRANCHES, OSV_ECOSYSTEMS

    for key in keys:
        family, _, release = key.partition(":")
        if family == "Alpine" and release in ALPINE_BRANCHES:
            return (f"hullguard db update --source alpine-{release}-main "
                    f"--source alpine-{release}-community")
        if family == "Alpine" and release:
            return (f'add "{release}" to alpine_branches in the [vulndb] config, then '
                    f"hullguard db update --source alpine-{release}-main "
                    f"--source alpine-{release}-community")
        if family == "Debian":
            return "hullguard db update --source debian"
        if key in OSV_ECOSYSTEMS:
            return f"hullguard db update --source osv-{key}"
    return FIX_HINT


# ---------------------------------------------------------------------------- coverage

def image_coverage(sbom: Sbom, db: VulnDB | None,
                   now: datetime | None = None) -> tuple[SourceCoverage, ...]:
    """Coverage of every package source of ``sbom``; ``db`` None: nothing could be checked."""
    found = sorted(package_sources(sbom).items())
    if db is None:
        return tuple(SourceCoverage(label, kind, n, False, "no advisory database was used",
                                    keys, fix=fix_command(keys))
                     for (label, kind, keys), n in found)
    sources = {s.name: s for s in db.sources()}
    return tuple(_one(label, kind, keys, n, db, sources, now or datetime.now(UTC))
                 for (label, kind, keys), n in found)


def _one(label: str, kind: str, keys: tuple[str, ...], count: int, db: VulnDB,
         sources: dict[str, Any], now: datetime) -> SourceCoverage:
    if not keys:
        reason = ("the image's distribution was not identified" if "not identified" in label
                  else f"hullguard has no advisory feed for {label}")
        return SourceCoverage(label, kind, count, False, reason, fix=FIX_HINT)
    feeds = tuple(sorted({feed for key in keys for feed in db.feeds_for(key)}))
    if not feeds:
        return SourceCoverage(label, kind, count, False,
                              f"the database holds no advisories for {' / '.join(keys)}", keys,
                              fix=fix_command(keys))
    known = [sources[f] for f in feeds if f in sources]
    latest = max((max(s.imported_at, s.checked_at) for s in known), default="")
    age = min((s.age_days(now) for s in known), default=None)
    return SourceCoverage(label, kind, count, True, "", keys, feeds, latest,
                          round(age, 2) if age is not None else None)


def uncovered(items: Iterable[SourceCoverage]) -> list[SourceCoverage]:
    return [item for item in items if not item.covered]


def coverage_dict(item: SourceCoverage) -> dict[str, Any]:
    """The JSON form shared by ``scan -f json``, ``scan-fleet -f json`` and findings.json."""
    return {"source": item.source, "kind": item.kind, "packages": item.packages,
            "covered": item.covered, "reason": item.reason, "ecosystems": list(item.ecosystems),
            "feed": ", ".join(item.feeds), "last_updated": item.last_updated,
            "age_days": item.age_days, "fix": item.fix}


def skipped_content(sbom: Sbom) -> list[str]:
    """What the catalog could not read (unreadable package DBs, truncated files, members over
    a cap): the image was only partly checked, so it must never read as clean."""
    failed = [f"{s.name}: {s.status}" + (f": {s.message}" if s.message else "")
              for s in sbom.statuses if s.status is not Status.OK]
    return [*sbom.warnings, *failed]


def uncovered_warnings(image: str, items: Sequence[SourceCoverage]) -> list[str]:
    """One warning per uncovered source (not per package)."""
    return [f"{image}: {item.describe()}; its packages were NOT checked for vulnerabilities "
            f"(fix: {item.fix})" for item in uncovered(items)]
