"""The ignore file: a YAML list of rules that suppress findings until they expire.

    ignore:
      - id: CVE-2023-5678          # required: the vulnerability id or one of its aliases
        package: openssl           # optional: a package name or a purl (pkg:apk/alpine/openssl)
        reason: not reachable      # required: why
        expires: 2026-12-31        # optional: from this day on the rule stops suppressing

An expired rule suppresses nothing and is reported as a warning, so exceptions do not outlive
their review date silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hullguard.errors import InputError
from hullguard.model import Finding
from hullguard.vuln.importers.base import Limits, parse_yaml
from hullguard.vuln.purl import purl_matches

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_IGNORE_BYTES = 4 << 20


@dataclass(frozen=True)
class IgnoreRule:
    id: str
    reason: str
    package: str = ""
    expires: date | None = None
    origin: str = ""

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def applies(self, finding: Finding) -> bool:
        if self.id not in (finding.id, *finding.aliases):
            return False
        if not self.package:
            return True
        package = finding.package
        if self.package.startswith("pkg:"):
            return purl_matches(self.package, package.purl)
        return self.package in (package.name, package.source_name)

    def describe(self) -> str:
        until = f" (until {self.expires})" if self.expires else ""
        return f"ignore {self.origin}: {self.reason}{until}"


def load_ignore_file(path: Path) -> list[IgnoreRule]:
    """Parse an ignore file; a malformed rule is an error naming the rule (a silently dropped
    rule would un-suppress, a silently loose one would over-suppress)."""
    from hullguard.fsutil import read_bounded

    data = read_bounded(path, MAX_IGNORE_BYTES)
    doc = parse_yaml(data, str(path), Limits(max_yaml_bytes=MAX_IGNORE_BYTES))
    rules = doc.get("ignore") if isinstance(doc, dict) else doc
    if rules in ("", None):
        return []
    if not isinstance(rules, list):
        raise InputError("expected a list of rules under `ignore:`", where=str(path))
    return [_rule(raw, f"{path}: rule {index + 1}", path.name) for index, raw in
            enumerate(rules)]


def _rule(raw: Any, where: str, origin: str) -> IgnoreRule:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise InputError("a rule is a mapping of strings (id, package, reason, expires)",
                         where=where)
    unknown = set(raw) - {"id", "package", "reason", "expires"}
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(sorted(unknown))}", where=where)
    if not raw.get("id") or not raw.get("reason"):
        raise InputError("a rule needs `id` and `reason`", where=where)
    return IgnoreRule(raw["id"].strip(), raw["reason"], raw.get("package", "").strip(),
                      _expiry(raw.get("expires", ""), where), origin)


def _expiry(text: str, where: str) -> date | None:
    if not text:
        return None
    if not _DATE_RE.match(text.strip()):
        raise InputError(f"expires {text!r} is not YYYY-MM-DD", where=where)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"expires {text!r} is not a valid date", where=where) from None


def today() -> date:
    return datetime.now(UTC).date()
