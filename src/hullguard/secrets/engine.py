"""The matcher: one keyword pass, rule regexes near the hits, filters, overlaps, line numbers.

Speed: the keywords of all rules go into one Aho-Corasick automaton (ahocorasick-rs, Rust) that
finds every occurrence in a single pass over the lowercased bytes. CPython offers nothing
comparable: ``bytes in`` per keyword costs one pass per keyword (~150 passes) and a regex
alternation is slower still (~5 MB/s). Each rule's regex then runs only on the windows around
its keywords' hits (the hit's line, bounded), not over the whole file, because most rule
regexes have no literal prefix CPython's engine could skip to. Rules marked ``multiline``
(PEM blocks) run on the whole file; their patterns start with a literal, which is fast.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from ahocorasick_rs import BytesAhoCorasick, MatchKind

from hullguard.secrets.rules import Rule, builtin_rules, is_documentation_path

_OTHER_GROUPS = ("legacy",)  # alternative credential groups some rules name
WINDOW_BEFORE = 1024  # bytes before a keyword hit a match may start (on long lines)
WINDOW_AFTER = 16384  # bytes after it a match may end
MAX_MATCHES = 10_000  # per text: a hostile file full of tokens is reported, not exhausted

_Raw = tuple[Rule, bytes, int, int]


@dataclass(frozen=True)
class Match:
    rule: Rule
    secret: bytes
    start: int
    end: int
    line: int


class Matcher:
    """Runs a rule set over byte strings. Rule order is priority: when two matches overlap,
    the earlier (more specific) rule wins, so generic rules sit at the end of rules.yaml."""

    def __init__(self, rules: Sequence[Rule] | None = None) -> None:
        self.rules = tuple(rules if rules is not None else builtin_rules())
        keywords = sorted({k for rule in self.rules for k in rule.keywords})
        self._rules_of = [[i for i, r in enumerate(self.rules) if k in r.keywords]
                          for k in keywords]
        self._automaton = BytesAhoCorasick(keywords, matchkind=MatchKind.Standard)

    def hits(self, data: bytes) -> dict[int, list[int]]:
        """Rule index -> offsets where one of its keywords occurs (one pass, all keywords)."""
        found: dict[int, list[int]] = {}
        for keyword, start, _ in self._automaton.find_matches_as_indexes(
                data.lower(), overlapping=True):
            for index in self._rules_of[keyword]:
                found.setdefault(index, []).append(start)
        return found

    def candidates(self, data: bytes, config: bool = False, path: str = "") -> list[Rule]:
        """Rules whose keyword occurs in ``data`` (and whose scope and path filter allow it)."""
        return [self.rules[i] for i in sorted(self.hits(data))
                if self._applies(self.rules[i], config, path)]

    @staticmethod
    def _applies(rule: Rule, config: bool, path: str) -> bool:
        if rule.confidence == "low" and is_documentation_path(path):
            return False  # manual pages and package docs are full of example credentials
        return (config or rule.scope == "any") and (rule.path is None or
                                                     bool(rule.path.search(path)))

    def find(self, data: bytes, path: str = "", config: bool = False) -> list[Match]:
        """All accepted, non-overlapping matches in ``data`` with 1-based line numbers."""
        found: list[_Raw] = []
        for index, offsets in sorted(self.hits(data).items()):
            rule = self.rules[index]
            if not self._applies(rule, config, path):
                continue
            if rule.context is not None and not rule.context.search(data):
                continue
            for start, end in _windows(data, offsets, rule):
                found.extend(_run(rule, data, start, end))
            if len(found) >= MAX_MATCHES:
                break
        return _with_lines(data, _resolve_overlaps(found[:MAX_MATCHES]))


def _windows(data: bytes, offsets: list[int], rule: Rule) -> list[tuple[int, int]]:
    """Merged byte ranges around the hits: the hit's line (plus ``lines_after``), bounded."""
    if rule.multiline:
        return [(0, len(data))]
    spans: list[tuple[int, int]] = []
    for offset in offsets:
        if spans and offset < spans[-1][1]:
            continue  # inside the previous window already
        start = max(data.rfind(b"\n", 0, offset) + 1, offset - WINDOW_BEFORE)
        end = offset
        for _ in range(rule.lines_after + 1):
            newline = data.find(b"\n", end + 1)
            end = len(data) if newline < 0 else newline
        spans.append((start, min(end, offset + WINDOW_AFTER)))
    return spans


def _run(rule: Rule, data: bytes, start: int, end: int) -> list[_Raw]:
    found = []
    for match in rule.regex.finditer(data, start, end):
        group = _secret_group(match.groupdict())
        secret = match.group(group) if group else match.group(0)
        if rule.accepts(secret):
            begin, finish = match.span(group) if group else match.span()
            found.append((rule, secret, begin, finish))
    return found


def _secret_group(groups: dict[str, bytes | None]) -> str:
    for name in ("secret", *_OTHER_GROUPS):
        if groups.get(name) is not None:
            return name
    return ""


def _resolve_overlaps(found: list[_Raw]) -> list[_Raw]:
    """Keep matches in rule order; drop any that overlaps one already kept. Kept spans never
    overlap each other, so checking the two neighbours by start offset is enough."""
    starts: list[int] = []
    kept: list[_Raw] = []
    for item in found:  # already in rule order
        at = bisect.bisect_right(starts, item[2])
        if (at and kept[at - 1][3] > item[2]) or (at < len(kept) and kept[at][2] < item[3]):
            continue
        starts.insert(at, item[2])
        kept.insert(at, item)
    return kept


def _with_lines(data: bytes, found: list[_Raw]) -> list[Match]:
    """Line numbers counted incrementally (matches are sorted by offset)."""
    matches, line, offset = [], 1, 0
    for rule, secret, start, end in found:
        line += data.count(b"\n", offset, start)
        offset = start
        matches.append(Match(rule, secret, start, end, line))
    return matches
