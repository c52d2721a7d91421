"""Allowlist for known test fixtures: path globs, secret fingerprints, rule ids (YAML).

Example::

    paths: ["/usr/share/doc/**", "**/testdata/**"]
    fingerprints: ["3f1c0a9b2d4e5f60"]
    rules: ["jwt"]
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from hullguard.errors import InputError
from hullguard.fsutil import read_bounded

_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Allowlist:
    paths: tuple[str, ...] = ()
    fingerprints: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()

    def allows(self, rule_id: str, fingerprint: str, path: str) -> bool:
        """True when the occurrence is a known fixture and must not be reported."""
        if rule_id in self.rules or any(fingerprint.startswith(f) for f in self.fingerprints):
            return True
        outer = path.split("!/", 1)[0]
        candidates = {path, outer, path.lstrip("/"), outer.lstrip("/")}
        return any(fnmatch.fnmatchcase(c, g) for g in self.paths for c in candidates)


def _strings(doc: dict[str, object], key: str, where: str) -> tuple[str, ...]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"'{key}' must be a list of strings", where=where)
    return tuple(value)


def load_allowlist(path: Path) -> Allowlist:
    from hullguard.inventory.yamlsafe import loads_all

    where = str(path)
    try:
        raw = read_bounded(path, _MAX_BYTES + 1)  # + 1: the size message below stays
    except OSError as error:
        raise InputError(f"cannot read allowlist: {error.strerror}", where=where) from None
    if len(raw) > _MAX_BYTES:
        raise InputError("allowlist larger than 1 MiB", where=where)
    docs = loads_all(raw.decode("utf-8", errors="replace"), where).documents
    doc = docs[0] if docs else {}
    if not isinstance(doc, dict):
        raise InputError("allowlist must be a mapping with paths/fingerprints/rules", where=where)
    unknown = set(doc) - {"paths", "fingerprints", "rules"}
    if unknown:
        raise InputError(f"unknown allowlist keys: {', '.join(sorted(map(str, unknown)))}",
                         where=where)
    return Allowlist(_strings(doc, "paths", where),
                     frozenset(f.lower().removeprefix("sha256:")
                               for f in _strings(doc, "fingerprints", where)),
                     frozenset(_strings(doc, "rules", where)))
