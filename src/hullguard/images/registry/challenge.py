"""Parse ``WWW-Authenticate`` headers (RFC 9110 section 11.6.1).

Registries send ``Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
scope="repository:library/alpine:pull"``: the scope contains commas inside quotes, several
challenges may share one header, and parameter names are case-insensitive. A small scanner
handles that; naive ``split(",")`` does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hullguard.errors import AuthError

MAX_HEADER = 16 * 1024
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SPACE = re.compile(r"[ \t]*")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer", "basic"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenges(headers: list[str], where: str = "") -> list[Challenge]:
    """All challenges in the given header values; malformed text raises AuthError."""
    found: list[Challenge] = []
    for header in headers:
        if len(header) > MAX_HEADER:
            raise AuthError("WWW-Authenticate header is too long", where=where)
        found.extend(_Scanner(header, where).challenges())
    return found


class _Scanner:
    def __init__(self, text: str, where: str) -> None:
        self.text, self.pos, self.where = text, 0, where

    def challenges(self) -> list[Challenge]:
        result: list[Challenge] = []
        while self._skip_separators():
            scheme = self._expect(_TOKEN, "an auth scheme")
            params = self._params()
            result.append(Challenge(scheme.lower(), params))
        return result

    def _params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        self._skip(_SPACE)
        if self._token68_here():
            self._expect(_TOKEN68, "a token68")
            return params
        while self._skip_separators():
            start = self.pos
            name = self._expect(_TOKEN, "a parameter name")
            self._skip(_SPACE)
            if not self.text.startswith("=", self.pos):
                self.pos = start  # a bare token: the next challenge's scheme
                break
            self.pos += 1
            self._skip(_SPACE)
            params[name.lower()] = self._value()
        return params

    def _token68_here(self) -> bool:
        match = _TOKEN68.match(self.text, self.pos)
        if not match:
            return False
        rest = self.text[match.end():].lstrip(" \t")
        return match.group().endswith("=") and (not rest or rest.startswith(","))

    def _value(self) -> str:
        quoted = _QUOTED.match(self.text, self.pos)
        if quoted:
            self.pos = quoted.end()
            return re.sub(r"\\(.)", r"\1", quoted.group(1))
        return self._expect(_TOKEN, "a parameter value")

    def _skip_separators(self) -> bool:
        """Skip commas and spaces; True while text remains."""
        while self.pos < len(self.text) and self.text[self.pos] in ", \t":
            self.pos += 1
        return self.pos < len(self.text)

    def _skip(self, pattern: re.Pattern[str]) -> None:
        match = pattern.match(self.text, self.pos)
        if match:
            self.pos = match.end()

    def _expect(self, pattern: re.Pattern[str], what: str) -> str:
        match = pattern.match(self.text, self.pos)
        if not match:
            shown = repr(self.text[self.pos:self.pos + 40])
            raise AuthError(f"malformed WWW-Authenticate header: expected {what} at {shown}",
                            where=self.where)
        self.pos = match.end()
        return match.group()
