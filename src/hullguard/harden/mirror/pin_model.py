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
