"""Attacker-chosen text made safe for a terminal: C0 and C1 control characters (and DEL) become
visible ``\\xNN`` escapes, so file names, package names or matched text cannot drive the
terminal. One module for every output that prints such text."""

from __future__ import annotations

import re
from typing import Any

_CONTROLS = [*range(0x20), *range(0x7F, 0xA0)]
_ONE_LINE = {code: f"\\x{code:02x}" for code in _CONTROLS}
_MULTI_LINE = {code: text for code, text in _ONE_LINE.items() if chr(code) not in "\n\t"}


def escape_controls(text: str) -> str:
    """Every control character escaped, line breaks too: a value stays on one line."""
    return text.translate(_ONE_LINE)


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def escape_lines(lines: list[str]) -> str:
    """Lines joined for a text table, each with its control characters escaped."""
    return "\n".join(escape_controls(line) for line in lines) + "\n"


def has_surrogates(text: str) -> bool:
    """True when ``text`` cannot be encoded as UTF-8 (lone surrogates from hostile input)."""
    return not text.isascii() and _SURROGATE_RE.search(text) is not None


def escape_surrogates(text: str) -> str:
    """Lone surrogates (a non-UTF-8 file name decoded with surrogateescape, a ``"\\udc80"``
    in hostile JSON) as the six characters ``\\udc80``: UTF-8 can encode the result, and
    inside a JSON string that is the JSON escape, so a JSON document stays valid and reads
    back to the same string (lossless). Text without surrogates is returned as is."""
    if not has_surrogates(text):
        return text
    return _SURROGATE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def escape_parameters(parameters: Any) -> Any:
    """SQL parameters (a sequence, a mapping, or a list of either for executemany) with every
    string that holds lone surrogates escaped: SQLite and PostgreSQL take only UTF-8, and a
    hostile file or package name must be stored, not crash the insert."""
    if isinstance(parameters, str):
        return escape_surrogates(parameters)
    if isinstance(parameters, dict):
        return {key: escape_parameters(value) for key, value in parameters.items()}
    if isinstance(parameters, list | tuple):
        return type(parameters)(escape_parameters(value) for value in parameters)
    return parameters


def install_sql_escaping(engine: Any) -> None:
    """Escape surrogates in every statement's parameters on ``engine`` (a SQLAlchemy Engine)."""
    from sqlalchemy import event

    def escape(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _executemany: bool) -> tuple[str, Any]:
        return statement, escape_parameters(parameters)

    event.listen(engine, "before_cursor_execute", escape, retval=True)


def printable(text: str) -> str:
    """Control characters escaped except newline and tab (multi-line messages)."""
    return text.translate(_MULTI_LINE)
