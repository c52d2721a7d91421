"""Version ordering per ecosystem.

``parse_version(ecosystem, text)`` returns a totally ordered :class:`Version` (or raises
:class:`InvalidVersion`); ``compare`` is the three-way form; ``scheme_for`` maps an OSV
ecosystem name (``Alpine:v3.18`` maps by its prefix ``Alpine``) to its :class:`VersionScheme`.
A new ecosystem is one module with a ``SCHEME`` and one line in :data:`SCHEMES`.
"""

from __future__ import annotations

from hullguard.errors import InputError
from hullguard.vuln.versions import (
    apk,
    composer,
    dpkg,
    golang,
    maven,
    nuget,
    pep440,
    rpm,
    rubygems,
    semver,
)
from hullguard.vuln.versions.base import InvalidVersion, Version, VersionScheme

# OSV ecosystem name (the part before any ':') -> ordering. "SEMVER" is the OSV range type.
SCHEMES: dict[str, VersionScheme] = {
    "Alpine": apk.SCHEME, "Wolfi": apk.SCHEME, "Chainguard": apk.SCHEME,
    "Debian": dpkg.SCHEME, "Ubuntu": dpkg.SCHEME,
    "Red Hat": rpm.SCHEME, "Rocky Linux": rpm.SCHEME, "AlmaLinux": rpm.SCHEME,
    "openSUSE": rpm.SCHEME, "SUSE": rpm.SCHEME, "Mageia": rpm.SCHEME, "openEuler": rpm.SCHEME,
    "Photon OS": rpm.SCHEME, "Azure Linux": rpm.SCHEME,
    "PyPI": pep440.SCHEME,
    "npm": semver.SCHEME, "crates.io": semver.SCHEME, "SEMVER": semver.SCHEME,
    "Go": golang.SCHEME,
    "Maven": maven.SCHEME,
    "RubyGems": rubygems.SCHEME,
    "NuGet": nuget.SCHEME,
    "Packagist": composer.SCHEME,
}


class UnknownEcosystem(InputError):
    """No version ordering is known for this ecosystem."""


__all__ = [
    "SCHEMES", "InvalidVersion", "UnknownEcosystem", "Version", "VersionScheme", "compare",
    "parse_version", "scheme_for",
]


def scheme_for(ecosystem: str) -> VersionScheme:
    scheme = SCHEMES.get(ecosystem.split(":", 1)[0])
    if scheme is None:
        raise UnknownEcosystem(f"no version ordering for ecosystem {ecosystem[:60]!r}",
                               where="ecosystem", hint="known: " + ", ".join(sorted(SCHEMES)))
    return scheme


def parse_version(ecosystem: str, text: str) -> Version:
    return scheme_for(ecosystem).parse(text)


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to or after ``b`` in ``ecosystem``."""
    scheme = scheme_for(ecosystem)
    left, right = scheme.parse(a), scheme.parse(b)
    return (left > right) - (left < right)
