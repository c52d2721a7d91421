"""A Dockerfile parser that follows BuildKit's grammar closely enough for inventory and lint.

Handles parser directives (``# escape=``, ``# syntax=``), line continuations with the active
escape character, comment lines inside continuations, heredocs (``<<EOF``, ``<<-EOF``,
quoted delimiters), flags (``--platform``, ``--from``, ``--chown``, ...), JSON vs shell form,
stages with names, and ARG scoping: global ARGs (before the first FROM) and the automatic
platform ARGs are visible in FROM lines; ``${VAR}``, ``${VAR:-default}`` and friends are
substituted. Pure: text in, :class:`Dockerfile` out; never raises on odd input, it warns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$")
_INSTRUCTION_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+(.*))?$", re.DOTALL)
_HEREDOC_RE = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_HEREDOC_KEYWORDS = ("RUN", "COPY", "ADD")
_FLAG_KEYWORDS = ("FROM", "COPY", "ADD", "RUN", "HEALTHCHECK", "ONBUILD")
# BuildKit defines these for every build; they may appear in FROM lines.
AUTOMATIC_ARGS = {
    "BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64",
    "BUILDVARIANT": "", "TARGETPLATFORM": "linux/amd64", "TARGETOS": "linux",
    "TARGETARCH": "amd64", "TARGETVARIANT": "",
}


@dataclass(frozen=True)
class Heredoc:
    """One here-document body attached to a RUN/COPY/ADD instruction."""

    name: str
    content: str
    line: int  # line of the first body line
    strip_tabs: bool = False  # <<-EOF
    expand: bool = True  # False when the delimiter was quoted


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    value: str  # arguments after the flags, continuations joined
    line: int  # first line (1-based)
    end_line: int
    flags: tuple[tuple[str, str], ...] = ()  # ("platform", "linux/arm64"), ("link", "")
    json_form: bool = False
    arguments: tuple[str, ...] = ()  # JSON form items, or shell-form words when they split
    heredocs: tuple[Heredoc, ...] = ()
    original: str = ""  # the source lines as written
    stage: int = -1  # index of the stage it belongs to; -1 before the first FROM

    def flag(self, name: str) -> str | None:
        return next((value for key, value in self.flags if key == name), None)


@dataclass(frozen=True)
class Stage:
    index: int
    name: str  # the ``AS`` name, lower-cased ("" when unnamed)
    base: str  # the FROM image after ARG substitution
    base_raw: str  # as written
    line: int
    platform: str = ""
    from_stage: str = ""  # name/index of an earlier stage this one builds on
    instructions: tuple[Instruction, ...] = ()

    @property
    def is_scratch(self) -> bool:
        return self.base.lower() == "scratch"

    @property
    def is_image(self) -> bool:
        """True when the base is a real image (not scratch, not another stage, not empty)."""
        return bool(self.base) and not self.is_scratch and not self.from_stage


@dataclass(frozen=True)
class ImageUse:
    """A registry image a Dockerfile pulls: a stage base or a ``COPY --from=image``."""

    reference: str
    line: int
    stage: str  # stage name or index
    via: str  # "FROM" or "COPY --from"
    platform: str = ""


@dataclass(frozen=True)
class Dockerfile:
    path: str
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    global_args: tuple[tuple[str, str | None], ...] = ()
    escape: str = "\\"
    directives: tuple[tuple[str, str], ...] = ()
    warnings: tuple[tuple[int, str], ...] = field(default=())

    def stage(self, name_or_index: str) -> Stage | None:
        key = name_or_index.lower()
        if key.isdigit() and int(key) < len(self.stages):
            return self.stages[int(key)]
        return next((s for s in self.stages if s.name and s.name == key), None)

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def image_uses(self) -> list[ImageUse]:
        """Every registry image the build pulls, in order (scratch and stage names excluded)."""
        uses = [ImageUse(s.base, s.line, s.name or str(s.index), "FROM", s.platform)
                for s in self.stages if s.is_image]
        for instr in self.instructions:
            source = instr.flag("from") if instr.keyword in ("COPY", "ADD") else None
            if source and not self._is_stage_ref(source, instr.stage):
                stage = self.stages[instr.stage] if instr.stage >= 0 else None
                label = (stage.name or str(stage.index)) if stage else ""
                uses.append(ImageUse(source, instr.line, label, "COPY --from"))
        return sorted(uses, key=lambda use: use.line)

    def _is_stage_ref(self, text: str, before: int) -> bool:
        key = text.lower()
        if key.isdigit():
            return True
        return any(s.name == key for s in self.stages[: max(before, 0) + 1])


# ---------------------------------------------------------------------------- substitution

_VAR_RE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+?])?"
                     r"(?P<word>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


# ARG B=$A$A, C=$B$B, ... doubles per line: 40 lines would be a terabyte. Real values are
# image names, versions and paths; longer expansions are dropped with a warning.
MAX_EXPANSION = 64 << 10


class ExpansionTooLong(ValueError):
    """A substitution grew past :data:`MAX_EXPANSION` characters."""


def substitute(text: str, variables: dict[str, str | None], escape: str = "\\",
               missing: list[str] | None = None) -> str:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-w}``, ``${VAR-w}``, ``${VAR:+w}``, ``${VAR+w}``,
    ``${VAR:?e}``; an escaped ``$`` stays literal. Unset names go to ``missing``.
    ExpansionTooLong when the result would exceed :data:`MAX_EXPANSION` characters."""
    out: list[str] = []
    pos = size = 0
    while pos < len(text):
        if size > MAX_EXPANSION:
            raise ExpansionTooLong(f"expands to over {MAX_EXPANSION} characters")
        char = text[pos]
        if char == escape and text[pos + 1: pos + 2] == "$":
            out.append("$")
            pos += 2
            continue
        match = _VAR_RE.match(text, pos) if char == "$" else None
        if match is None:
            out.append(char)
            pos += 1
            continue
        out.append(_expand(match, variables, escape, missing))
        size += len(out[-1])
        pos = match.end()
    if size + len(out) > MAX_EXPANSION:  # size counts expansions, len(out) the rest (upper bound)
        raise ExpansionTooLong(f"expands to over {MAX_EXPANSION} characters")
    return "".join(out)


