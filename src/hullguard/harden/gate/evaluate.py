"""Apply the stage's rules to each image's evidence, with the policy's exceptions.

A rule that could not check (missing evidence) fails: a gate never passes on data it did not
have. An exception waives a whole rule (its id is the rule's name) or one violation (its id is
a vulnerability id or alias, a license, a secret rule...), for the images its globs match,
until it expires; an expired exception is not applied and is reported."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from hullguard.harden.gate.evidence import Evidence
from hullguard.harden.gate.policy import PolicyException, StagePolicy
from hullguard.harden.gate.rules import Rule, RuleCheck, Violation, active_rules

PASS, FAIL, NOT_CHECKED = "pass", "fail", "not-checked"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    status: str  # pass, fail, not-checked (fails the gate too)
    reasons: tuple[str, ...] = ()
    waived: tuple[str, ...] = ()  # "violation (exception reason, until date)"
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass(frozen=True)
class ImageVerdict:
    image: str
    name: str
    digest: str
    results: tuple[RuleResult, ...]
    problem: str = ""
    notes: tuple[str, ...] = ()  # what the evidence could not establish, and why

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)


@dataclass(frozen=True)
class GateReport:
    stage: str
    policy: str
    evaluated_on: str
    verdicts: tuple[ImageVerdict, ...]
    rules: tuple[Rule, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return bool(self.verdicts) and all(v.passed for v in self.verdicts)


def evaluate(policy: StagePolicy, evidence: Sequence[Evidence], today: date) -> GateReport:
    rules = active_rules(policy)
    live = tuple(e for e in policy.exceptions if e.expires >= today)
    warnings = tuple(f"exception {e.id!r} expired on {e.expires}: not applied ({e.reason})"
                     for e in policy.exceptions if e.expires < today)
    verdicts = tuple(
        ImageVerdict(item.image, item.name, item.digest,
                     tuple(_result(rule, rule.check(policy, item, today), item, live)
                           for rule in rules), item.problem, item.notes)
        for item in evidence)
    if not rules:
        warnings += (f"no rule of the policy applies at stage {policy.stage!r}",)
    return GateReport(policy.stage, policy.source, today.isoformat(), verdicts, tuple(rules),
                      warnings)


def _result(rule: Rule, check: RuleCheck, evidence: Evidence,
            exceptions: tuple[PolicyException, ...]) -> RuleResult:
    whole = _matching(exceptions, evidence, (rule.name, rule.key))
    if whole is not None:
        return RuleResult(rule.name, PASS, waived=(f"rule waived: {_why(whole)}",),
                          notes=check.notes)
    if check.not_checked:
        return RuleResult(rule.name, NOT_CHECKED, (f"not checked: {check.not_checked}",),
                          notes=check.notes)
    open_, waived = [], []
    for violation in check.violations:
        exception = _matching(exceptions, evidence, (violation.item, *violation.aliases))
        if exception is None:
            open_.append(violation.message)
        else:
            waived.append(f"{violation.message} ({_why(exception)})")
    return RuleResult(rule.name, FAIL if open_ else PASS, tuple(open_), tuple(waived),
                      check.notes)


def _matching(exceptions: tuple[PolicyException, ...], evidence: Evidence,
              ids: tuple[str, ...]) -> PolicyException | None:
    names = tuple(n for n in (evidence.name, evidence.image) if n)
    for exception in exceptions:
        if exception.id in ids and any(fnmatch.fnmatchcase(name, pattern)
                                       for pattern in exception.images for name in names):
            return exception
    return None


def _why(exception: PolicyException) -> str:
    return f"exception {exception.id}: {exception.reason}, until {exception.expires}"


__all__ = ["FAIL", "NOT_CHECKED", "PASS", "GateReport", "ImageVerdict", "RuleResult",
           "Violation", "evaluate"]
