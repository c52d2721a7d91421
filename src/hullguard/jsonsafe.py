"""JSON (and YAML) numbers from attacker-controlled input, bounded.

Python refuses to convert integers of more than 4,300 digits (``sys.int_info``'s default
``str_digits_check_threshold``, a quadratic-time guard) with a bare ValueError, raised from
inside ``json.loads``, a YAML constructor, or later from ``str()`` when an output writes the
number. Input is checked once, where it is parsed, and such a number is one clear error.
"""

from __future__ import annotations

import json
from typing import Any

from hullguard.errors import LimitExceeded

MAX_INT_DIGITS = 4300  # = sys.get_int_max_str_digits() by default; far above any real field


def check_int_literal(text: str, where: str = "") -> None:
    """LimitExceeded when an integer literal has more than MAX_INT_DIGITS characters."""
    if len(text) > MAX_INT_DIGITS:  # sign, 0x, underscores: a bound, a few chars loose
        raise LimitExceeded(f"an integer of {len(text)} characters (more than "
                            f"{MAX_INT_DIGITS} digits)", where=where)


def bounded_int(text: str, where: str = "") -> int:
    """``int(text)`` for a JSON integer literal, LimitExceeded beyond MAX_INT_DIGITS."""
    check_int_literal(text.lstrip("+-"), where)
    return int(text)


def loads(data: str | bytes, where: str) -> Any:
    """``json.loads`` with integers bounded and runaway nesting (RecursionError) as one
    LimitExceeded naming ``where``; malformed JSON still raises json.JSONDecodeError (and
    undecodable bytes UnicodeDecodeError) for the caller's own message."""
    try:
        return json.loads(data, parse_int=lambda text: bounded_int(text, where))
    except RecursionError:
        raise LimitExceeded("JSON nested too deeply (nesting deeper than the parser's limit, "
                            "about 1,000 levels)", where=where) from None
