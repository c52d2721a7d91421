"""Gathering matches into findings: redaction, fingerprints, dedup, allowlist, skipped files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hullguard.model.image import ImageInfo
from hullguard.model.secret import (
    FileState,
    SecretFinding,
    SecretLocation,
    SecretReport,
    SkippedFile,
    redacted_form,
)
from hullguard.secrets.allowlist import Allowlist
from hullguard.secrets.content import Budget, Limits, texts
from hullguard.secrets.engine import MAX_MATCHES, Matcher
from hullguard.secrets.rules import Rule, is_documentation_example, is_stand_in

PREFIX_CHARS = 4
FINGERPRINT_CHARS = 16
MAX_COMMAND = 300  # created_by shown in findings is cut to this many characters


def fingerprint(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()[:FINGERPRINT_CHARS]


def redact_secret(secret: bytes | str) -> str:
    """How ``secret`` is written anywhere: the same prefix, length and fingerprint that its
    finding shows (:func:`hullguard.model.secret.redacted_form`)."""
    data = secret if isinstance(secret, bytes) else secret.encode("utf-8", "surrogateescape")
    prefix = data[:PREFIX_CHARS].decode("utf-8", errors="replace")
    return redacted_form(prefix, len(data), fingerprint(data))


@dataclass(frozen=True)
class Place:
    """Where the text being scanned came from (a layer, the config, a directory)."""

    layer_index: int = -1
    layer_diff_id: str = ""
    created_by: str = ""
    state: FileState = FileState.PRESENT


@dataclass
class _Group:
    rule: Rule
    prefix: str
    length: int
    locations: list[SecretLocation] = field(default_factory=list)


@dataclass
class Collector:
    """Accumulates one scan; ``report()`` returns the frozen result."""

    matcher: Matcher
    allowlist: Allowlist = field(default_factory=Allowlist)
    limits: Limits = field(default_factory=Limits)
    groups: dict[tuple[str, str], _Group] = field(default_factory=dict)
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: int = 0
    size: int = 0  # bytes scanned
    binaries: int = 0
    suppressed: int = 0
    seen: set[bytes] = field(default_factory=set)  # to redact them from created_by; not output
    _redacted: dict[str, str] = field(default_factory=dict)  # created_by -> redacted form

    def skip(self, path: str, reason: str, size: int, place: Place) -> None:
        self.skipped.append(SkippedFile(path, reason, size, place.layer_index))

    def scan_file(self, data: bytes, path: str, place: Place) -> None:
        """One file's content, archives included."""
        budget = Budget(self.limits.max_expanded)
        for name, text in texts(data, path, self.limits, budget):
            self.scan_text(text, name, place)
        self.binaries += budget.binaries
        for name, reason, size in budget.skipped:
            self.skip(name, reason, size, place)

    def scan_text(self, text: bytes, path: str, place: Place, config: bool = False,
                  line: int = 0) -> None:
        """``config``: key=value text from a config or manifest (generic rules apply too);
        ``line`` overrides the match's own line (the value's line in its manifest)."""
        self.files += 1
        self.size += len(text)
        matches = self.matcher.find(text, path, config)
        if len(matches) >= MAX_MATCHES:
            self.warnings.append(f"{path}: more than {MAX_MATCHES} matches; the rest skipped")
        for match in matches:
            self._add(match.rule, match.secret, SecretLocation(
                path, line or match.line, place.layer_index, place.layer_diff_id,
                place.created_by, place.state))

    def _add(self, rule: Rule, secret: bytes, location: SecretLocation) -> None:
        mark = fingerprint(secret)
        self.seen.add(secret)
        if is_documentation_example(secret) or is_stand_in(rule, secret) or \
                self.allowlist.allows(rule.id, mark, location.path):
            self.suppressed += 1
            return
        group = self.groups.get((rule.id, mark))
        if group is None:
            prefix = secret[:PREFIX_CHARS].decode("utf-8", errors="replace")
            group = self.groups[(rule.id, mark)] = _Group(rule, prefix, len(secret))
        if location not in group.locations:
            group.locations.append(location)

    def restate(self, state_of: Callable[[str, int], FileState]) -> None:
        """Set deleted/overwritten states of layer files once every layer has been walked
        (``state_of(path, layer_index)``; a nested archive member takes its archive's)."""
        for group in self.groups.values():
            group.locations = [
                loc if loc.state is not FileState.PRESENT or loc.layer_index < 0
                else replace(loc, state=state_of(loc.path.split("!/", 1)[0], loc.layer_index))
                for loc in group.locations]

    def redact(self, text: str) -> str:
        """``text`` (a Dockerfile command) with every secret seen replaced, and bounded."""
        if not text:
            return text
        if text not in self._redacted:
            shown = text  # redact first, then cut, so a cut never leaves part of a secret
            for secret in sorted(self.seen, key=len, reverse=True):  # longest first
                clear = secret.decode("utf-8", errors="replace")
                if clear and clear in shown:
                    shown = shown.replace(clear, redact_secret(secret))
            cut = len(shown) > MAX_COMMAND
            self._redacted[text] = shown[:MAX_COMMAND] + ("..." if cut else "")
        return self._redacted[text]

    def _locations(self, group: _Group) -> tuple[SecretLocation, ...]:
        return tuple(replace(loc, created_by=self.redact(loc.created_by))
                     for loc in group.locations)

    def report(self, target: str, image: ImageInfo | None = None) -> SecretReport:
        findings = sorted(
            (SecretFinding(g.rule.id, g.rule.title, g.rule.severity, mark, g.prefix, g.length,
                           self._locations(g)) for (_, mark), g in self.groups.items()),
            key=lambda f: (-f.severity, f.rule_id, f.locations[0].path, f.fingerprint))
        return SecretReport(target, tuple(findings), tuple(self.skipped), self.files,
                            self.size, self.binaries, self.suppressed, tuple(self.warnings),
                            image)
