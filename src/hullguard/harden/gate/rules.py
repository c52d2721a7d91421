"""The gate's rules: one small class per rule and one explicit registry list.

A rule looks at one image's :class:`~hullguard.harden.gate.evidence.Evidence` under the
stage's policy and returns violations (each with an id an exception can name) or says why it
could not check; it never passes on missing evidence."""

from __future__ import annotations

import contextlib
import fnmatch
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from hullguard.errors import InputError
from hullguard.harden.gate.evidence import Evidence, VulnFact
from hullguard.harden.gate.policy import StagePolicy
from hullguard.harden.gate.policy import Vulnerabilities as VulnPolicy
from hullguard.images.reference import parse_reference

ALL_STAGES = frozenset({"build", "scan", "sign", "deploy"})
ROOT_USERS = ("", "root", "0")


@dataclass(frozen=True)
class Violation:
    item: str  # what an exception can name: a vulnerability id, a license, a secret rule...
    message: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleCheck:
    violations: tuple[Violation, ...] = ()
    not_checked: str = ""  # why the rule could not be evaluated ("" = it was)
    notes: tuple[str, ...] = field(default=())


class Rule(Protocol):
    name: str  # kebab-case, the SARIF rule id and an exception id
    key: str  # the policy key
    stages: frozenset[str]  # where it applies unless a stage section sets it
    description: str

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck: ...


def _glob_match(name: str, globs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in globs)


class AllowedRegistries:
    name = "allowed-registries"
    key = "allowed_registries"
    stages = ALL_STAGES
    description = "The image comes from an allowed registry/repository."

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        globs = policy.allowed_registries or ()
        if not evidence.name:
            return RuleCheck((Violation("not-a-registry", "not an image in a registry"),))
        if _glob_match(evidence.name, globs):
            return RuleCheck()
        return RuleCheck((Violation(evidence.name, f"{evidence.name} matches none of "
                                                   f"{', '.join(globs) or '(no globs)'}"),))


class DigestPinned:
    name = "digest-pinned"
    key = "digest_pinned"
    stages = frozenset({"deploy"})
    description = "The reference is pinned to a digest (name@sha256:...)."

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        if evidence.pinned:
            return RuleCheck()
        return RuleCheck((Violation("unpinned", f"{evidence.image} is not pinned by digest"),))


class Signatures:
    name = "signatures"
    key = "signatures"
    stages = frozenset({"sign", "deploy"})
    description = ("A signature by one of the policy's keys, or a keyless bundle by one of "
                   "its identities (offline, against signatures.trusted_root), verifies for "
                   "the image's digest.")

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        wanted = policy.signatures
        if wanted is None or not wanted.required:
            return RuleCheck()
        keyless = bool(wanted.identities and wanted.trusted_root)
        if not wanted.keys and not keyless:
            why = ("identities need signatures.trusted_root (a Sigstore trusted_root.json) "
                   "to be verified offline" if wanted.identities
                   else "the policy names no keys or identities")
            return RuleCheck(not_checked=why)
        if evidence.signatures is None:
            return RuleCheck(not_checked="signatures were not checked (not an image in a "
                             "registry, or the registry failed)")
        if any(check.passed for check in evidence.signatures.values()):
            return RuleCheck()
        details = "; ".join(f"{key}: {check.detail}" for key, check in
                            sorted(evidence.signatures.items()))
        return RuleCheck((Violation("unsigned", f"no signature verifies ({details})"),))


class Attestations:
    name = "attestations"
    key = "attestations"
    stages = frozenset({"sign", "deploy"})
    description = "Each required attestation (SBOM, provenance, vuln) verifies with a key."

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        wanted = policy.attestations or ()
        if evidence.attestations is None:
            return RuleCheck(not_checked="attestations were not checked (no keys in the "
                             "policy, or not an image in a registry)")
        missing = [Violation(kind, f"no verified {kind} attestation: "
                                   f"{evidence.attestations[kind].detail}"
                             if kind in evidence.attestations else f"{kind}: not checked")
                   for kind in wanted
                   if not (kind in evidence.attestations and evidence.attestations[kind].passed)]
        return RuleCheck(tuple(missing))


class Vulnerabilities:
    name = "vulnerabilities"
    key = "vulnerabilities"
    stages = frozenset({"scan", "deploy"})
    description = ("No vulnerability of the blocked severities (fixable, past the grace "
                   "period), none listed in KEV, none above the EPSS threshold.")

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        rule = policy.vulnerabilities
        if rule is None:
            return RuleCheck()
        if evidence.vulns is None:
            return RuleCheck(not_checked="the image was not scanned for vulnerabilities")
        violations = [Violation(f"uncovered:{source}", f"{source}: NOT checked (no advisory "
                                "data or unread content)") for source in evidence.uncovered]
        notes: list[str] = []
        for vuln in evidence.vulns:
            reason = _blocking(vuln, rule, today, notes)
            if reason:
                violations.append(Violation(vuln.id, f"{vuln.id} in {vuln.package}: {reason}",
                                            vuln.aliases))
        return RuleCheck(tuple(violations), notes=tuple(dict.fromkeys(notes)))


