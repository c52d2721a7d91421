"""RPM versions (Red Hat, Fedora, SUSE, Rocky, Alma): ``[epoch:]version[-release]``.

Own implementation of rpm's ``rpmvercmp`` (rpmio/rpmvercmp.c) as a tuple key: runs of letters
or digits are the tokens, other characters only separate them; ``~`` sorts before everything
including the end of the string, ``^`` after the end but before any further token, digits
beat letters, digits compare numerically and letters by ``strcmp``. Vectors from rpm's
tests/rpmvercmp.at (and a differential test against the installed ``rpm``).
"""

from __future__ import annotations

import re

from hullguard.vuln.versions.base import Key, KeyScheme, invalid, split_evr

NAME = "rpm"
_TOKEN_RE = re.compile(r"~|\^|[0-9]+|[A-Za-z]+")
_TILDE, _END, _CARET, _ALPHA, _NUM = 0, 1, 2, 3, 4


def _evr_part(text: str) -> Key:
    out: list[tuple[int, object]] = []
    for token in _TOKEN_RE.findall(text):
        if token == "~":
            out.append((_TILDE, 0))
        elif token == "^":
            out.append((_CARET, 0))
        elif token.isdigit():
            out.append((_NUM, int(token)))
        else:
            out.append((_ALPHA, token))
    out.append((_END, 0))
    return tuple(out)


def key(text: str) -> Key:
    text = text.strip()
    epoch, version, release = split_evr(NAME, text)
    if not version or any(c.isspace() for c in text):
        raise invalid(NAME, text, "empty version or whitespace")
    return (epoch, _evr_part(version), _evr_part(release))


SCHEME = KeyScheme(NAME, key)
