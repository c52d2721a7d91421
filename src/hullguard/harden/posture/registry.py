"""The posture check registry: metadata from ``checks.yaml`` joined with one function per id.

A check function takes the platform's context and returns :class:`Outcome` objects (pass,
fail or manual, each with its evidence). An endpoint the token may not read
(:class:`~.http.Denied`) turns that check into "manual" with the reason and the steps to
verify by hand: never a pass. The checks are lint's :class:`~hullguard.model.lint.LintCheck`
and the outcomes lint's findings (with a status), so lint's writers render them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from hullguard.harden.posture.http import Denied
from hullguard.lint.registry import merged, parse_level
from hullguard.model import Severity
from hullguard.model.lint import LEVELS, LintCheck, LintFinding, LintReport

PLATFORMS = ("dockerhub", "harbor", "registry")
FIELDS = ("id", "title", "severity", "level", "nist", "platform", "passes", "fix", "api")


@dataclass(frozen=True)
class Outcome:
    status: str  # pass | fail | manual
    message: str  # the evidence: which token, which repository, which setting
    location: str = ""


def passed(message: str, location: str = "") -> Outcome:
    return Outcome("pass", message, location)


def failed(message: str, location: str = "") -> Outcome:
    return Outcome("fail", message, location)


def manual(message: str, location: str = "") -> Outcome:
    return Outcome("manual", message, location)


CheckFunction = Callable[[Any], Iterable[Outcome]]


@cache
def definitions() -> tuple[dict[str, Any], ...]:
    """The raw check definitions (the docs generator reads these too)."""
    text = resources.files("hullguard.harden.posture").joinpath("checks.yaml").read_text(
        "utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster start-up
    raws = tuple(yaml.load(text, Loader=loader)["checks"])  # a safe loader
    for raw in raws:
        missing = [name for name in FIELDS if not raw.get(name)]
        if missing or raw["level"] not in LEVELS or raw["platform"] not in PLATFORMS:
            raise ValueError(f"posture check {raw.get('id')}: bad or missing {missing}")
    return raws


@cache
def all_checks() -> tuple[LintCheck, ...]:
    return tuple(_as_lint_check(raw) for raw in definitions())


def _as_lint_check(raw: dict[str, Any]) -> LintCheck:
    fix = f"{raw['fix'].strip()} API: {raw['api'].strip()}"
    return LintCheck(raw["id"], raw["title"], Severity.parse(raw["severity"]), raw["level"],
                     raw["nist"], fix, f"Passes when {raw['passes'].strip()}",
                     (raw["platform"],))


def verify_steps(check_id: str) -> str:
    """How to verify a check by hand (its ``verify`` text, else its fix)."""
    raw = next(r for r in definitions() if r["id"] == check_id)
    return str(raw.get("verify") or raw["fix"]).strip()


def enforced(level: str, platform: str) -> tuple[LintCheck, ...]:
    rank = LEVELS.index(parse_level(level))
    return tuple(c for c in all_checks()
                 if LEVELS.index(c.level) <= rank and platform in c.targets)


def functions() -> dict[str, CheckFunction]:
    """Every posture check's function, by id: the one list of the platforms' check modules."""
    from hullguard.harden.posture import distribution, dockerhub, harbor

    return merged((distribution.CHECKS, dockerhub.CHECKS, harbor.CHECKS), "posture check")


def run(platform: str, context: Any, target: str, level: str,
        warnings: Iterable[str] = ()) -> LintReport:
    """Every check ``level`` enforces on ``platform``, as a report of pass/fail/manual."""
    level = parse_level(level)
    table = functions()
    findings: list[LintFinding] = []
    checks = enforced(level, platform)
    for posture_check in checks:
        for outcome in _outcomes(table[posture_check.id], context, posture_check):
            findings.append(LintFinding(posture_check, target, outcome.message,
                                        outcome.location, status=outcome.status))
    order = {"fail": 0, "manual": 1, "pass": 2}
    findings.sort(key=lambda f: (order[f.status], -f.check.severity, f.check.id, f.location))
    return LintReport(target, level, tuple(findings), checks, tuple(warnings), kind="Posture")


def _outcomes(function: CheckFunction, context: Any, posture_check: LintCheck) -> list[Outcome]:
    try:
        outcomes = list(function(context))
    except Denied as error:
        return [manual(f"unknown: {error.diagnostics()}; verify by hand: "
                       f"{verify_steps(posture_check.id)}")]
    if any(o.status != "pass" for o in outcomes):
        # a summary pass ("3 projects checked") would contradict the failures beside it
        outcomes = [o for o in outcomes if o.status != "pass" or o.location]
    return outcomes or [passed("nothing to flag")]
