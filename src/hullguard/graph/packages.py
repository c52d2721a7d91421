"""``who-has`` queries: ``NAME[@RANGE]`` with an optional ``TYPE:`` prefix.

``openssl``, ``openssl@3.0.2`` (exact), ``openssl@<3.0.7``, ``log4j-core@>=2.0,<2.17.1``,
``pypi:requests@<2.31``, ``npm:@babel/core@<7.23``. Versions are ordered by the package's own
ecosystem (dpkg, apk, rpm, PEP 440, semver, ...) through ``hullguard.vuln.versions``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hullguard.errors import InputError
from hullguard.model.package import LANGUAGE_ECOSYSTEMS, OS_ECOSYSTEMS, PackageType, pep503_name

# PackageType value -> OSV ecosystem name understood by hullguard.vuln.versions
ECOSYSTEMS = {str(kind): name for kind, name in (OS_ECOSYSTEMS | LANGUAGE_ECOSYSTEMS).items()}
_TYPE_ALIASES = {"python": "pypi", "pip": "pypi", "go": "golang", "java": "maven",
                 "rubygems": "gem", "crates": "cargo", "alpine": "apk", "debian": "deb"}
_OPS = ("<=", ">=", "!=", "==", "<", ">", "=")
_CONSTRAINT_RE = re.compile(r"^\s*(<=|>=|!=|==|<|>|=)?\s*([^\s<>=!,]+)\s*$")


@dataclass(frozen=True)
class PackageQuery:
    name: str
    type: str = ""  # PackageType value, "" for any
    constraints: tuple[tuple[str, str], ...] = ()  # (op, version); all must hold

    @property
    def key(self) -> str:
        return name_key(self.name, self.type)

    def __str__(self) -> str:
        text = f"{self.type}:{self.name}" if self.type else self.name
        if self.constraints:
            text += "@" + ",".join(f"{op}{v}" for op, v in self.constraints)
        return text


def name_key(name: str, type: str = "") -> str:
    """The lookup key: lower case; PEP 503 normalization (``-``/``_``/``.`` runs -> ``-``)
    so ``Jinja2``, ``jinja2`` and ``jinja_2`` meet, for every type (a cheap superset)."""
    return pep503_name(name.strip())


def parse_query(text: str) -> PackageQuery:
    """Parse ``[TYPE:]NAME[@RANGE]``; InputError explains the syntax on anything else."""
    raw = text.strip()
    type_, rest = "", raw
    prefix, colon, after = raw.partition(":")
    if colon and re.fullmatch(r"[a-z]+", prefix) and not after.startswith("//"):
        type_ = _TYPE_ALIASES.get(prefix, prefix)
        if type_ not in {t.value for t in PackageType}:
            raise InputError(f"unknown package type {prefix!r}", where=text,
                             hint="one of " + ", ".join(t.value for t in PackageType))
        rest = after
    at = rest.rfind("@")
    name, spec = (rest[:at], rest[at + 1:]) if at > 0 else (rest, "")
    if not re.fullmatch(r"@?[A-Za-z0-9][\w.+/@-]*", name):
        raise InputError(f"not a package name: {name!r}", where=text,
                         hint="e.g. openssl, openssl@<3.0.7, log4j-core@>=2.0,<2.17.1")
    return PackageQuery(name, type_, _constraints(spec, text) if spec else ())


def _constraints(spec: str, where: str) -> tuple[tuple[str, str], ...]:
    found = []
    for part in spec.split(","):
        match = _CONSTRAINT_RE.match(part)
        if not match:
            raise InputError(f"bad version constraint {part!r}", where=where,
                             hint="use OP VERSION with OP one of < <= > >= = != (comma = and)")
        op = match.group(1) or "="
        found.append(("=" if op == "==" else op, match.group(2)))
    return tuple(found)


@lru_cache(maxsize=65536)
def _parsed(ecosystem: str, version: str) -> Any:
    """A comparable version, cached: a fleet has few distinct versions of one package."""
    from hullguard.vuln.versions import parse_version

    return parse_version(ecosystem, version)


def matches(query: PackageQuery, type_: str, version: str) -> bool | None:
    """Does ``version`` satisfy every constraint? None when it cannot be ordered."""
    if not query.constraints:
        return True
    ecosystem = ECOSYSTEMS.get(type_, "SEMVER")
    try:
        have = _parsed(ecosystem, version)
        return all(_holds(op, have, _parsed(ecosystem, want)) for op, want in query.constraints)
    except (InputError, TypeError):
        return None


def _holds(op: str, have: Any, want: Any) -> bool:
    if op in ("=", "!="):
        return bool(have == want) == (op == "=")
    return bool({"<": have < want, "<=": have <= want, ">": have > want,
                 ">=": have >= want}[op])
