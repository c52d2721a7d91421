"""Environment and criticality of a workload: from its labels, its namespace, or a config file.

Criticality config (YAML), first matching rule wins; globs match ``namespace/name`` or
``namespace/Kind/name``::

    rules:
      - match: "payments/*"
        criticality: critical
      - match: "*/redis*"
        criticality: high
    default: low

A plain mapping ``{"payments/*": critical}`` is accepted too.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.inventory.yamlsafe import load_file
from hullguard.model.inventory import Criticality, Environment

CRITICALITY_KEY = "hullguard.io/criticality"
ENVIRONMENT_KEYS = ("hullguard.io/environment", "environment", "env",
                    "app.kubernetes.io/environment", "tags.datadoghq.com/env", "stage", "tier")
_ENV_WORDS = {
    Environment.PRODUCTION: ("prod", "production", "prd", "live"),
    Environment.STAGING: ("staging", "stage", "stg", "preprod", "uat"),
    Environment.DEVELOPMENT: ("dev", "development", "test", "testing", "qa", "sandbox"),
}


def environment_of_word(text: str) -> Environment:
    """``shop-prod`` -> production; tokens split on ``-``, ``_``, ``.`` and ``/``."""
    tokens = set(re.split(r"[-_./\s]+", text.lower()))
    for env, words in _ENV_WORDS.items():
        if tokens.intersection(words):
            return env
    return Environment.UNKNOWN


def environment(namespace: str, labels: dict[str, str],
                namespace_labels: dict[str, str]) -> Environment:
    """Workload labels first, then the namespace's labels, then the namespace name."""
    for source in (labels, namespace_labels):
        for key in ENVIRONMENT_KEYS:
            if key in source:
                found = environment_of_word(source[key])
                if found is not Environment.UNKNOWN:
                    return found
    return environment_of_word(namespace)


def parse_criticality(text: str, where: str) -> Criticality:
    value = text.strip().lower()
    if value not in {c.value for c in Criticality} or value == "unknown":
        raise InputError(f"unknown criticality {text!r}", where=where,
                         hint="use critical, high, medium or low")
    return Criticality(value)


@dataclass(frozen=True)
class CriticalityRules:
    rules: tuple[tuple[str, Criticality], ...] = ()
    default: Criticality = Criticality.UNKNOWN

    def match(self, namespace: str, kind: str, name: str) -> tuple[Criticality, str]:
        """(criticality, "config <glob>") of the first rule matching the workload."""
        candidates = (f"{namespace}/{name}", f"{namespace}/{kind}/{name}")
        for glob, level in self.rules:
            if any(fnmatch.fnmatchcase(c, glob) for c in candidates):
                return level, f"config {glob}"
        if self.default is not Criticality.UNKNOWN:
            return self.default, "config default"
        return Criticality.UNKNOWN, ""


def load_criticality_rules(path: Path) -> CriticalityRules:
    """Read the criticality config; any malformed entry is an InputError naming it."""
    docs = load_file(path).documents
    doc: Any = docs[0] if docs else {}
    where = str(path)
    if not isinstance(doc, dict):
        raise InputError("criticality config must be a mapping", where=where)
    if "rules" not in doc and "default" not in doc:
        pairs = [(str(k), str(v)) for k, v in doc.items()]
        return CriticalityRules(tuple((g, parse_criticality(v, where)) for g, v in pairs))
    rules = doc.get("rules") or []
    if not isinstance(rules, list):
        raise InputError("'rules' must be a list", where=where)
    parsed = tuple(_rule(rule, f"{where}: rule {i + 1}") for i, rule in enumerate(rules))
    default = doc.get("default")
    level = parse_criticality(str(default), where) if default else Criticality.UNKNOWN
    return CriticalityRules(parsed, level)


def _rule(rule: Any, where: str) -> tuple[str, Criticality]:
    if not isinstance(rule, dict) or not isinstance(rule.get("match"), str):
        raise InputError("a rule needs 'match' (a glob) and 'criticality'", where=where)
    return rule["match"], parse_criticality(str(rule.get("criticality", "")), where)


def criticality(labels: dict[str, str], annotations: dict[str, str],
                rules: CriticalityRules, workload: tuple[str, str, str]
                ) -> tuple[Criticality, str, str]:
    """(criticality, where it came from, a warning) : label, annotation, then config."""
    for source, values in (("label", labels), ("annotation", annotations)):
        if CRITICALITY_KEY in values:
            try:
                return parse_criticality(values[CRITICALITY_KEY], source), source, ""
            except InputError:
                warning = f"{source} {CRITICALITY_KEY}={values[CRITICALITY_KEY]!r} is not " \
                          "critical/high/medium/low; ignored"
                level, origin = rules.match(*workload)
                return level, origin, warning
    level, origin = rules.match(*workload)
    return level, origin, ""
