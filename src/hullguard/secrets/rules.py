"""Secret rules: loaded from ``rules.yaml`` (the one place formats are defined) and compiled.

Matching runs on bytes. A rule's regex runs only near its keywords' occurrences in the
lowercased data (see :mod:`hullguard.secrets.engine`).
"""

from __future__ import annotations

import binascii
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

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


# The rule set's version: bump it whenever a rule or a filter changes what is reported (it is
# written into SARIF output so that results of different rule sets are not compared blindly).
RULES_VERSION = "2026.12.2"


def is_documentation_example(secret: bytes) -> bool:
    return secret in KNOWN_EXAMPLES or secret.endswith(_EXAMPLE_SUFFIXES)


# Words that mark a token as a stand-in (a random token holds one with odds below 1e-9)
_STAND_IN_WORDS = re.compile(rb"(?i)example|placeholder|redacted|changeme|sample|dummy|"
                             rb"insert|your[_-]?(?:token|key|secret)")
_BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# GitHub (classic ghp_/gho_/ghu_/ghs_/ghr_) and npm (npm_) tokens end in the CRC32 of their
# 30 random characters, base62-encoded to 6 characters (GitHub's 2021 token format post)
_CHECKSUMMED = re.compile(rb"^(?:gh[pousr]|npm)_[A-Za-z0-9]{36}$")
MIN_RUN = 6  # identical or consecutive characters that mark a hand-typed value


def is_stand_in(rule: Rule, secret: bytes) -> bool:
    """A token-shaped value that cannot be a real credential: repeated or sequential
    characters (``ghp_xxxx...``, ``AKIAXXXX...``, ``...ABCDEFGH...``), stand-in words
    (EXAMPLE), too little entropy for its alphabet, or a checksum that does not hold.
    Only token formats (``confidence: high``) are judged: a password such as
    ``MyApp123456`` is weak, not a stand-in, and the password-style rules have their own
    placeholder list. Private keys are exempt (DER in base64 has long runs of ``A``), also
    inside JSON (GCP) and base64 (kubeconfig ``client-key-data``)."""
    if rule.multiline or rule.confidence != "high" or b"-----BEGIN" in secret or \
            secret.startswith(b"LS0tLS1"):
        return False
    body = _body(rule, secret)
    if _CHECKSUMMED.match(secret) and not valid_checksum(secret):
        return True
    return (_longest_run(body) >= MIN_RUN or bool(_STAND_IN_WORDS.search(body))
            or _low_entropy(body))


def _body(rule: Rule, secret: bytes) -> bytes:
    """The secret without its fixed prefix (``ghp_``, ``AKIA``): the random part."""
    lowered = secret.lower()
    prefix = max((k for k in rule.keywords if lowered.startswith(k)), key=len, default=b"")
    return secret[len(prefix):]


def _longest_run(body: bytes) -> int:
    """The longest stretch of one repeated character or of consecutive ones (ascending or
    descending: 012345, ABCDEF, fedcba), counted within letters and digits."""
    best = run_same = run_up = run_down = 1 if body else 0
    for before, after in pairwise(body):
        alnum = chr(after).isalnum() and chr(before).isalnum()
        run_same = run_same + 1 if after == before else 1
        run_up = run_up + 1 if alnum and after == before + 1 else 1
        run_down = run_down + 1 if alnum and after == before - 1 else 1
        best = max(best, run_same, run_up, run_down)
    return best


def _low_entropy(body: bytes) -> bool:
    """Shannon entropy below 60% of what a random string of this length over the alphabet
    its characters come from would have (only for bodies long enough to judge)."""
    if len(body) < 12:
        return False
    upper, lower = any(65 <= c <= 90 for c in body), any(97 <= c <= 122 for c in body)
    digit = any(48 <= c <= 57 for c in body)
    other = any(not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122) for c in body)
    classes = 26 * upper + 26 * lower + 10 * digit + 4 * other
    ceiling = math.log2(min(len(body), max(classes, 2)))
    return shannon_entropy(body) < 0.6 * ceiling


def valid_checksum(token: bytes) -> bool:
    """Whether a ghp_/gho_/ghu_/ghs_/ghr_/npm_ token's last 6 characters are the base62
    CRC32 of its 30 random characters."""
    return token[-6:] == base62_crc32(token[4:-6])


def base62_crc32(data: bytes) -> bytes:
    value, digits = binascii.crc32(data), bytearray()
    while value:
        value, digit = divmod(value, 62)
        digits.append(_BASE62[digit])
    return bytes(reversed(digits)).rjust(6, b"0")


DOC_PATH = re.compile(r"(?:^|/)usr/(?:local/)?(?:share/)?(?:man|doc|info|gtk-doc|help|"
                      r"devhelp|javadoc)/")


def is_documentation_path(path: str) -> bool:
    """Manual pages, package docs and info files: their credential-looking lines are
    examples (apt_auth.conf(5), sources.list(5), pam_pwhistory(8) in every Debian image)."""
    return bool(DOC_PATH.search(path))


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
    # "high": a distinctive token format, reported wherever it occurs; "low": a shape that
    # documentation is full of (passwords in URLs, netrc lines), not reported in docs
    confidence: str = "high"
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
            confidence=_confidence(raw.get("confidence", "high")),
            positives=tuple(examples.get("positive") or ()),
            negatives=tuple(examples.get("negative") or ()))
    except (KeyError, TypeError, ValueError, re.error) as error:
        raise InputError(f"bad secret rule {raw.get('id', '?')!r}: {error}", where=where) from None


def _confidence(value: object) -> str:
    if value not in ("high", "low"):
        raise ValueError(f"confidence must be high or low, not {value!r}")
    return str(value)


def parse_rules(text: str, where: str) -> tuple[Rule, ...]:
    """Rules from YAML text (trusted package data or a user-supplied rules file)."""
    from hullguard.inventory.yamlsafe import loads_all  # the bounded loader: a rules file
    # may come from a user; errors carry file:line
    documents = loads_all(text, where).documents
    doc = documents[0] if len(documents) == 1 else None
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
