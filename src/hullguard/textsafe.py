"""Attacker-chosen text made safe for a terminal: C0 and C1 control characters (and DEL) become
visible ``\\xNN`` escapes, so file names, package names or matched text cannot drive the
terminal. One module for every output that prints such text."""

from __future__ import annotations

_CONTROLS = [*range(0x20), *range(0x7F, 0xA0)]
_ONE_LINE = {code: f"\\x{code:02x}" for code in _CONTROLS}
_MULTI_LINE = {code: text for code, text in _ONE_LINE.items() if chr(code) not in "\n\t"}


def escape_controls(text: str) -> str:
    """Every control character escaped, line breaks too: a value stays on one line."""
    return text.translate(_ONE_LINE)


def printable(text: str) -> str:
    """Control characters escaped except newline and tab (multi-line messages)."""
    return text.translate(_MULTI_LINE)
