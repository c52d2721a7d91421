"""Composer/Packagist versions: normalized like Composer's ``VersionParser::normalize`` and
ordered like PHP's ``version_compare`` (what Composer's constraints use).

Own implementation. Normalization: optional ``v``, up to four numeric parts padded to four
(``1.2`` -> ``1.2.0.0``), an optional stability suffix (``alpha``/``a``, ``beta``/``b``,
``RC``, ``patch``/``pl``/``p``, ``stable``) with a number, optional ``-dev``. ``dev-<branch>``
versions have no order and are invalid. version_compare: parts split at ``.``/``-``/``_``/``+``
and digit/letter boundaries; ``dev < alpha = a < beta = b < RC = rc < # (numbers) < pl = p``;
after an equal prefix the longer version wins when its next part is a number, otherwise that
part is compared with ``#``.
"""

from __future__ import annotations

import re

from hullguard.vuln.versions.base import Key, KeyScheme, invalid

NAME = "composer"
_NORMAL_RE = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:[._-]?(stable|beta|b|rc|alpha|a|patch|pl|p)((?:[.-]?\d+)*))?([.-]?dev)?$",
    re.IGNORECASE,
)
_PART_RE = re.compile(r"\d+|[A-Za-z]+")
# PHP's compare_special_version_forms: the first entry that *prefixes* the part wins.
_FORMS = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3),
          ("#", 4), ("pl", 5), ("p", 5))
_UNKNOWN_FORM = -6  # PHP: any other string sorts below "dev"
_END = (4, -1)  # "nothing left": below any number, above any form below "#"


def normalize(text: str) -> str:
    match = _NORMAL_RE.match(text.strip())
    if not match:
        raise invalid(NAME, text, "not a Composer version (dev branches have no order)")
    *numbers, stability, number, dev = match.groups()
    out = ".".join(n or "0" for n in numbers)
    if stability and stability.lower() != "stable":
        kind = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch"}.get(
            stability.lower(), stability.lower())
        out += f"-{kind}{(number or '').lstrip('.-')}"  # Composer keeps e.g. RC1 as written
    return out + ("-dev" if dev else "")


def key(text: str) -> Key:
    parts: list[tuple[int, int]] = []
    for part in _PART_RE.findall(normalize(text)):
        if part.isdigit():
            parts.append((4, int(part)))
        else:
            form = next((rank for name, rank in _FORMS if part.startswith(name)), _UNKNOWN_FORM)
            parts.append((form, 0))
    return (*parts, _END)


SCHEME = KeyScheme(NAME, key)