def _blocking(vuln: VulnFact, rule: VulnPolicy, today: date, notes: list[str]) -> str:
    """Why ``vuln`` blocks under ``rule`` ("" = it does not)."""
    if rule.kev == "block" and vuln.kev:
        return "listed in CISA KEV"
    if rule.epss_above is not None and vuln.epss is not None and vuln.epss > rule.epss_above:
        return f"EPSS {vuln.epss:.2f} above {rule.epss_above}"
    if vuln.severity not in rule.severities or (rule.fixable_only and not vuln.fixable):
        return ""
    if rule.max_age_days is not None:
        age = _age_days(vuln.published, today)
        if age is None:
            notes.append("publication date unknown for some findings: treated as past "
                         "the grace period")
        elif age < rule.max_age_days:
            return ""
        return f"{vuln.severity}" + (", fix available" if vuln.fixable else "") + \
            (f", published {age} days ago" if age is not None else "")
    return vuln.severity + (", fix available" if vuln.fixable else "")


def _age_days(stamp: str, today: date) -> int | None:
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return (today - when.date()).days


class BaseImages:
    name = "base-images"
    key = "base_images"
    stages = frozenset({"build", "scan", "deploy"})
    description = "The base image is an approved one and not older than the limit."

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        rule = policy.base_images
        if rule is None:
            return RuleCheck()
        if evidence.problem:
            return RuleCheck(not_checked=f"not scanned: {evidence.problem}")
        violations = []
        if rule.allow:
            violations.extend(self._allowed(evidence.base, rule.allow))
        if rule.max_age_days is not None:
            age = _age_days(evidence.base_created, today)
            if age is None:
                violations.append(Violation("base-age-unknown", "the base's build time is "
                                            "unknown (no history timestamps)"))
            elif age > rule.max_age_days:
                violations.append(Violation("base-too-old", f"the base was built {age} days "
                                            f"ago (limit {rule.max_age_days})"))
        return RuleCheck(tuple(violations))

    @staticmethod
    def _allowed(base: str, globs: tuple[str, ...]) -> list[Violation]:
        if not base:
            return [Violation("base-unknown", "the base image is unknown (no lineage index "
                              f"entry and no {'org.opencontainers.image.base.name'} label)")]
        names: tuple[str, ...] = (base,)
        with contextlib.suppress(InputError):  # a label is image-written text: match it as is
            names = (base, parse_reference(base).name)
        if any(_glob_match(name, globs) for name in names):
            return []
        return [Violation(base, f"base {base} matches none of {', '.join(globs)}")]


class NonRoot:
    name = "non-root"
    key = "non_root"
    stages = frozenset({"build", "scan", "deploy"})
    description = "The image's configured user is not root."

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        if evidence.user is None:
            return RuleCheck(not_checked=f"no image config: {evidence.problem or 'unknown'}")
        user = evidence.user.split(":", 1)[0].strip()
        if user in ROOT_USERS:
            shown = evidence.user or "(unset: root)"
            return RuleCheck((Violation("root-user", f"runs as {shown}"),))
        return RuleCheck()


class Secrets:
    name = "secrets"
    key = "secrets"
    stages = frozenset({"build", "scan", "deploy"})
    description = "No secret is found in the image (layers, config, history)."

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        if evidence.secrets is None:
            return RuleCheck(not_checked=f"not scanned for secrets: "
                             f"{evidence.problem or 'secret scanning was off'}")
        return RuleCheck(tuple(Violation(text.split(" ", 1)[0], text)
                               for text in evidence.secrets))


_LICENSE_TOKEN = re.compile(r"[A-Za-z0-9.+-]+")


class Licenses:
    name = "licenses"
    key = "licenses"
    stages = frozenset({"build", "scan", "deploy"})
    description = "No package is under a denied license (an OR choice with an allowed one "\
                  "passes)."

    def check(self, policy: StagePolicy, evidence: Evidence, today: date) -> RuleCheck:
        denied = set(policy.licenses or ())
        if evidence.licenses is None:
            return RuleCheck(not_checked=f"no SBOM: {evidence.problem or 'unknown'}")
        violations = []
        for package, expression in evidence.licenses:
            hit = _denied_in(expression, denied)
            if hit:
                violations.append(Violation(hit, f"{package}: {expression}"))
        return RuleCheck(tuple(violations))


def _denied_in(expression: str, denied: set[str]) -> str:
    """The denied license the expression commits to, "" when an alternative avoids it."""
    alternatives = [part for part in re.split(r"\s+OR\s+", expression.replace("(", " ")
                                              .replace(")", " "))]
    hits = []
    for alternative in alternatives:
        tokens = set(_LICENSE_TOKEN.findall(alternative)) - {"AND", "WITH"}
        found = sorted(tokens & denied)
        if not found:
            return ""
        hits.append(found[0])
    return hits[0] if hits else ""


# The registry: one line per rule, in report order.
RULES: tuple[Rule, ...] = (AllowedRegistries(), DigestPinned(), Signatures(), Attestations(),
                           Vulnerabilities(), BaseImages(), NonRoot(), Secrets(), Licenses())


def active_rules(policy: StagePolicy) -> list[Rule]:
    """The rules the policy sets that apply at its stage (or that its stage section sets)."""
    return [rule for rule in RULES if policy.value(rule.key) is not None
            and (policy.stage in rule.stages or rule.key in policy.explicit)]
