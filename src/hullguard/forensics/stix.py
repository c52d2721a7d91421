"""STIX 2.1 bundles as an ``--iocs`` file: the ``indicator`` objects whose ``pattern`` (type
``stix``) this search can act on.

Patterns are parsed by the OASIS ``stix2-patterns`` library (the reference grammar), never by
hand. What is used, each comparison being one indicator:

* ``[file:hashes.'SHA-256' = '...']`` (also ``SHA-1``, ``MD5``) -> a hash indicator;
* ``[file:name = '...']`` -> a file-name indicator (the last path component, in the images);
* ``= '...'`` on ``url:value``, ``domain-name:value``, ``ipv4-addr:value``,
  ``ipv6-addr:value``, ``email-addr:value``, ``process:command_line`` -> a string indicator;
  ``MATCHES '...'`` on those -> a regex indicator.

Comparisons joined by ``OR`` are each a sufficient match, so they are used one by one. What
cannot be evaluated faithfully is reported in ``Indicators.notes`` (shown as warnings), never
silently dropped: an observation ``[a AND b]`` (either part alone would match more than it
says; the pattern's other ``OR`` observations are still used), a whole pattern whose
observations are joined by ``AND``/``FOLLOWEDBY``, any other object, property or operator
(``NOT``, ``LIKE``, ``>``), other pattern types (yara, sigma, snort), and qualifiers
(``WITHIN``, ``REPEATS``: ignored, the comparisons still used).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hullguard.errors import InputError

if TYPE_CHECKING:
    from hullguard.forensics.ioc import Indicators

MAX_BUNDLE_BYTES = 64 << 20
HASHES = {"SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5"}
STRING_PROPERTIES = {("url", "value"), ("domain-name", "value"), ("ipv4-addr", "value"),
                     ("ipv6-addr", "value"), ("email-addr", "value"),
                     ("process", "command_line")}


def looks_like_stix(head: bytes) -> bool:
    """A JSON object (a bundle) rather than the line format."""
    return head.lstrip()[:1] == b"{"


def load_stix(data: bytes, path: Path, found: Indicators) -> Indicators:
    """The indicators of a STIX bundle's bytes (read by the caller, bounded)."""
    objects = _objects(data, path)
    indicators = [o for o in objects if isinstance(o, dict) and o.get("type") == "indicator"]
    if not indicators:
        raise InputError("no indicator objects in the STIX bundle", where=str(path))
    for item in indicators:
        where = f"{path}: {str(item.get('id', '(no id)'))[:80]}"
        pattern, kind = item.get("pattern"), item.get("pattern_type", "stix")
        if kind != "stix":
            found.notes.append(f"{where}: pattern type {str(kind)[:40]!r} not supported, "
                               "indicator not used")
        elif not isinstance(pattern, str):
            found.notes.append(f"{where}: no pattern string, indicator not used")
        else:
            _add_pattern(found, pattern, where)
    return found


def _objects(data: bytes, path: Path) -> list[Any]:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise InputError(f"not a readable STIX bundle: {str(error)[:200]}",
                         where=str(path)) from None
    if not isinstance(doc, dict) or doc.get("type") != "bundle" or not isinstance(
            doc.get("objects"), list):
        raise InputError("not a STIX 2.1 bundle (type 'bundle' with a list of objects)",
                         where=str(path))
    objects: list[Any] = doc["objects"]
    return objects


def _add_pattern(found: Indicators, pattern: str, where: str) -> None:
    from stix2patterns.exceptions import ParseException

    try:
        data, observations = _inspect(pattern)
    except (ParseException, RecursionError) as error:
        found.notes.append(f"{where}: pattern does not parse ({str(error)[:120]}), "
                           "indicator not used")
        return
    joined = set(data.observation_ops) - {"OR"}
    if joined:
        found.notes.append(f"{where}: {' and '.join(sorted(joined))} in {pattern[:120]!r} "
                           "cannot be evaluated here, indicator not used")
        return
    if data.qualifiers:
        found.notes.append(f"{where}: qualifiers {sorted(data.qualifiers)} ignored")
    for text, conjunctive, comparisons in observations:
        if conjunctive:  # [a AND b]: either part alone would match more than it says
            found.notes.append(f"{where}: AND in {text[:120]!r} cannot be evaluated here, "
                               "that observation not used")
            continue
        for object_type, steps, op, literal in comparisons:
            problem = _add_comparison(found, object_type, steps, op, literal, where)
            if problem:
                found.notes.append(f"{where}: {problem}, comparison not used")


Observation = tuple[str, bool, list[tuple[str, list[Any], str, str]]]


def _inspect(pattern: str) -> tuple[Any, list[Observation]]:
    """The library's inspection of the whole pattern, and of each ``[...]`` observation on
    its own: (its text, whether it joins comparisons with AND, its comparisons)."""
    from stix2patterns.v21.grammars.STIXPatternListener import STIXPatternListener
    from stix2patterns.v21.pattern import Pattern

    class Observations(STIXPatternListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.spans: list[tuple[int, int]] = []
            self.conjunctive: set[int] = set()

        def enterObservationExpressionSimple(self, ctx: Any) -> None:
            self.spans.append((ctx.start.start, ctx.stop.stop + 1))

        def exitComparisonExpressionAnd(self, ctx: Any) -> None:
            if ctx.getChildCount() > 1 and self.spans:  # propTest AND propTest ...
                self.conjunctive.add(len(self.spans) - 1)

    parsed = Pattern(pattern)
    listener = Observations()
    parsed.walk(listener)
    observations: list[Observation] = []
    for index, (start, stop) in enumerate(listener.spans):
        text = pattern[start:stop]
        found = Pattern(text).inspect().comparisons
        observations.append((text, index in listener.conjunctive, [
            (kind, steps, op, literal) for kind, items in found.items()
            for steps, op, literal in items]))
    return parsed.inspect(), observations


def _add_comparison(found: Indicators, object_type: str, steps: list[Any], op: str,
                    literal: str, where: str) -> str:
    """Add one comparison's indicator; the reason when it cannot be used."""
    value = _string(literal)
    path = ".".join(str(s) for s in steps)
    if value is None:
        return f"{object_type}:{path} compared with a non-string {literal[:40]}"
    try:
        return _add_value(found, object_type, steps, path, op, value, where)
    except InputError as error:  # a malformed hash or regex in the feed
        return f"{error.message} ({value[:80]!r})"


def _add_value(found: Indicators, object_type: str, steps: list[Any], path: str, op: str,
               value: str, where: str) -> str:
    from hullguard.forensics.ioc import add_indicator

    if object_type == "file" and op == "=" and len(steps) == 2 and steps[0] == "hashes" \
            and steps[1] in HASHES:
        add_indicator(found, f"{HASHES[steps[1]]}:{value}", where)
    elif object_type == "file" and op == "=" and steps == ["name"]:
        add_indicator(found, f"name:{value}", where)
    elif (object_type, path) in STRING_PROPERTIES and op in ("=", "MATCHES"):
        add_indicator(found, f"{'string' if op == '=' else 'regex'}:{value}", where)
    else:
        return f"{object_type}:{path} {op} is not supported"
    return ""


def _string(literal: str) -> str | None:
    """The text of a quoted STIX string literal (``\\'`` and ``\\\\`` unescaped)."""
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'":
        return None
    return literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")
