"""What every version scheme shares: the error, the key object, caching, padded sequences.

A parsed version is a :class:`Version`: the original text plus a *key*, a plain tuple built so
that Python's native tuple comparison gives the scheme's order. Comparing keys in C is what makes
matching fast (no per-comparison Python code), and a tuple key is trivially a total order
(antisymmetric, transitive, consistent with equality), which the Hypothesis tests check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, Protocol

from hullguard.errors import InputError

Key = tuple[Any, ...]


class InvalidVersion(InputError):
    """A version string the ecosystem's rules cannot order: reported, never matched."""


class Version:
    """A parsed version: compares by key within one scheme, raises TypeError across schemes."""

    __slots__ = ("key", "scheme", "text")

    def __init__(self, scheme: str, text: str, key: Key) -> None:
        self.scheme = scheme
        self.text = text
        self.key = key

    def _other(self, other: object) -> Key:
        if not isinstance(other, Version) or other.scheme != self.scheme:
            raise TypeError(f"cannot compare {self.scheme} version with {other!r}")
        return other.key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.scheme == other.scheme and self.key == other.key

    def __hash__(self) -> int:
        return hash((self.scheme, self.key))

    def __lt__(self, other: Version) -> bool:
        return self.key < self._other(other)

    def __le__(self, other: Version) -> bool:
        return self.key <= self._other(other)

    def __gt__(self, other: Version) -> bool:
        return self.key > self._other(other)

    def __ge__(self, other: Version) -> bool:
        return self.key >= self._other(other)

    def __repr__(self) -> str:
        return f"Version({self.scheme!r}, {self.text!r})"

    def __str__(self) -> str:
        return self.text


class VersionScheme(Protocol):
    """One ecosystem's ordering: ``parse`` raises :class:`InvalidVersion` for bad text."""

    name: str

    def parse(self, text: str) -> Version: ...


MAX_VERSION_LENGTH = 256  # longer strings are hostile input, not versions


class KeyScheme:
    """A scheme defined by a key function ``text -> tuple``; parsed versions are cached."""

    def __init__(self, name: str, key: Callable[[str], Key]) -> None:
        self.name = name
        self._key = key
        # Per-scheme cache: an SBOM repeats few distinct versions and feeds repeat bounds a lot.
        self.parse: Callable[[str], Version] = lru_cache(maxsize=65_536)(self._parse)

    def _parse(self, text: str) -> Version:
        if (not isinstance(text, str) or not text.strip() or len(text) > MAX_VERSION_LENGTH
                or not text.strip().isprintable()):  # control characters: hostile, not a version
            raise InvalidVersion(f"not a {self.name} version: {str(text)[:80]!r}",
                                 where=f"{self.name} version")
        try:
            return Version(self.name, text, self._key(text))
        except InvalidVersion:
            raise
        except (ValueError, IndexError) as error:  # defensive: a key function bug is a bad input
            raise InvalidVersion(f"not a {self.name} version: {text[:80]!r} ({error})",
                                 where=f"{self.name} version") from error

    def __repr__(self) -> str:
        return f"KeyScheme({self.name!r})"


def invalid(scheme: str, text: str, why: str) -> InvalidVersion:
    return InvalidVersion(f"not a {scheme} version: {text[:80]!r}: {why}",
                          where=f"{scheme} version")


def padded(items: Iterable[Any], pad: Any) -> Key:
    """Encode a sequence compared element-wise where the shorter one is padded with ``pad``.

    dpkg, RubyGems and friends compare "1.0" == "1.0.0" (missing parts count as ``pad``) while
    "1.0~rc" < "1.0". Plain tuple comparison would call the shorter tuple smaller, so the
    sequence is rewritten as runs: each non-pad element becomes ``(sign, run, value)`` where
    ``run`` is the number of pad elements before it, and ``sign`` says whether it sorts above
    (+1) or below (-1) the pad. An element above the pad that comes *earlier* (smaller run) makes
    the version bigger, hence ``-run``; one below the pad that comes earlier makes it smaller.
    The terminator ``(0,)`` stands for "only pads from here on" and sits between the two signs.
    """
    out: list[Any] = []
    run = 0
    for item in items:
        if item == pad:
            run += 1
            continue
        out.append((1, -run, item) if item > pad else (-1, run, item))
        run = 0
    out.append((0,))
    return tuple(out)


MAX_EPOCH = 2**31 - 1  # dpkg rejects epochs above INT_MAX; rpm stores them as int32


def split_evr(scheme: str, text: str) -> tuple[int, str, str]:
    """``[epoch:]version[-release]`` -> (epoch, version, release) as dpkg and rpm split it:
    the epoch ends at the first ``:``, the release starts after the last ``-``."""
    epoch_text, colon, rest = text.partition(":")
    if not colon:
        epoch_text, rest = "0", text
    if not epoch_text.isdigit() or not epoch_text.isascii() or int(epoch_text) > MAX_EPOCH:
        raise invalid(scheme, text, "epoch is not a number up to 2^31-1")
    version, dash, release = rest.rpartition("-")
    if not dash:
        version, release = rest, ""
    return int(epoch_text), version, release
