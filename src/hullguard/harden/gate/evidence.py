"""What the rules look at, per image: one :class:`Evidence`, gathered from a scan (the
pipeline's :class:`~hullguard.respond.model.ImageResult`) or read from an incident folder.

Every field that could not be established is ``None`` (not an empty value): a rule that needs
it then fails as "not checked" instead of passing on missing data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hullguard.images.reference import has_kind, parse_source
from hullguard.model.reference import ImageReference

if TYPE_CHECKING:
    from hullguard.model import Sbom
    from hullguard.model.advisory import Finding
    from hullguard.model.secret import SecretFinding
    from hullguard.respond.model import ImageResult

BASE_NAME_LABEL = "org.opencontainers.image.base.name"
BASE_DIGEST_LABEL = "org.opencontainers.image.base.digest"


@dataclass(frozen=True)
class VulnFact:
    id: str
    aliases: tuple[str, ...]
    severity: str  # lower-case level: critical, high, ...
    package: str  # name@version
    fixable: bool
    kev: bool
    epss: float | None
    published: str  # ISO date of the earliest record, "" = unknown


@dataclass(frozen=True)
class Check:
    """A verification made for the gate: did it pass, and what was found."""

    passed: bool
    detail: str


@dataclass(frozen=True)
class Evidence:
    image: str  # as given (a reference, a local source, or the incident's image name)
    name: str  # normalized registry/repository ("" for local sources without one)
    digest: str = ""
    pinned: bool = False  # the reference as written carries a digest
    problem: str = ""  # why the image could not be scanned ("" = scanned)
    user: str | None = None
    vulns: tuple[VulnFact, ...] | None = None
    uncovered: tuple[str, ...] = ()  # package sources the advisory DB could not check
    secrets: tuple[str, ...] | None = None  # "rule at path" per secret found
    licenses: tuple[tuple[str, str], ...] | None = None  # (package, license expression)
    base: str = ""  # the base image name, "" = unknown
    base_created: str = ""  # ISO time the base was built, "" = unknown
    signatures: Mapping[str, Check] | None = None  # key file -> result; None = not checked
    attestations: Mapping[str, Check] | None = None  # predicate name -> result
    notes: tuple[str, ...] = field(default=())


def name_of(image: str) -> tuple[str, bool]:
    """The normalized name and whether the reference is pinned; ("", False) for local kinds."""
    if has_kind(image) and not image.startswith(("registry:", "docker-registry:")):
        return "", False
    source = parse_source(image)
    reference: ImageReference | None = source.reference
    if reference is None:
        return "", False
    return reference.name, reference.digest is not None


def from_result(given: str, result: ImageResult,
                published: Mapping[str, str] | None = None) -> Evidence:
    """Evidence from a pipeline scan of one image."""
    name, pinned = name_of(given)
    if result.sbom is None:
        problem = result.problem.message if result.problem else "not scanned"
        return Evidence(given, name or result.name, pinned=pinned, problem=problem)
    sbom = result.sbom
    return Evidence(
        given, name or "", digest=str(sbom.image.digest or ""), pinned=pinned,
        user=sbom.image.config.user,
        vulns=tuple(_fact(f, published or {}) for f in result.findings if not f.suppressed_by),
        uncovered=tuple(c.source for c in result.uncovered) + tuple(result.skipped),
        secrets=tuple(_secret(s) for s in result.secrets),
        licenses=_licenses(sbom),
        base=result.base or _label(sbom, BASE_NAME_LABEL),
        base_created=_first_layer_created(sbom))


def _secret(secret: SecretFinding) -> str:
    place = secret.locations[0].path if secret.locations else "?"
    more = f" (+{len(secret.locations) - 1} more)" if len(secret.locations) > 1 else ""
    return f"{secret.rule_id} ({secret.redacted}) at {place}{more}"


def _fact(finding: Finding, published: Mapping[str, str]) -> VulnFact:
    return VulnFact(finding.id, finding.aliases, str(finding.severity),
                    f"{finding.package.name}@{finding.package.version}", finding.has_fix,
                    finding.kev is not None, finding.epss.score if finding.epss else None,
                    published.get(finding.id, ""))


def _licenses(sbom: Sbom) -> tuple[tuple[str, str], ...]:
    return tuple((f"{p.name}@{p.version}", license) for p in sbom.packages
                 for license in p.licenses)


def _label(sbom: Sbom, name: str) -> str:
    return dict(sbom.image.config.labels).get(name, "")


def _first_layer_created(sbom: Sbom) -> str:
    """When the image's first layer was made: the base's own build time for the usual
    single-layer bases (alpine, debian, ubuntu, distroless)."""
    for entry in sbom.image.config.history:
        if not entry.empty_layer:
            return entry.created
    return ""


def from_incident_image(image: Mapping[str, Any], sbom: Sbom | None) -> Evidence:
    """Evidence from one ``images[]`` entry of an incident's findings.json (and its SBOM)."""
    given = str(image.get("name", ""))
    name, pinned = name_of(given) if given else ("", False)
    if not image.get("scanned"):
        return Evidence(given, name, pinned=pinned,
                        problem=str(image.get("error") or "not scanned"))
    vulns = tuple(_incident_fact(item) for item in image.get("findings") or []
                  if isinstance(item, dict) and not item.get("suppressed_by"))
    uncovered = tuple(str(c.get("source", "")) for c in image.get("coverage") or []
                      if isinstance(c, dict) and not c.get("covered", True))
    secrets = tuple(_incident_secret(s) for s in image.get("secrets") or []
                    if isinstance(s, dict))
    return Evidence(
        given, name, digest=str(image.get("digest") or ""), pinned=pinned,
        user=_user(sbom), vulns=vulns,
        uncovered=uncovered + tuple(str(s) for s in image.get("skipped") or []),
        secrets=secrets, licenses=_licenses(sbom) if sbom else None,
        base=str(image.get("base") or "") or (_label(sbom, BASE_NAME_LABEL) if sbom else ""),
        base_created=_first_layer_created(sbom) if sbom else "",
        notes=() if _user(sbom) is not None else (
            "the incident's SBOM does not record the image's configured user: non-root is "
            "not checked (gate the image itself)",))


def _user(sbom: Sbom | None) -> str | None:
    """The configured user when the SBOM recorded it; None (not checked) otherwise."""
    if sbom is None or not sbom.image.config.user_known:
        return None
    return sbom.image.config.user


def _incident_fact(item: Mapping[str, Any]) -> VulnFact:
    package = item.get("package") or {}
    epss = item.get("epss") or {}
    return VulnFact(str(item.get("id", "")), tuple(item.get("aliases") or ()),
                    str(item.get("severity", "unknown")).lower(),
                    f"{package.get('name', '?')}@{package.get('version', '?')}",
                    bool(item.get("has_fix")), bool(item.get("kev")),
                    float(epss["score"]) if isinstance(epss.get("score"), int | float) else None,
                    str(item.get("published", "")))


def _incident_secret(item: Mapping[str, Any]) -> str:
    locations = item.get("locations") or [{}]
    first = locations[0] if isinstance(locations[0], dict) else {}
    return f"{item.get('rule_id', '?')} at {first.get('path', '?')}"
