"""Match SBOM packages against advisories: which record, which range, which comparison.

Rules (docs/matching.md has the long form):

* A package is looked up under ``(ecosystem, name, by_source)`` keys from
  :func:`ecosystems_for`: language packages under their OSV ecosystem with the ecosystem's
  name normalization; OS packages only under their own distro *and release* (``Alpine:v3.18``,
  ``Debian:12``), by binary name and by source name (apk origin, dpkg ``Source``). Language
  packages installed by an OS package (``owned_by`` set) are left to the distro feed so one
  flaw is not counted twice.
* OSV ranges are evaluated with the spec's algorithm (sorted events, ``introduced`` /
  ``fixed`` / ``last_affected`` / ``limit``), ``versions`` lists by parsed equality, GIT ranges
  are skipped (images carry no commit), withdrawn records are ignored.
* Versions that cannot be parsed are returned in :attr:`MatchResult.unparseable`, never
  silently matched or dropped.
* Records that share an id or alias are merged into one :class:`Finding` per package whose id
  is the CVE when there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

from hullguard.errors import InputError
from hullguard.model import (
    Advisory,
    Affected,
    CvssScore,
    Distro,
    Epss,
    Event,
    Finding,
    Kev,
    MatchExplanation,
    Package,
    PackageType,
    Range,
    Sbom,
)
from hullguard.model.package import LANGUAGE_ECOSYSTEMS
from hullguard.textsafe import has_surrogates
from hullguard.vuln.importers.debian import release_ecosystem
from hullguard.vuln.importers.osv import normalize_name  # the key the importers store
from hullguard.vuln.severity import Rated, nvd_ratings, rate, ratings_of
from hullguard.vuln.versions import SCHEMES, InvalidVersion, Version, VersionScheme, scheme_for
from hullguard.vuln.versions import golang as go_versions
from hullguard.vuln.versions import semver as semver_versions

Target = tuple[str, str, bool]  # (ecosystem key, name to look up, by_source)
Lookup = Callable[[str, str], Sequence[Advisory]]

_BY_NAME = {scheme.name: scheme for scheme in SCHEMES.values()}
_RPM_DISTROS = {"rocky": "Rocky Linux", "almalinux": "AlmaLinux", "mageia": "Mageia",
                "openeuler": "openEuler"}


class Unparseable(NamedTuple):
    package: Package
    version: str
    reason: str


@dataclass(frozen=True)
class MatchResult:
    findings: tuple[Finding, ...]
    unparseable: tuple[Unparseable, ...] = ()


class EnrichmentData(Protocol):
    """What ``enrich`` returns per id (``hullguard.vuln.db.Enrichment`` has this shape)."""

    @property
    def cvss(self) -> tuple[CvssScore, ...]: ...
    @property
    def epss(self) -> Epss | None: ...
    @property
    def kev(self) -> Kev | None: ...


Enrich = Callable[[Iterable[str]], Mapping[str, EnrichmentData]]


# ---------------------------------------------------------------------------- lookup keys

def distro_ecosystems(distro: Distro | None, kind: PackageType) -> list[str]:
    """The OSV ecosystem keys of this distro release for OS packages of ``kind``."""
    if distro is None:
        return []
    major = distro.version_id.split(".")[0]
    if kind is PackageType.APK:
        if distro.id == "alpine" and distro.version_id:
            return [f"Alpine:{distro.release}"]
        return {"wolfi": ["Wolfi"], "chainguard": ["Chainguard"]}.get(distro.id, [])
    if kind is PackageType.DEB:
        if distro.id == "debian":
            if major:
                return [f"Debian:{major}"]  # OSV and our Debian importer: Debian:<number>
            return [release_ecosystem(distro.codename)] if distro.codename else []
        if distro.id == "ubuntu" and distro.version_id:
            return [f"Ubuntu:{distro.version_id}", f"Ubuntu:{distro.version_id}:LTS"]
        return []
    name = _RPM_DISTROS.get(distro.id)
    return [f"{name}:{major}"] if name and major else []


def ecosystems_for(package: Package, distro: Distro | None) -> list[Target]:
    """Where to look this package up: ``(ecosystem, name, by_source)`` triples."""
    if package.type.is_os:
        source = package.source_name or package.name
        return [t for eco in distro_ecosystems(distro, package.type)
                for t in ((eco, package.name, False), (eco, source, True))]
    if package.owned_by:
        return []  # installed by an OS package: the distro feed covers it (no double count)
    ecosystem = LANGUAGE_ECOSYSTEMS.get(package.type)
    if ecosystem is None:
        return []
    return [(ecosystem, normalize_name(ecosystem, package.name), False)]


def installed_version(package: Package, by_source: bool) -> str:
    """The version to compare: the source version for source-keyed distro records, the Go
    toolchain as semver for ``stdlib``, the package version otherwise."""
    if by_source and package.source_version:
        return package.source_version
    if package.type is PackageType.GO_MODULE and package.name in ("stdlib", "toolchain"):
        return go_versions.toolchain_to_semver(package.version)
    return package.version


# ---------------------------------------------------------------------------- ranges

def _scheme(range_type: str, ecosystem: str) -> VersionScheme:
    if range_type == "SEMVER":  # Go writes SEMVER ranges; its versions carry a "v"
        return go_versions.SCHEME if ecosystem == "Go" else semver_versions.SCHEME
    return scheme_for(ecosystem)


class _Bad(Exception):
    """A bound of a record cannot be parsed: the range is reported, not guessed."""


BadBound = _Bad  # public name for callers that evaluate entries themselves (explain)


def _bound(scheme: VersionScheme, text: str) -> Version:
    try:
        return scheme.parse(text)
    except InvalidVersion as error:
        raise _Bad(f"bound {text[:60]!r} is not a {scheme.name} version") from error


Bound = tuple[Version | None, Event]


def _sorted_events(scheme: VersionScheme, events: Sequence[Event]) -> list[Bound]:
    """Events with parsed versions, sorted; ``introduced: 0`` (None) sorts first."""
    parsed: list[Bound] = []
    for event in events:
        text = event.introduced or event.fixed or event.last_affected
        if event.limit:
            continue
        parsed.append((None if event.introduced == "0" else _bound(scheme, text), event))
    order = {"introduced": 0, "fixed": 1, "last_affected": 2}
    return sorted(parsed, key=lambda p: (p[0] is not None, p[0].key if p[0] else (),
                                         order[_kind(p[1])]))


_PREPARED: dict[int, tuple[Range, str, list[Bound]]] = {}
_PREPARED_MAX = 200_000


def _prepared(rng: Range, scheme: VersionScheme) -> list[Bound]:
    """Sorted, parsed events of a range, cached by identity: records come from a DB cache or
    an in-memory index and are matched against many packages, so parsing and sorting their
    events once is most of the speed-up (the entry keeps the range alive, so ids stay valid)."""
    hit = _PREPARED.get(id(rng))
    if hit is not None and hit[0] is rng and hit[1] == scheme.name:
        return hit[2]
    events = _sorted_events(scheme, rng.events)
    if len(_PREPARED) >= _PREPARED_MAX:
        _PREPARED.clear()
    _PREPARED[id(rng)] = (rng, scheme.name, events)
    return events


def _kind(event: Event) -> str:
    if event.introduced:
        return "introduced"
    return "fixed" if event.fixed else "last_affected"


def _before_limits(scheme: VersionScheme, version: Version, events: Sequence[Event]) -> bool:
    limits = [e.limit for e in events if e.limit]
    return not limits or any(
        limit == "*" or "*" in limit or version < _bound(scheme, limit) for limit in limits)


def evaluate_range(rng: Range, ecosystem: str, version: Version) -> str | None:
    """The OSV evaluation of one ECOSYSTEM/SEMVER range: a rule text when ``version`` is
    affected, else None. Raises ``_Bad`` for bounds that cannot be parsed."""
    scheme = _scheme(rng.type, ecosystem)
    if not _before_limits(scheme, version, rng.events):
        return None
    rule: str | None = None
    events = _prepared(rng, scheme)
    for bound, event in events:
        if event.introduced and (bound is None or version >= bound):
            rule = f"introduced {event.introduced} <= {version.text}"
        elif bound is not None and (version >= bound if event.fixed else version > bound):
            rule = None  # a fixed (>=) or last_affected (>) event closes the interval
    return rule and _upper(rule, version, events)


def _upper(rule: str, version: Version, events: Sequence[Bound]) -> str:
    """Add the closing bound (the smallest fixed/last_affected above ``version``) to a rule."""
    above = [(b, e) for b, e in events if b is not None and not e.introduced and b >= version]
    if not above:
        return f"{rule} (no fixed version)"
    event = above[0][1]
    if event.fixed:
        return f"{rule} < fixed {event.fixed}"
    return f"{rule} <= last_affected {event.last_affected}"


def fixed_versions(affected: Affected, ecosystem: str, version: Version) -> list[str]:
    """The ``fixed`` bounds above the installed version (where upgrading helps)."""
    out = []
    for rng in affected.ranges:
        if rng.type not in ("ECOSYSTEM", "SEMVER"):
            continue
        scheme = _scheme(rng.type, ecosystem)
        for event in rng.events:
            try:
                if event.fixed and scheme.parse(event.fixed) > version:
                    out.append(event.fixed)
            except (InvalidVersion, TypeError):
                continue
    return out


def _listed_keys(scheme: VersionScheme, versions: tuple[str, ...]) -> frozenset[object]:
    return _listed_keys_cached(scheme.name, versions)


@lru_cache(maxsize=8_192)
def _listed_keys_cached(scheme_name: str, versions: tuple[str, ...]) -> frozenset[object]:
    scheme = _BY_NAME[scheme_name]
    keys = set()
    for text in versions:
        try:
            keys.add(scheme.parse(text).key)
        except InvalidVersion:
            continue  # a bad entry of a list cannot equal a valid installed version
    return frozenset(keys)


def affected_rules(affected: Affected, version_text: str) -> list[str]:
    """Every reason ``version_text`` is affected by this entry (empty: not affected).

    Raises InvalidVersion for an installed version the ecosystem cannot order and ``_Bad``
    for a record bound that cannot be parsed.
    """
    rules = []
    scheme = scheme_for(affected.ecosystem)
    if affected.versions and (
            version_text in affected.versions
            or scheme.parse(version_text).key in _listed_keys(scheme, affected.versions)):
        rules.append(f"{version_text} listed in versions")
    for rng in affected.ranges:
        if rng.type in ("ECOSYSTEM", "SEMVER"):
            version = _scheme(rng.type, affected.ecosystem).parse(version_text)
            rule = evaluate_range(rng, affected.ecosystem, version)
            if rule:
                rules.append(f"{rng.type} {rule}")
    return rules


# ---------------------------------------------------------------------------- packages

@dataclass(frozen=True)
class _Hit:
    """One advisory that matched one package (before alias merging)."""

    advisory: Advisory
    explanations: tuple[MatchExplanation, ...]
    fixed: tuple[str, ...]


def _entry_applies(affected: Affected, target: Target, package: Package) -> bool:
    ecosystem, name, by_source = target
    if affected.ecosystem != ecosystem:
        return False
    if affected.by_source != by_source and not (package.type.is_os and not affected.by_source):
        return False
    return normalize_name(ecosystem, affected.name) == name


def _check_entry(package: Package, target: Target, affected: Affected,
                 advisory: Advisory) -> tuple[list[MatchExplanation], list[str]]:
    ecosystem, name, by_source = target
    version_text = installed_version(package, by_source)
    rules = affected_rules(affected, version_text)
    explanations = [MatchExplanation(advisory.id, advisory.source, ecosystem, name,
                                     version_text, rule) for rule in rules]
    if not rules:
        return [], []
    version = scheme_for(ecosystem).parse(version_text)
    return explanations, fixed_versions(affected, ecosystem, version)


def _match_advisory(package: Package, targets: Sequence[Target], advisory: Advisory,
                    problems: list[Unparseable]) -> _Hit | None:
    explanations: list[MatchExplanation] = []
    fixed: list[str] = []
    for affected in advisory.affected:
        for target in targets:
            if not _entry_applies(affected, target, package):
                continue
            try:
                found, fixes = _check_entry(package, target, affected, advisory)
            except InputError as error:  # InvalidVersion, or a record's unknown ecosystem
                problems.append(Unparseable(package, package.version, error.message))
                return None
            except _Bad as error:
                problems.append(Unparseable(package, package.version,
                                            f"{advisory.id}: {error}"))
                continue
            explanations += [e for e in found if e not in explanations]
            fixed += [f for f in fixes if f not in fixed]
    if not explanations:
        return None
    return _Hit(advisory, tuple(explanations), tuple(fixed))


def _candidates(targets: Sequence[Target], lookup: Lookup) -> list[Advisory]:
    seen: dict[tuple[str, str], Advisory] = {}
    for ecosystem, name, _by_source in targets:
        # a lone surrogate (hostile SBOM) names no advisory, and SQLite cannot encode it
        for advisory in () if has_surrogates(name) else lookup(ecosystem, name):
            if not advisory.withdrawn:
                seen.setdefault((advisory.source, advisory.id), advisory)
    return list(seen.values())


def _package_hits(package: Package, distro: Distro | None, advisories: Iterable[Advisory],
                  problems: list[Unparseable]) -> list[_Hit]:
    targets = ecosystems_for(package, distro)
    hits = []
    for advisory in advisories:
        if advisory.withdrawn:
            continue
        hit = _match_advisory(package, targets, advisory, problems)
        if hit is not None:
            hits.append(hit)
    return hits


def match_package(package: Package, distro: Distro | None,
                  advisories: Iterable[Advisory]) -> list[Finding]:
    """Findings of one package against candidate ``advisories`` (aliases merged)."""
    return _findings(package, _package_hits(package, distro, advisories, []), {})


def match_sbom(sbom: Sbom, lookup: Lookup, enrich: Enrich | None = None) -> MatchResult:
    """Match every package of ``sbom``; ``lookup(ecosystem, name)`` gives candidate records
    (``VulnDB.advisories_for``), ``enrich(ids)`` CVSS/EPSS/KEV by id (``VulnDB.enrich``)."""
    problems: list[Unparseable] = []
    per_package = []
    for package in sbom.packages:
        targets = ecosystems_for(package, sbom.distro)
        if targets:
            hits = _package_hits(package, sbom.distro, _candidates(targets, lookup), problems)
            per_package.append((package, hits))
    ids = {i for _p, hits in per_package for h in hits for i in _ids(h.advisory)}
    extra = dict(enrich(sorted(ids))) if enrich and ids else {}
    findings = [f for package, hits in per_package for f in _findings(package, hits, extra)]
    return MatchResult(tuple(findings), tuple(_unique(problems)))


def _unique(problems: list[Unparseable]) -> list[Unparseable]:
    seen: dict[tuple[str, str, str], Unparseable] = {}
    for problem in problems:
        seen.setdefault((problem.package.key, problem.version, problem.reason), problem)
    return list(seen.values())


# ---------------------------------------------------------------------------- merging

def _ids(advisory: Advisory) -> set[str]:
    return {advisory.id, *advisory.aliases}


def _groups(hits: Sequence[_Hit]) -> list[list[_Hit]]:
    """Hits whose id sets overlap (directly or through a chain) form one group."""
    groups: list[tuple[set[str], list[_Hit]]] = []
    for hit in hits:
        ids = _ids(hit.advisory)
        joined = [g for g in groups if g[0] & ids]
        merged_ids, merged_hits = set(ids), [hit]
        for group in joined:
            merged_ids |= group[0]
            merged_hits = group[1] + merged_hits
            groups.remove(group)
        groups.append((merged_ids, merged_hits))
    return [g[1] for g in groups]


def preferred_id(ids: Iterable[str]) -> str:
    """CVE first, then GHSA, then anything else; alphabetical within a kind."""
    rank = {"CVE": 0, "GHSA": 1}
    return min(ids, key=lambda i: (rank.get(i.split("-", 1)[0].upper(), 2), i))


def _findings(package: Package, hits: Sequence[_Hit],
              extra: Mapping[str, EnrichmentData]) -> list[Finding]:
    out = []
    for group in _groups(hits):
        ids = set().union(*(_ids(h.advisory) for h in group))
        main = preferred_id(ids)
        records = [h.advisory for h in group]
        enrichments = [extra[i] for i in sorted(ids) if i in extra]
        winner = rate(_ratings(records, ids, extra))
        fixed = sorted({f for h in group for f in h.fixed})
        out.append(Finding(
            id=main, aliases=tuple(sorted(ids - {main})), package=package,
            severity=winner.severity, severity_source=winner.source,
            fixed_versions=tuple(fixed), cvss=winner.cvss,
            epss=_epss(extra.get(main), enrichments), kev=_kev(enrichments),
            summary=next((r.summary for r in records if r.summary), ""),
            explanations=tuple(e for h in group for e in h.explanations)))
    return sorted(out, key=lambda f: f.id)


def _ratings(records: Sequence[Advisory], ids: set[str],
             extra: Mapping[str, EnrichmentData]) -> list[Rated]:
    """Severity statements of the matched records, NVD's CVSS for the ids, and those of every
    other record in the database with one of the ids (``Enrichment.ratings``: a GHSA record
    of another package, Debian's urgency for a CVE); see :mod:`hullguard.vuln.severity`."""
    out = [r for record in records for r in ratings_of(record)]
    for i in sorted(ids):
        if i in extra:
            out += nvd_ratings(i, extra[i].cvss)
            out += getattr(extra[i], "ratings", ())  # optional: test doubles may lack it
    return out


def _epss(preferred: EnrichmentData | None, found: Sequence[EnrichmentData]) -> Epss | None:
    """EPSS of the preferred (CVE) id, else of any alias that has one."""
    if preferred is not None and preferred.epss is not None:
        return preferred.epss
    return next((e.epss for e in found if e.epss is not None), None)


def _kev(found: Sequence[EnrichmentData]) -> Kev | None:
    return next((e.kev for e in found if e.kev is not None), None)
