"""Go module versions (golang.org/x/mod/semver) and Go toolchain versions.

Semantic versions with a ``v`` prefix (optional here because OSV ranges omit it); ``v1`` and
``v1.2`` are shorthands for ``v1.0.0`` and ``v1.2.0`` as in x/mod/semver. ``+incompatible`` is
build metadata and therefore ignored; pseudo-versions (``v0.0.0-20200101000000-abcdef123456``)
are pre-releases and order by their timestamp. Toolchain versions (``go1.21.4``, ``go1.21rc2``)
are converted by :func:`toolchain_to_semver`. Vectors: x/mod/semver's semver_test.go.
"""

from __future__ import annotations

import re

from hullguard.vuln.versions.base import Key, KeyScheme, invalid
from hullguard.vuln.versions.semver import prerelease_key

NAME = "go"
_NUM = r"0|[1-9][0-9]*"
_IDENT = r"[0-9A-Za-z-]+"
_GO_RE = re.compile(
    rf"^v?({_NUM})(?:\.({_NUM})(?:\.({_NUM})(?:-({_IDENT}(?:\.{_IDENT})*))?"
    rf"(?:\+({_IDENT}(?:\.{_IDENT})*))?)?)?$"
)
_TOOLCHAIN_RE = re.compile(r"^(?:go)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?$")


def key(text: str) -> Key:
    match = _GO_RE.match(text.strip())
    if not match:
        raise invalid(NAME, text, "not a Go semantic version (vMAJOR[.MINOR[.PATCH[-pre]]])")
    major, minor, patch, pre, _build = match.groups()
    return (int(major), int(minor or 0), int(patch or 0), prerelease_key(pre, NAME, text))


def toolchain_to_semver(text: str) -> str:
    """``go1.21.4`` -> ``1.21.4``, ``go1.21`` -> ``1.21.0``, ``go1.21rc2`` -> ``1.21.0-rc.2``.

    The Go vulnerability database writes stdlib versions that way (see its OSV ``stdlib``
    records); anything else raises :class:`InvalidVersion`.
    """
    match = _TOOLCHAIN_RE.match(text.strip())
    if not match:
        raise invalid("go toolchain", text, "not a Go release such as go1.21.4")
    major, minor, patch, kind, number = match.groups()
    core = f"{major}.{minor or 0}.{patch or 0}"
    return f"{core}-{kind}.{number}" if kind else core


SCHEME = KeyScheme(NAME, key)
