"""What the CycloneDX and SPDX readers share: purls to package types, distro guesses, skips."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from hullguard.errors import InputError
from hullguard.model import Digest, Distro, Package, PackageType

_TYPES = {t.value: t for t in PackageType}


@dataclass(frozen=True)
class ParsedPurl:
    type: PackageType
    namespace: str
    name: str
    version: str
    qualifiers: tuple[tuple[str, str], ...]

    def qualifier(self, key: str) -> str:
        return dict(self.qualifiers).get(key, "")


@lru_cache(maxsize=65536)
def parse_purl(text: str) -> ParsedPurl | str:
    """The parsed purl, or the reason it cannot become a Package (for the skip warning)."""
    from packageurl import PackageURL

    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return "malformed purl"
    kind = _TYPES.get(purl.type)
    if kind is None:
        return f"purl type {purl.type!r}"
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    return ParsedPurl(kind, purl.namespace or "", purl.name, purl.version or "",
                      tuple(sorted((str(k), str(v)) for k, v in qualifiers.items())))


@dataclass
class Skips:
    """Components left out, counted by reason, reported as one warning."""

    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str) -> None:
        self.reasons[reason] += 1

    def warnings(self) -> tuple[str, ...]:
        if not self.reasons:
            return ()
        parts = ", ".join(f"{count} with {reason}" for reason, count in
                          sorted(self.reasons.items()))
        return (f"skipped components the model cannot represent: {parts}",)


def distro_from_purls(packages: tuple[Package, ...]) -> Distro | None:
    """syft writes ``distro=alpine-3.18.9``, trivy ``distro=3.18.9`` with the id as namespace."""
    for package in packages:
        if not package.type.is_os:
            continue
        parsed = parse_purl(package.purl)
        if isinstance(parsed, ParsedPurl) and parsed.qualifier("distro"):
            distro_id = parsed.namespace.lower()
            version = parsed.qualifier("distro").removeprefix(f"{distro_id}-")
            return Distro(id=distro_id, version_id=version)
    return None


def upstream(purl: ParsedPurl) -> tuple[str, str]:
    """syft's ``upstream=NAME[@VERSION]`` qualifier as (name, version)."""
    name, _, version = purl.qualifier("upstream").partition("@")
    return name, version


def digest_or_none(text: str) -> Digest | None:
    try:
        return Digest.parse(text.strip())
    except InputError:  # a bad digest in a peer document is just unknown
        return None


def split_tool(text: str) -> tuple[str, str]:
    """``syft-1.18.1`` -> (``syft``, ``1.18.1``)."""
    name, dash, version = text.strip().rpartition("-")
    if dash and version[:1].isdigit():
        return name, version
    return text.strip(), ""
