"""Hypothesis: every scheme's order is a total order consistent with equality and hashing."""

from __future__ import annotations

import contextlib
import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from hullguard.vuln.versions import InvalidVersion, Version, parse_version

_NUM = st.integers(0, 30).map(str)
_WORD = st.sampled_from(["a", "b", "rc", "alpha", "beta", "pre", "p", "dev", "post", "sp",
                         "git", "final", "x", "snapshot", "m"])
# Version-ish strings per ecosystem: mostly valid, sometimes not (those are filtered out).
_GRAMMARS = {
    "Alpine": st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,2}){0,3}[a-c]?(_(alpha|beta|pre|rc|p|git)"
                            r"[0-9]?)?(-r[0-9]{1,2})?\Z"),
    "Debian": st.from_regex(r"\A([0-2]:)?[0-9][0-9a-z.+~]{0,8}(-[0-9a-z.+~]{1,6})?\Z"),
    "Red Hat": st.from_regex(r"\A([0-2]:)?[0-9a-z.~^_+]{1,10}(-[0-9a-z.~^]{1,6})?\Z"),
    "PyPI": st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,3}((a|b|rc)[0-9])?(\.post[0-9])?"
                          r"(\.dev[0-9])?\Z"),
    "npm": st.from_regex(r"\A[0-9]\.[0-9]\.[0-9](-[0-9a-z]{1,3}(\.[0-9a-z]{1,3}){0,2})?\Z"),
    "Go": st.from_regex(r"\Av[0-9](\.[0-9](\.[0-9](-[0-9a-z]{1,3}(\.[0-9a-z]{1,3})?)?)?)?"
                        r"(\+incompatible)?\Z"),
    "Maven": st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,3}(-(alpha|beta|rc|snapshot|sp|ga|"
                           r"final|m|jre)[0-9]?)?\Z"),
    "RubyGems": st.from_regex(r"\A[0-9]{1,2}(\.[0-9a-c]{1,2}){0,4}\Z"),
    "NuGet": st.from_regex(r"\A[0-9](\.[0-9]){0,3}(-[a-zA-Z0-9]{1,3}(\.[a-zA-Z0-9]{1,3})?)?\Z"),
    "Packagist": st.from_regex(r"\Av?[0-9](\.[0-9]){0,3}(-(alpha|beta|RC|patch|dev)[0-9]?)?\Z"),
}


def _parsed(ecosystem: str, texts: list[str]) -> list[Version]:
    out = []
    for text in texts:
        with contextlib.suppress(InvalidVersion):
            out.append(parse_version(ecosystem, text))
    return out


def _cmp(a: Version, b: Version) -> int:
    return (a > b) - (a < b)


@st.composite
def _sample(draw: st.DrawFn) -> tuple[str, list[Version]]:
    ecosystem = draw(st.sampled_from(sorted(_GRAMMARS)))
    texts = draw(st.lists(_GRAMMARS[ecosystem], min_size=3, max_size=8))
    return ecosystem, _parsed(ecosystem, texts)


@settings(max_examples=400, deadline=None)
@given(_sample())
def test_total_order(sample: tuple[str, list[Version]]) -> None:
    _ecosystem, versions = sample
    for a in versions:
        assert _cmp(a, a) == 0 and a == a
        for b in versions:
            assert _cmp(a, b) == -_cmp(b, a)  # antisymmetry
            assert (a == b) == (_cmp(a, b) == 0)  # equality consistent with compare
            if a == b:
                assert hash(a) == hash(b)
            for c in versions:  # transitivity
                if _cmp(a, b) <= 0 and _cmp(b, c) <= 0:
                    assert _cmp(a, c) <= 0


@settings(max_examples=200, deadline=None)
@given(_sample(), st.randoms())
def test_sort_is_stable_and_order_independent(sample: tuple[str, list[Version]],
                                              rnd: object) -> None:
    _ecosystem, versions = sample
    shuffled = list(versions)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    once = sorted(versions)
    assert [v.key for v in sorted(shuffled)] == [v.key for v in once]
    assert sorted(once) == once
    by_cmp = sorted(versions, key=functools.cmp_to_key(_cmp))
    assert [v.key for v in by_cmp] == [v.key for v in once]


def test_parse_is_cached_and_equal_text_gives_equal_versions() -> None:
    assert parse_version("Alpine:v3.18", "1.2.3-r0") is parse_version("Alpine:v3.10", "1.2.3-r0")
    assert parse_version("Debian:12", "1.0") == parse_version("Debian:11", "0:1.0-0")


def test_cross_scheme_comparison_is_a_type_error() -> None:
    import pytest

    with pytest.raises(TypeError):
        _ = parse_version("Alpine", "1.0") < parse_version("Debian", "1.0")
    assert parse_version("Alpine", "1.0") != parse_version("Debian", "1.0")
