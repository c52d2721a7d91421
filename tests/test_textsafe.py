from __future__ import annotations

from hullguard.textsafe import escape_controls, printable


def test_terminal_controls_are_escaped() -> None:
    hostile = "a\x1b[31mred\x07\x9b2J\x7fz"
    assert escape_controls(hostile) == "a\\x1b[31mred\\x07\\x9b2J\\x7fz"
    assert printable(hostile) == escape_controls(hostile)


def test_line_breaks_depend_on_the_mode() -> None:
    assert printable("one\ntwo\tthree\r") == "one\ntwo\tthree\\x0d"
    assert escape_controls("one\ntwo\t") == "one\\x0atwo\\x09"
    assert escape_controls("ünïcode ✓") == "ünïcode ✓"  # printable characters stay
