"""Alpine (apk) versions: ``digits{.digits}[letter]{_suffix[N]}[-rN]``.

Own port of apk-tools 2.x ``src/version.c`` (the tokenizer ``next_token``/``get_token`` and
``apk_version_compare_blob_fuzzy``) turned into a tuple key: each token becomes
``(rank, value)``. When two versions agree on a prefix and then continue with different token
types, apk decides by type: a pre-release suffix (``_alpha _beta _pre _rc``) sorts below the
end of the string, post-release suffixes (``_cvs _svn _git _hg _p``), ``-rN`` and further
digits above it; the ranks below encode exactly that. univers' AlpineLinuxVersion is not used
because its comparisons run in Python per call; vectors from apk-tools test/version.data.
"""

from __future__ import annotations

from hullguard.vuln.versions.base import Key, KeyScheme, invalid

NAME = "apk"
_PRE = ("alpha", "beta", "pre", "rc")
_POST = ("cvs", "svn", "git", "hg", "p")

# apk-tools token types
_INVALID, _DIGIT_OR_ZERO, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _REVISION_NO, _END = range(-1, 7)
# Rank of the token that follows an equal prefix; higher rank = greater version. A pre-release
# suffix gets rank 0, below _END (1); a post-release suffix rank 4 (same type, so their values
# compare: pre values -4..-1 < post values 0..4).
_RANK = {_END: 1, _REVISION_NO: 2, _SUFFIX_NO: 3, _SUFFIX: 4, _LETTER: 5, _DIGIT: 6,
         _DIGIT_OR_ZERO: 7}


class _Tokens:
    """A cursor over the version text that mirrors apk-tools' blob walking."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.type = _DIGIT

    def _char(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def next_type(self) -> None:
        char, kind, new = self._char(), self.type, _INVALID
        if not char:
            new = _END
        elif kind in (_DIGIT, _DIGIT_OR_ZERO) and char.islower() and char.isascii():
            new = _LETTER
        elif kind == _LETTER and char.isdigit() and char.isascii():
            new = _DIGIT
        elif kind == _SUFFIX and char.isdigit() and char.isascii():
            new = _SUFFIX_NO
        else:
            new = {".": _DIGIT_OR_ZERO, "_": _SUFFIX}.get(char, _INVALID)
            if char == "-" and self._char(1) == "r":
                new = _REVISION_NO
                self.pos += 1
            self.pos += 1
        allowed = {(_DIGIT_OR_ZERO, _DIGIT), (_SUFFIX, _SUFFIX_NO), (_DIGIT, _LETTER)}
        if new < kind and (new, kind) not in allowed:
            new = _INVALID
        self.type = new

    def _digits(self) -> str:
        start = self.pos
        while self._char().isdigit() and self._char().isascii():
            self.pos += 1
        return self.text[start:self.pos]

    def _suffix(self) -> int:
        rest = self.text[self.pos:]
        for index, name in enumerate(_PRE):
            if rest.startswith(name):
                self.pos += len(name)
                return index - len(_PRE)
        for index, name in enumerate(_POST):
            if rest.startswith(name):
                self.pos += len(name)
                return index
        raise invalid(NAME, self.text, f"unknown suffix at {rest[:12]!r}")

    def value(self) -> int:
        """Read the token of the current type; advance ``type`` to the next token's type."""
        kind, forced = self.type, _INVALID
        if kind == _DIGIT_OR_ZERO and self._char() == "0":
            start = self.pos
            while self._char() == "0":
                self.pos += 1
            value, forced = start - self.pos, _DIGIT  # leading zeros: -count, then the digits
        elif kind in (_DIGIT_OR_ZERO, _DIGIT, _SUFFIX_NO, _REVISION_NO):
            digits = self._digits()
            value = int(digits) if digits else 0
        elif kind == _LETTER:
            value = ord(self._char())
            self.pos += 1
        elif kind == _SUFFIX:
            value = self._suffix()
        else:
            raise invalid(NAME, self.text, "malformed")
        if self.pos >= len(self.text):
            self.type = _END
        elif forced != _INVALID:
            self.type = forced
        else:
            self.next_type()
        return value


def key(text: str) -> Key:
    tokens = _Tokens(text.strip())
    out: list[tuple[int, int]] = [(_RANK[_DIGIT], tokens.value())]
    while tokens.type not in (_END, _INVALID):
        kind = tokens.type
        value = tokens.value()
        rank = 0 if kind == _SUFFIX and value < 0 else _RANK[kind]
        out.append((rank, value))
    if tokens.type == _INVALID:
        raise invalid(NAME, text, f"unexpected character at offset {tokens.pos}")
    out.append((_RANK[_END], 0))
    return tuple(out)


SCHEME = KeyScheme(NAME, key)
