"""What ``pin`` finds in a file and the text edits that pin it (shared by the YAML and
Dockerfile locators and by :mod:`.pin`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

COMMENT = "was:"  # the comment that keeps the original reference: ``# was: alpine:3.19``


@dataclass(frozen=True)
class Found:
    """One image reference in a file."""

    path: str
    line: int
    text: str        # as written (before variables are expanded)
    reference: str   # after expansion; "" when it cannot be expanded
    kind: str        # kubernetes | compose | dockerfile
    reason: str = ""  # why it cannot be pinned whatever the mirror has ("" = it may be)


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement`` (an insertion when start == end)."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Site:
    """Where a reference's text is and how to rewrite it."""

    found: Found
    node: Any           # the YAML node (aliases share it) or None
    start: int          # the span of the value to replace
    end: int
    quote: str = ""     # YAML scalar style of the value: "", "'" or '"'
    comment_at: int = -1  # where the comment goes; -1: nowhere (JSON has no comments)
    line_comment: bool = False  # Dockerfile: a comment line inserted at comment_at
    eol: str = "\n"
    indent: str = ""

    def unpinnable(self, reason: str) -> Site:
        return replace(self, found=replace(self.found, reason=reason))

    def edits(self, mirror: str) -> list[Edit]:
        value = f"{self.quote}{mirror}{self.quote}" if self.quote in ("'", '"') else mirror
        edits = [Edit(self.start, self.end, value)]
        was = " ".join(self.found.text.split())  # a multi-line scalar's text on one line
        if self.line_comment:
            edits.append(Edit(self.comment_at, self.comment_at,
                              f"{self.indent}# {COMMENT} {was}{self.eol}"))
        elif self.comment_at >= 0:
            edits.append(Edit(self.comment_at, self.comment_at, f"  # {COMMENT} {was}"))
        return edits


def apply_edits(text: str, edits: list[Edit]) -> str:
    """``text`` with every edit applied; identical edits (an alias's value) count once,
    insertions at one place keep their order."""
    unique = list(dict.fromkeys(edits))
    ordered = sorted(enumerate(unique), key=lambda pair: (pair[1].start, pair[0]))
    out, pos = [], 0
    for _, edit in ordered:
        if edit.start < pos:
            raise ValueError(f"overlapping edits at {edit.start}")  # a locator bug
        out.append(text[pos:edit.start])
        out.append(edit.replacement)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------------------- the diff
# Built from the edits themselves: difflib's matcher would rediscover them at a cost that
# grows with repeated lines (3.5 s for 7,500 lines of similar manifests, worse on hostile ones).

CONTEXT = 3


@dataclass(frozen=True)
class _Change:
    first: int       # 0-based index of the first original line touched
    old: list[str]   # the original lines (with their line breaks)
    new: list[str]   # what they become


def _line_starts(text: str) -> list[int]:
    starts = [0]
    index = text.find("\n")
    while index != -1:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    if starts[-1] == len(text) and len(starts) > 1:
        starts.pop()  # the text ends with a line break: no empty last line
    return starts


def _changes(text: str, edits: list[Edit]) -> list[_Change]:
    """Edits grouped by the original lines they touch, each group with its new lines."""
    import bisect

    starts = _line_starts(text)
    groups: list[tuple[int, int, list[Edit]]] = []
    for edit in sorted(dict.fromkeys(edits), key=lambda e: (e.start, e.end)):
        first = bisect.bisect_right(starts, edit.start) - 1
        last = max(first, bisect.bisect_right(starts, max(edit.end - 1, edit.start)) - 1)
        if groups and first <= groups[-1][1] + 1:  # adjacent lines: one block, as difflib
            groups[-1] = (groups[-1][0], max(last, groups[-1][1]), [*groups[-1][2], edit])
        else:
            groups.append((first, last, [edit]))
    found = []
    for first, last, group in groups:
        begin = starts[first]
        end = starts[last + 1] if last + 1 < len(starts) else len(text)
        shifted = [Edit(e.start - begin, e.end - begin, e.replacement) for e in group]
        found.append(_Change(first, text[begin:end].splitlines(keepends=True),
                             apply_edits(text[begin:end], shifted).splitlines(keepends=True)))
    return found


def _range(start: int, length: int) -> str:
    """A unified-diff range as difflib writes it."""
    if length == 1:
        return f"{start + 1}"
    return f"{start if length == 0 else start + 1},{length}"


def unified_diff_lines(text: str, edits: list[Edit], old_name: str,
                       new_name: str) -> list[str]:
    """The unified diff (3 lines of context, difflib's format) of applying ``edits``."""
    lines = text.splitlines(keepends=True)
    changes = _changes(text, edits)
    if not changes:
        return []
    hunks: list[list[_Change]] = [[changes[0]]]
    for change in changes[1:]:
        previous = hunks[-1][-1]
        if change.first - (previous.first + len(previous.old)) <= 2 * CONTEXT:
            hunks[-1].append(change)
        else:
            hunks.append([change])
    out, delta = [f"--- {old_name}\n", f"+++ {new_name}\n"], 0
    for hunk in hunks:
        body, delta = _hunk(lines, hunk, delta)
        out += body
    return out


def _hunk(lines: list[str], hunk: list[_Change], delta: int) -> tuple[list[str], int]:
    start = max(0, hunk[0].first - CONTEXT)
    stop = min(len(lines), hunk[-1].first + len(hunk[-1].old) + CONTEXT)
    body, pos, grown = [], start, 0
    for change in hunk:
        body += [" " + line for line in lines[pos:change.first]]
        body += ["-" + line for line in change.old] + ["+" + line for line in change.new]
        pos, grown = change.first + len(change.old), grown + len(change.new) - len(change.old)
    body += [" " + line for line in lines[pos:stop]]
    header = f"@@ -{_range(start, stop - start)} " \
             f"+{_range(start + delta, stop - start + grown)} @@\n"
    return [header, *body], delta + grown

