"""NuGet versions (NuGet.Versioning ``NuGetVersion``): up to four numeric parts plus SemVer 2.0
pre-release labels compared case-insensitively; build metadata ignored.

Own implementation: ``1.0`` equals ``1.0.0.0`` (missing parts are zero), the fourth part
(``Revision``) orders after Patch, labels follow semver.org precedence with ordinal
case-insensitive string comparison, as NuGet's VersionComparer does.
"""

from __future__ import annotations

import re

from hullguard.vuln.versions.base import Key, KeyScheme, invalid

NAME = "nuget"
_RE = re.compile(
    r"^[vV]?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:\.([0-9]+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def key(text: str) -> Key:
    match = _RE.match(text.strip())
    if not match:
        raise invalid(NAME, text, "not Major[.Minor[.Patch[.Revision]]][-label][+metadata]")
    *numbers, label = match.groups()
    parts = tuple(int(n) if n else 0 for n in numbers)
    if label is None:
        return (*parts, (1,))
    labels = tuple((0, int(x)) if x.isdigit() else (1, x.lower()) for x in label.split("."))
    return (*parts, (0, *labels))


SCHEME = KeyScheme(NAME, key)