def _expand(match: re.Match[str], variables: dict[str, str | None], escape: str,
            missing: list[str] | None) -> str:
    name = match.group("braced") or match.group("plain")
    value, op = variables.get(name), match.group("op") or ""
    is_set, non_empty = value is not None, bool(value)
    word = substitute(match.group("word") or "", variables, escape, missing)
    if op in ("-", ":-"):
        return (value or "") if (non_empty if op == ":-" else is_set) else word
    if op in ("+", ":+"):
        return word if (non_empty if op == ":+" else is_set) else ""
    if not is_set and missing is not None:
        missing.append(name)
    return value or ""


# ---------------------------------------------------------------------------- lines


@dataclass
class _Logical:
    text: str
    line: int
    end_line: int
    original: str


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    """Parser directives at the very top; returns them and the index of the first other line."""
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _DIRECTIVE_RE.match(line)
        if not match or match.group(1).lower() in found:
            return found, index
        found[match.group(1).lower()] = match.group(2)
    return found, len(lines)


def _continues(line: str, escape: str) -> tuple[bool, str]:
    stripped = line.rstrip(" \t\r")
    if stripped.endswith(escape):
        return True, stripped[:-1]
    return False, line.rstrip("\r")


def _logical_lines(lines: list[str], start: int, escape: str) -> list[_Logical | Heredoc]:
    """Join continuations, drop comments, and cut heredoc bodies out after their instruction."""
    out: list[_Logical | Heredoc] = []
    index = start
    while index < len(lines):
        raw = lines[index]
        if not raw.strip() or raw.lstrip().startswith("#"):
            index += 1
            continue
        logical, index = _join(lines, index, escape)
        out.append(logical)
        if _INSTRUCTION_RE.match(logical.text) and \
                logical.text.split(None, 1)[0].upper() in _HEREDOC_KEYWORDS:
            bodies, index = _heredoc_bodies(logical.text, lines, index)
            out.extend(bodies)
    return out


def _join(lines: list[str], index: int, escape: str) -> tuple[_Logical, int]:
    first, parts, original = index, list[str](), list[str]()
    while index < len(lines):
        raw = lines[index]
        original.append(raw)
        index += 1
        if parts and (raw.lstrip().startswith("#") or not raw.strip()):
            continue  # comment and empty lines inside a continuation are dropped, as BuildKit does
        more, text = _continues(raw, escape)
        parts.append(text)
        if not more:
            break
    return _Logical("".join(parts), first + 1, index, "\n".join(original)), index


