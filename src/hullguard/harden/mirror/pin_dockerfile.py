"""Where the image references are in a Dockerfile: ``FROM`` bases, ``ARG`` defaults used as a
whole ``FROM`` image, and ``COPY --from=IMAGE``.

The inventory's parser (:func:`hullguard.inventory.dockerfile.parse_dockerfile`) decides what
is a stage, a stage name or a registry image; this module only finds the exact characters to
replace on the instruction's first line. A ``FROM ${BASE}`` whose global ``ARG BASE=image``
has a literal default is pinned in the ARG (so ``--build-arg BASE=...`` still overrides it);
any other variable use is expanded and the FROM line itself is rewritten.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hullguard.harden.mirror.pin_model import Found, Site
from hullguard.inventory.dockerfile import (
    AUTOMATIC_ARGS,
    Dockerfile,
    ExpansionTooLong,
    Instruction,
    parse_dockerfile,
    substitute,
)

_FROM_RE = re.compile(r"^(\s*FROM\s+(?:--\S+\s+)*)(\S+)", re.IGNORECASE)
_WHOLE_VAR_RE = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")
_VAR_NAME_RE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


class _Lines:
    """Character offsets of each line of the text (1-based line numbers)."""

    def __init__(self, text: str) -> None:
        self.text = text
        bom = 1 if text.startswith("\ufeff") else 0  # line 1 starts after a byte-order mark
        self.starts = [bom] + [m.end() for m in re.finditer("\n", text)]

    def line(self, number: int) -> str:
        start = self.starts[number - 1]
        end = self.starts[number] if number < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\n").rstrip("\r")

    def start(self, number: int) -> int:
        return self.starts[number - 1]

    def eol(self, number: int) -> str:
        end = self.starts[number] if number < len(self.starts) else len(self.text)
        return "\r\n" if self.text[self.start(number):end].endswith("\r\n") else "\n"


def find_sites(text: str, where: str) -> list[Site]:
    """Every registry image the Dockerfile pulls, with the span that names it."""
    parsed = parse_dockerfile(text, where)
    lines = _Lines(text)
    sites: list[Site] = []
    for instr in parsed.instructions:
        if instr.keyword == "FROM":
            site = _from_site(parsed, instr, lines)
            sites += [site] if site is not None else []
        elif instr.keyword in ("COPY", "ADD") and instr.flag("from"):
            site = _copy_site(parsed, instr, lines)
            sites += [site] if site is not None else []
    return sites


def _scope(parsed: Dockerfile) -> dict[str, str | None]:
    scope: dict[str, str | None] = dict(AUTOMATIC_ARGS)
    scope.update(parsed.global_args)
    return scope


def _from_site(parsed: Dockerfile, instr: Instruction, lines: _Lines) -> Site | None:
    stage = parsed.stages[instr.stage]
    if not stage.is_image and (stage.from_stage or stage.is_scratch):
        return None  # another stage of this build, or scratch: nothing to pull
    found = _found(parsed, instr.line, stage.base_raw)
    reason = _variable_problem(parsed, stage.base_raw)
    if reason:
        return _plain(found, instr.line, lines).unpinnable(reason)
    whole = _WHOLE_VAR_RE.match(stage.base_raw)
    if whole:
        site = _arg_site(parsed, whole.group(1) or whole.group(2), found, lines)
        if site is not None:
            return site
    match = _FROM_RE.match(lines.line(instr.line))
    if match is None or match.group(2) != stage.base_raw:
        return _plain(found, instr.line, lines).unpinnable(
            "the FROM image is not on the instruction's first line; edit it by hand")
    start = lines.start(instr.line) + match.start(2)
    return _line_site(found, start, start + len(match.group(2)), instr.line, lines)


def _found(parsed: Dockerfile, line: int, raw: str) -> Found:
    missing: list[str] = []
    try:
        value = substitute(raw, _scope(parsed), parsed.escape, missing)
    except ExpansionTooLong:
        value = ""
    return Found(parsed.path, line, raw, value, "dockerfile")


def _variable_problem(parsed: Dockerfile, raw: str) -> str:
    """Why a FROM/COPY --from value with variables cannot be pinned ("" when it can)."""
    names = _VAR_NAME_RE.findall(raw)
    platform = [n for n in names if n in AUTOMATIC_ARGS]
    if platform:
        return f"depends on the build platform (${platform[0]})"
    missing: list[str] = []
    try:
        substitute(raw, _scope(parsed), parsed.escape, missing)
    except ExpansionTooLong:
        return "an ARG expansion that is too long"
    return f"ARG {missing[0]} has no default" if missing else ""


def _arg_site(parsed: Dockerfile, name: str, found: Found, lines: _Lines) -> Site | None:
    """The global ``ARG NAME=image`` default to rewrite, when it is a literal."""
    declaring = [i for i in parsed.instructions if i.keyword == "ARG" and i.stage < 0
                 and re.search(rf"(?<![A-Za-z0-9_]){name}=", i.value)]
    if not declaring:
        return None
    instr = declaring[-1]  # the last declaration before the first FROM wins
    line = lines.line(instr.line)
    match = re.search(rf"(?<![A-Za-z0-9_]){name}=(?:\"([^\"$]*)\"|'([^']*)'|([^\s\"'$]+))", line)
    if match is None:
        return None
    group = next(g for g in (1, 2, 3) if match.group(g) is not None)  # inside any quotes
    if match.group(group) != found.reference:
        return None
    start = lines.start(instr.line) + match.start(group)
    return _line_site(replace(found, text=match.group(group)), start,
                      start + len(match.group(group)), instr.line, lines)


def _copy_site(parsed: Dockerfile, instr: Instruction, lines: _Lines) -> Site | None:
    source = instr.flag("from") or ""
    if source.lower().isdigit() or any(s.name == source.lower()
                                       for s in parsed.stages[: max(instr.stage, 0) + 1]):
        return None  # a stage of this build
    found = _found(parsed, instr.line, source)
    reason = _variable_problem(parsed, source)
    if reason:
        return _plain(found, instr.line, lines).unpinnable(reason)
    match = re.search(r"--from=(\S+)", lines.line(instr.line))
    if match is None or match.group(1) != source:
        return _plain(found, instr.line, lines).unpinnable(
            "the --from value is quoted or not on the first line; edit it by hand")
    start = lines.start(instr.line) + match.start(1)
    return _line_site(found, start, start + len(source), instr.line, lines)


def _line_site(found: Found, start: int, end: int, line: int, lines: _Lines) -> Site:
    text = lines.line(line)
    indent = text[: len(text) - len(text.lstrip())]
    return Site(found, None, start, end, comment_at=lines.start(line), line_comment=True,
                eol=lines.eol(line), indent=indent)


def _plain(found: Found, line: int, lines: _Lines) -> Site:
    return Site(found, None, lines.start(line), lines.start(line))
