"""Debian/Ubuntu package versions: ``[epoch:]upstream[-revision]`` ordered as dpkg does.

Own implementation of dpkg's ``verrevcmp`` (lib/dpkg/version.c): non-digit runs compare
character by character with ``~`` below everything (even the end of the string), letters
below other symbols; digit runs compare numerically; a missing part counts as empty/zero.
We encode that as a tuple key (see :func:`base.padded`) instead of calling univers so
comparisons run in C; the test vectors come from dpkg's own test-suite.
"""

from __future__ import annotations

import re

from hullguard.vuln.versions.base import Key, KeyScheme, invalid, padded, split_evr

NAME = "dpkg"
_RUN_RE = re.compile(r"([^0-9]*)([0-9]*)")
_UPSTREAM_RE = re.compile(r"^[A-Za-z0-9.+~:-]+$")
_REVISION_RE = re.compile(r"^[A-Za-z0-9.+~]*$")


def _order(char: str) -> int:
    if char.isalpha():
        return ord(char)
    if char == "~":
        return -1
    return ord(char) + 256


def _part_key(text: str) -> Key:
    """Flatten alternating non-digit/digit runs; the end of a run orders as 0."""
    flat: list[int] = []
    for letters, digits in _RUN_RE.findall(text):
        if not letters and not digits:
            continue
        flat.extend(_order(c) for c in letters)
        flat.append(0)
        flat.append(int(digits) if digits else 0)
    return padded(flat, 0)


def key(text: str) -> Key:
    text = text.strip()
    epoch, upstream, revision = split_evr(NAME, text)
    if not upstream or not _UPSTREAM_RE.match(upstream) or not _REVISION_RE.match(revision):
        raise invalid(NAME, text, "empty upstream version or characters dpkg rejects")
    if not upstream[0].isdigit():
        raise invalid(NAME, text, "upstream version does not start with a digit")
    return (epoch, _part_key(upstream), _part_key(revision))


SCHEME = KeyScheme(NAME, key)
