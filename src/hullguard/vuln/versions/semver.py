"""Semantic Versioning 2.0.0 (npm, crates.io, and OSV ``SEMVER`` ranges).

Own implementation (a few lines, and a tuple key for speed): ``MAJOR.MINOR.PATCH[-pre][+build]``
with precedence per semver.org section 11: numeric identifiers compare numerically and below
alphanumeric ones, a release is above its pre-releases, a longer pre-release list wins on a tie,
build metadata is ignored. A leading ``v`` or ``=`` is accepted (node-semver does the same).
Vectors: the precedence examples of semver.org and node-semver's test fixtures.
"""

from __future__ import annotations

import re

from hullguard.vuln.versions.base import Key, KeyScheme, invalid

_NUM = r"0|[1-9][0-9]*"
_IDENT = r"[0-9A-Za-z-]+"
SEMVER_RE = re.compile(
    rf"^[v=]?\s*({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?(?:\+({_IDENT}(?:\.{_IDENT})*))?$"
)
RELEASE = (1,)  # sorts above any pre-release tuple (0, ...)


def prerelease_key(pre: str | None, scheme: str, text: str) -> Key:
    if pre is None:
        return RELEASE
    parts: list[tuple[int, int | str]] = []
    for ident in pre.split("."):
        if ident.isdigit():
            if len(ident) > 1 and ident[0] == "0":
                raise invalid(scheme, text, "numeric pre-release identifier with leading zero")
            parts.append((0, int(ident)))
        else:
            parts.append((1, ident))
    return (0, *parts)


def _key(text: str) -> Key:
    match = SEMVER_RE.match(text.strip())
    if not match:
        raise invalid("semver", text, "not MAJOR.MINOR.PATCH[-pre][+build]")
    major, minor, patch, pre, _build = match.groups()
    return (int(major), int(minor), int(patch), prerelease_key(pre, "semver", text))


SCHEME = KeyScheme("semver", _key)
