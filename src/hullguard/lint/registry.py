"""The check registry: metadata from ``checks.yaml`` joined with one function per check id.

A check function takes the target's context and yields :class:`Hit` objects; the registry turns
them into findings. ``enforced(level)`` is the subset a hardening level requires
(L1 within L2 within L3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml

from hullguard.errors import InputError
from hullguard.model import Severity
from hullguard.model.lint import LEVELS, LintCheck, LintFinding

TARGETS = ("dockerfile", "image", "kubernetes", "compose")


@dataclass(frozen=True)
class Hit:
    message: str
    location: str = ""
    line: int = 0


CheckFunction = Callable[[Any], Iterable[Hit]]
Function = TypeVar("Function")


def merged(tables: Iterable[Mapping[str, Function]], kind: str) -> dict[str, Function]:
    """A check family's functions by id, from its modules' explicit ``CHECKS`` tables (lint's,
    posture's); an id in two tables is a bug."""
    found: dict[str, Function] = {}
    for table in tables:
        for check_id, function in table.items():
            if check_id in found:
                raise ValueError(f"{kind} {check_id} registered twice")
            found[check_id] = function
    return found


@cache
def all_checks() -> tuple[LintCheck, ...]:
    text = resources.files("hullguard.lint").joinpath("checks.yaml").read_text("utf-8")
    return tuple(_check(raw) for raw in yaml.safe_load(text)["checks"])


def _check(raw: dict[str, Any]) -> LintCheck:
    if raw["level"] not in LEVELS or raw["target"] not in TARGETS:
        raise ValueError(f"check {raw['id']}: bad level or target")
    return LintCheck(raw["id"], raw["title"], Severity.parse(raw["severity"]), raw["level"],
                     raw["nist"], raw["fix"], raw.get("help", ""), (raw["target"],))


def parse_level(level: str) -> str:
    normalized = level.strip().upper()
    if normalized not in LEVELS:
        raise InputError(f"unknown level {level!r}; choose L1, L2 or L3", where="--level")
    return normalized


def enforced(level: str, target: str | None = None) -> tuple[LintCheck, ...]:
    """The checks a hardening level enforces (for one target kind, or all)."""
    rank = LEVELS.index(parse_level(level))
    return tuple(c for c in all_checks() if LEVELS.index(c.level) <= rank
                 and (target is None or target in c.targets))


def functions() -> dict[str, CheckFunction]:
    """Every check's function, by id: the one list of lint's check modules."""
    from hullguard.lint import compose, dockerfile, image, kubernetes

    return merged((dockerfile.CHECKS, image.CHECKS, kubernetes.CHECKS, compose.CHECKS), "check")


def run_checks(target: str, context: Any, name: str, level: str) -> list[LintFinding]:
    """Run the checks ``level`` enforces for ``target`` kind on ``context``."""
    table = functions()
    findings = []
    for lint_check in enforced(level, target):
        for hit in table[lint_check.id](context):
            findings.append(LintFinding(lint_check, name, hit.message, hit.location, hit.line))
    return findings