def _heredoc_bodies(text: str, lines: list[str], index: int) -> tuple[list[Heredoc], int]:
    bodies = []
    for match in _HEREDOC_RE.finditer(text):
        strip, quote, name = match.group(1) == "-", match.group(2), match.group(3)
        body, start = [], index
        while index < len(lines):
            line = lines[index].rstrip("\r")
            index += 1
            if (line.lstrip("\t") if strip else line) == name:
                break
            body.append(line.lstrip("\t") if strip else line)
        else:
            bodies.append(Heredoc(name, "", start + 1, strip, not quote))  # unterminated marker
            continue
        bodies.append(Heredoc(name, "\n".join(body) + "\n", start + 1, strip, not quote))
    return bodies, index


# ---------------------------------------------------------------------------- instructions


def _split_flags(keyword: str, rest: str) -> tuple[tuple[tuple[str, str], ...], str]:
    if keyword not in _FLAG_KEYWORDS:
        return (), rest
    flags: list[tuple[str, str]] = []
    while True:
        match = re.match(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\"[^\"]*\"|'[^']*'|\S*))?\s*", rest)
        if not match:
            return tuple(flags), rest
        value = match.group(2) or ""
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        flags.append((match.group(1).lower(), value))
        rest = rest[match.end():]


# One shell-word part: 'single', "double" (backslash escapes inside), \\x, plain text, a lone
# quote (unterminated: kept literally), or blanks between words.
_WORD_PART = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)|([^\s'"\\]+)|(['"\\])|(\s+)""",
                        re.DOTALL)
_DOUBLE_ESCAPE = re.compile(r'\\([\\"])')  # as shlex: only \\ and \" inside "..."


def split_words(text: str) -> list[str]:
    """POSIX-shell word splitting (quotes and backslashes, no expansion) in linear time.

    ``shlex.split`` grows each token one character at a time, which is quadratic in the
    token's length: a 2 MB ``RUN`` line took 80 s. Unterminated quotes are kept literally
    instead of failing, so hostile text always splits."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    for match in _WORD_PART.finditer(text):
        single, double, escaped, plain, lone, blank = match.groups()
        if blank is not None:
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            continue
        in_word = True
        if double is not None:
            current.append(_DOUBLE_ESCAPE.sub(r"\1", double))
        else:
            current.append(next(p for p in (single, escaped, plain, lone) if p is not None))
    if in_word:
        words.append("".join(current))
    return words


def _arguments(rest: str) -> tuple[bool, tuple[str, ...]]:
    if rest.lstrip().startswith("["):
        try:
            items = json.loads(rest)
        except (ValueError, RecursionError):  # not JSON (or absurdly nested): shell form
            items = None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return True, tuple(items)
    return False, tuple(split_words(rest))


def _instruction(logical: _Logical, stage: int) -> Instruction | None:
    match = _INSTRUCTION_RE.match(logical.text)
    if not match:
        return None
    keyword, rest = match.group(1).upper(), (match.group(2) or "").strip()
    flags, rest = _split_flags(keyword, rest)
    json_form, arguments = _arguments(rest)
    return Instruction(keyword, rest, logical.line, logical.end_line, flags, json_form,
                       arguments, (), logical.original, stage)


# ---------------------------------------------------------------------------- ARG / FROM


def parse_arg(value: str) -> list[tuple[str, str | None]]:
    """``ARG a=1 b="two"`` -> [("a", "1"), ("b", "two")]; ``ARG c`` -> [("c", None)]."""
    words = split_words(value)
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, default = word.partition("=")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            pairs.append((name, default if sep else None))
    return pairs


class _Builder:
    """Walks the logical lines once, tracking stages and ARG scopes."""

    def __init__(self, path: str, escape: str, build_args: dict[str, str]) -> None:
        self.path, self.escape, self.build_args = path, escape, build_args
        self.instructions: list[Instruction] = []
        self.stages: list[dict[str, object]] = []
        self.global_args: list[tuple[str, str | None]] = []
        self.scope: dict[str, str | None] = dict(AUTOMATIC_ARGS)
        self.warnings: list[tuple[int, str]] = []

    def add(self, item: _Logical | Heredoc) -> None:
        if isinstance(item, Heredoc):
            self._attach(item)
            return
        instr = _instruction(item, len(self.stages) - 1)
        if instr is None:
            # the text itself is not echoed: a compose file may point "dockerfile:" anywhere
            self.warnings.append((item.line, "not a Dockerfile instruction; ignored"))
            return
        if instr.keyword == "ARG" and not self.stages:
            self._global_arg(instr)
        elif instr.keyword == "FROM":
            instr = self._from(instr)
        self.instructions.append(instr)

    def _attach(self, doc: Heredoc) -> None:
        last = self.instructions[-1]
        self.instructions[-1] = Instruction(
            last.keyword, last.value, last.line,
            max(last.end_line, doc.line + doc.content.count("\n")), last.flags,
            last.json_form, last.arguments, (*last.heredocs, doc), last.original, last.stage)
        if not doc.content:
            self.warnings.append((doc.line, f"heredoc <<{doc.name} is not terminated"))

    def _global_arg(self, instr: Instruction) -> None:
        for name, default in parse_arg(instr.value):
            value = self.build_args.get(name, default)
            if value is not None:
                value = self._substitute(value, instr.line, f"ARG {name}")
            self.global_args.append((name, value))
            self.scope[name] = value

    def _substitute(self, text: str, line: int, what: str,
                    missing: list[str] | None = None) -> str | None:
        """``substitute`` that warns instead of raising: a runaway expansion is dropped."""
        try:
            return substitute(text, self.scope, self.escape, missing)
        except ExpansionTooLong as error:
            self.warnings.append((line, f"{what} {error}; value ignored"))
            return None

    def _from(self, instr: Instruction) -> Instruction:
        missing: list[str] = []
        words = instr.value.split()
        base_raw = words[0] if words else ""
        name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
        base = self._substitute(base_raw, instr.line, "FROM", missing) or ""
        platform = self._substitute(instr.flag("platform") or "", instr.line, "FROM --platform",
                                    missing) or ""
        for var in dict.fromkeys(missing):
            self.warnings.append((instr.line, f"FROM uses ARG {var} that has no value"))
        if not base:
            self.warnings.append((instr.line, "FROM without an image"))
        known = {str(s["name"]) for s in self.stages if s["name"]}
        from_stage = base.lower() if base.lower() in known else ""
        self.stages.append({"name": name, "base": base, "base_raw": base_raw,
                            "line": instr.line, "platform": platform, "from_stage": from_stage})
        return Instruction(instr.keyword, instr.value, instr.line, instr.end_line, instr.flags,
                           instr.json_form, instr.arguments, instr.heredocs, instr.original,
                           len(self.stages) - 1)

    def build(self, directives: dict[str, str]) -> Dockerfile:
        stages = tuple(
            Stage(i, str(s["name"]), str(s["base"]), str(s["base_raw"]), int(str(s["line"])),
                  str(s["platform"]), str(s["from_stage"]),
                  tuple(x for x in self.instructions if x.stage == i))
            for i, s in enumerate(self.stages))
        if not stages and self.instructions:
            self.warnings.append((self.instructions[0].line, "no FROM instruction"))
        return Dockerfile(self.path, tuple(self.instructions), stages, tuple(self.global_args),
                          self.escape, tuple(sorted(directives.items())),
                          tuple(sorted(self.warnings)))


def parse_dockerfile(text: str, path: str = "Dockerfile",
                     build_args: dict[str, str] | None = None) -> Dockerfile:
    """Parse a Dockerfile; ``build_args`` override ARG defaults like ``--build-arg``."""
    lines = text.lstrip("\ufeff").split("\n")
    directives, start = _directives(lines)
    escape = directives.get("escape", "\\")
    builder = _Builder(path, escape if escape in ("\\", "`") else "\\", build_args or {})
    if escape not in ("\\", "`"):
        builder.warnings.append((1, f"invalid escape directive {escape!r}; using '\\'"))
    for item in _logical_lines(lines, start, builder.escape):
        builder.add(item)
    return builder.build(directives)


def looks_like_dockerfile(text: str) -> bool:
    """Content sniffing: the first instruction (after directives/comments/ARGs) is FROM."""
    for line in text.lstrip("\ufeff").splitlines()[:200]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword = stripped.split(None, 1)[0].upper()
        if keyword == "ARG":
            continue
        return keyword == "FROM" and len(stripped.split()) >= 2
    return False
