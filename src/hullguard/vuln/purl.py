"""Package-URL matching for suppressions: a pattern without version or qualifiers matches every
version / qualifier set of the package it names."""

from __future__ import annotations

from functools import lru_cache

from packageurl import PackageURL

from hullguard.model.package import pep503_name


@lru_cache(maxsize=4096)
def _parse(text: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _norm_name(purl_type: str, name: str) -> str:
    if purl_type == "pypi":
        return pep503_name(name)
    return name


def purl_matches(pattern: str, purl: str) -> bool:
    """True when ``purl`` is the package ``pattern`` names (version and qualifiers compared
    only when the pattern gives them)."""
    want, have = _parse(pattern.strip()), _parse(purl)
    if want is None or have is None or want.type != have.type:
        return False
    if (want.namespace or "") != (have.namespace or "") and want.type != "pypi":
        return False
    if _norm_name(want.type, want.name) != _norm_name(have.type, have.name):
        return False
    if want.version and want.version != have.version:
        return False
    qualifiers = have.qualifiers if isinstance(have.qualifiers, dict) else {}
    wanted = want.qualifiers if isinstance(want.qualifiers, dict) else {}
    # ``package-id`` is the qualifier our CycloneDX bom-refs add (hullguard.sbom.ids.bom_ref),
    # not part of the package's identity: a VEX made from our SBOM refers to packages with it.
    return all(qualifiers.get(key) == value for key, value in wanted.items()
               if key != "package-id")
