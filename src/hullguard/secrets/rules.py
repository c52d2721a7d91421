"""Secret rules: loaded from ``rules.yaml`` (the one place formats are defined) and compiled.

Matching runs on bytes. A rule's regex runs only near its keywords' occurrences in the
lowercased data (see :mod:`hullguard.secrets.engine`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from hullguard.errors import InputError
from hullguard.model import Severity

# Values that stand for "fill in your own" rather than a credential; applied to rules marked
# ``placeholders: true`` (passwords in URLs, .netrc, generic assignments).
_PLACEHOLDER = re.compile(
    rb"""(?ix)^(?:
      \$\{?[a-z_][a-z0-9_]*(?::?[-=?+][^}]*)?\}? | \$\([^)]*\) | %\(?[a-z_]*\)?s | %[a-z_]+%
    | <[^>]*> | \{\{.*\}\} | \{[^}]*\} | \[[^\]]*\] | x{3,} | \*{3,} | \.{3,} | -+
    | (?:your|my|the)[_-]?[a-z_-]*
    | (?:changeme|change[_-]?me|changeit|password|passwd|pass|secret|example|dummy|test(?:ing)?
       |placeholder|redacted|none|null|nil|undefined|foo|bar|baz|admin|root|user|username|token
       |default|sample|fake|mypassword|todo|tbd|replace[_-]?me|insert[_-]?here|qwerty|letmein
       |123456(?:78)?|p(?:a|@)ssw(?:o|0)rd1?)
    )$""")
# Well-known documentation credentials (AWS docs' example key pair): never valid, found in
# countless SDK test files; reported as suppressed rather than as findings. AWS documentation
# marks every sample key by ending it in EXAMPLE / EXAMPLEKEY (a random key ends so with
# negligible probability), so that suffix is treated the same way.
KNOWN_EXAMPLES = frozenset({
    b"AKIAIOSFODNN7EXAMPLE", b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    b"AKIAI44QH8DHBEXAMPLE", b"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
})
_EXAMPLE_SUFFIXES = (b"EXAMPLE", b"EXAMPLEKEY")


def is_documentation_example(secret: bytes) -> bool:
    return secret in KNOWN_EXAMPLES or secret.endswith(_EXAMPLE_SUFFIXES)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity
    keywords: tuple[bytes, ...]
    regex: re.Pattern[bytes]
    entropy: float = 0.0
    context: re.Pattern[bytes] | None = None
    path: re.Pattern[str] | None = None
    scope: str = "any"  # "config": only key=value text from configs/manifests, not whole files
    placeholders: bool = False
    multiline: bool = False  # match may span lines away from the keyword: scan the whole file
    lines_after: int = 0  # or: the hit's line plus this many lines below
    positives: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ()

    def accepts(self, secret: bytes) -> bool:
        """Post-regex filters: entropy floor and placeholder values."""
        if self.entropy and shannon_entropy(secret) < self.entropy:
            return False
        return not (self.placeholders and is_placeholder(secret))


def shannon_entropy(data: bytes) -> float:
    if not data:
        return 0.0
    total = len(data)
    return -sum(n / total * math.log2(n / total) for n in Counter(data).values())


def is_placeholder(secret: bytes) -> bool:
    value = secret.strip(b"\"'")
    return bool(_PLACEHOLDER.match(value)) or b"${" in value or value.startswith(b"$")


def _compile_rule(raw: dict[str, Any], where: str) -> Rule:
    try:
        examples = raw.get("examples") or {}
        return Rule(
            id=str(raw["id"]), title=str(raw["title"]),
            severity=Severity.parse(str(raw["severity"])),
            keywords=tuple(str(k).lower().encode() for k in raw["keywords"]),
            regex=re.compile(str(raw["regex"]).encode()),
            entropy=float(raw.get("entropy", 0.0)),
            context=re.compile(str(raw["context"]).encode()) if raw.get("context") else None,
            path=re.compile(str(raw["path"])) if raw.get("path") else None,
            scope=str(raw.get("scope", "any")), placeholders=bool(raw.get("placeholders")),
            multiline=bool(raw.get("multiline")), lines_after=int(raw.get("lines_after", 0)),
            positives=tuple(examples.get("positive") or ()),
            negatives=tuple(examples.get("negative") or ()))
    except (KeyError, TypeError, ValueError, re.error) as error:
        raise InputError(f"bad secret rule {raw.get('id', '?')!r}: {error}", where=where) from None


def parse_rules(text: str, where: str) -> tuple[Rule, ...]:
    """Rules from YAML text (trusted package data or a user-supplied rules file)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"rules file is not valid YAML: {error}", where=where) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise InputError("rules file needs a top-level 'rules' list", where=where)
    rules = tuple(_compile_rule(raw, where) for raw in doc["rules"])
    ids = [rule.id for rule in rules]
    if len(ids) != len(set(ids)):
        raise InputError("duplicate rule ids", where=where)
    return rules


@cache
def builtin_rules() -> tuple[Rule, ...]:
    text = resources.files("hullguard.secrets").joinpath("rules.yaml").read_text("utf-8")
    return parse_rules(text, "hullguard/secrets/rules.yaml")
