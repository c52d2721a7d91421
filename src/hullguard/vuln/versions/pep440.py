"""Python package versions (PEP 440) via ``packaging``, the reference implementation pip uses.

The key wraps ``packaging.version.Version`` (hashable and totally ordered); local versions
(``+ubuntu1``) and epochs are handled by packaging. Legacy non-PEP 440 strings are invalid.
"""

from __future__ import annotations

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version as _PackagingVersion

from hullguard.vuln.versions.base import Key, KeyScheme, invalid

NAME = "pep440"


def key(text: str) -> Key:
    try:
        return (_PackagingVersion(text.strip()),)
    except _PackagingInvalid as error:
        raise invalid(NAME, text, "not a PEP 440 version") from error


SCHEME = KeyScheme(NAME, key)
