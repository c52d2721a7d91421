"""Differential tests: our orderings against the real tools (dpkg, rpm, Maven) on random input."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hullguard.vuln.versions import InvalidVersion, compare, parse_version
from tests.vuln.versions.oracles import dpkg_compare, maven_compare, rpm_compare

_DEB = st.from_regex(r"\A([0-3]:)?[0-9][0-9a-zA-Z.+~]{0,7}(-[0-9a-zA-Z.+~]{1,5})?\Z")
_RPM = st.from_regex(r"\A[0-9a-zA-Z.~^_+]{1,10}\Z")


def _valid(ecosystem: str, texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        try:
            parse_version(ecosystem, text)
            out.append(text)
        except InvalidVersion:
            pass
    return out


@settings(max_examples=3, deadline=None)
@given(st.lists(_DEB, min_size=40, max_size=60))
def test_dpkg_matches_dpkg(texts: list[str]) -> None:
    texts = _valid("Debian", texts)
    pairs = [(a, b) for a in texts[:20] for b in texts[20:40]]
    assert [compare("Debian", a, b) for a, b in pairs] == dpkg_compare(pairs)


@settings(max_examples=3, deadline=None)
@given(st.lists(_RPM, min_size=40, max_size=60))
def test_rpm_matches_rpm(texts: list[str]) -> None:
    pairs = [(a, b) for a in texts[:20] for b in texts[20:40]]
    ours = [compare("Red Hat", f"0:{a}-1", f"0:{b}-1") for a, b in pairs]
    assert ours == rpm_compare(pairs)


MAVEN_SAMPLES = [
    "1", "1.0", "1.0.0", "1-alpha", "1-alpha1", "1-a1", "1-beta", "1-b2", "1-milestone", "1-m3",
    "1-rc", "1-cr", "1-SNAPSHOT", "1-ga", "1-final", "1-release", "1-sp", "1-sp1", "1-xyz",
    "1.1", "1-1", "1-0.1", "1.0-1", "1.0.1", "1.0-alpha-1", "1.0a1", "1.0.a1", "2.0.0.RELEASE",
    "1.0-RC1", "1.0.0-M1", "1.foo", "1foo", "1.0-jre", "31.1-jre", "2.9.10.8", "1.2.3.Final",
    "9999999999", "1.99999999999", "1.0.0-20200101.123456-1", "1..2", "1--2", "1.", "1-",
    # ComparableVersionTest VERSIONS_QUALIFIER / VERSIONS_NUMBER (maven-artifact)
    "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11",
    "1-cr2", "1-rc123", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot", "1-2",
    "1-123", "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c",
    "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
    "11", "11.a", "11b", "11c", "11m",
]


def test_maven_matches_comparable_version() -> None:
    rnd = random.Random(7)
    pairs = [(a, b) for a in MAVEN_SAMPLES for b in MAVEN_SAMPLES]
    rnd.shuffle(pairs)
    pairs = pairs[:3000]
    assert [compare("Maven", a, b) for a, b in pairs] == maven_compare(pairs)


@pytest.mark.parametrize("ordered", [
    # ComparableVersionTest.testVersionsQualifier / testVersionsNumber orders (3.8 series)
    ["1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11",
     "1-rc", "1-cr2", "1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def",
     "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123"],
])
def test_maven_upstream_order(ordered: list[str]) -> None:
    for lower, higher in itertools.pairwise(ordered):
        assert compare("Maven", lower, higher) == -1, (lower, higher)
