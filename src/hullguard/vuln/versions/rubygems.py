"""RubyGems versions, ordered like ``Gem::Version#<=>`` (rubygems/version.rb).

Own implementation: the version is checked against Gem::Version's pattern, ``-`` becomes
``.pre.``, segments are runs of digits (integers) or letters (strings, which sort below any
integer, i.e. pre-releases); trailing zeros of the numeric and of the string part are dropped
(``canonical_segments``) and missing segments compare as ``0`` (padded key).
"""

from __future__ import annotations

import re

from hullguard.vuln.versions.base import Key, KeyScheme, invalid, padded

NAME = "rubygems"
_PATTERN = re.compile(r"^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
_SEGMENT = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE)


def _drop_trailing_zeros(segments: list[int | str]) -> list[int | str]:
    while segments and segments[-1] == 0:
        segments.pop()
    return segments


def key(text: str) -> Key:
    text = text.strip()
    if not _PATTERN.match(text):
        raise invalid(NAME, text, "does not match Gem::Version's pattern")
    segments: list[int | str] = [int(s) if s.isdigit() else s
                                 for s in _SEGMENT.findall(text.replace("-", ".pre."))]
    first_string = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    canonical = (_drop_trailing_zeros(segments[:first_string])
                 + _drop_trailing_zeros(segments[first_string:]))
    # strings (pre-release markers) sort below every integer, integers numerically
    return padded(((0, s) if isinstance(s, str) else (1, s) for s in canonical), (1, 0))


SCHEME = KeyScheme(NAME, key)
