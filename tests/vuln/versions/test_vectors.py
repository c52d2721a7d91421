"""Upstream test vectors per ecosystem (each file/list cites where it comes from)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hullguard.vuln.versions import InvalidVersion, compare, parse_version
from hullguard.vuln.versions.golang import toolchain_to_semver

DATA = Path(__file__).parent / "data"
OPS = {"<": -1, "=": 0, ">": 1}


def _apk_vectors() -> list[tuple[str, str, str]]:
    rows = []
    for line in (DATA / "apk-version.data").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            a, op, b = line.split()
            rows.append((a, op, b))
    return rows


@pytest.mark.parametrize(("a", "op", "b"), _apk_vectors())
def test_apk_tools_version_data(a: str, op: str, b: str) -> None:
    assert compare("Alpine:v3.18", a, b) == OPS[op]
    assert compare("Alpine:v3.18", b, a) == -OPS[op]


def _rpm_vectors() -> list[tuple[str, str, int]]:
    lines = (DATA / "rpmvercmp.data").read_text().splitlines()
    return [(a, b, int(e)) for a, b, e in (ln.split() for ln in lines if not ln.startswith("#"))]


@pytest.mark.parametrize(("a", "b", "expected"), _rpm_vectors())
def test_rpmvercmp_at(a: str, b: str, expected: int) -> None:
    # rpmvercmp.at compares bare version strings; "a-b" would be split into version-release,
    # and none of the vectors contain "-", so the full EVR comparison must agree.
    assert compare("Red Hat", a, b) == expected


# dpkg lib/dpkg/t/t-version.c (test_version_compare / test_version_parse)
DPKG_EQUAL = [("0", "0:0"), ("0:0-", "0"), ("0:0-0", "0-0"), ("0:0.0-0.0", "0.0-0.0"),
              ("1:0", "1:0"), ("0:0-0-0", "0-0-0"), ("0:0:0-0", "0:0:0-0"), ("0-00", "00-0"),
              ("  \t0:0-1", "0-1"), ("0:09azAZ.-+~:-0", "0:09azAZ.-+~:-0")]
DPKG_LESS = [("0-0", "1:0-0"), ("0a-0", "0b-0"), ("0-a", "0-b"), ("1-1", "2-1"), ("1-1", "1-2"),
             ("1.0~rc1", "1.0"), ("1.0~~", "1.0~"), ("1.0", "1.0+b1"), ("1.0", "1.0.0"),
             ("2.30-21", "2.30-21+deb10u1"), ("1:1.0", "1:1.0a")]
DPKG_INVALID = ["", "  ", "0:", "0:0 0-1", "-1:0-1", "999999999999999999999999:0-1", "a:0-0",
                "A:0-0", "-0", "0:-0", "0:abc3-0", "0:0!-0", "0:0_a-0", "0:0-0:0", "0:0-0_"]


@pytest.mark.parametrize(("a", "b"), DPKG_EQUAL)
def test_dpkg_equal(a: str, b: str) -> None:
    assert compare("Debian:12", a, b) == 0


@pytest.mark.parametrize(("a", "b"), DPKG_LESS)
def test_dpkg_less(a: str, b: str) -> None:
    assert compare("Debian:12", a, b) == -1 and compare("Debian:12", b, a) == 1


@pytest.mark.parametrize("text", DPKG_INVALID)
def test_dpkg_invalid(text: str) -> None:
    with pytest.raises(InvalidVersion):
        parse_version("Debian", text)


def _strictly_increasing(ecosystem: str, versions: list[str]) -> None:
    for lower, higher in itertools.pairwise(versions):
        assert compare(ecosystem, lower, higher) == -1, (lower, higher)
        assert compare(ecosystem, higher, lower) == 1, (higher, lower)


def test_semver_org_precedence() -> None:
    # semver.org section 11 examples
    _strictly_increasing("npm", ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                 "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
                                 "1.0.0", "2.0.0", "2.1.0", "2.1.1"])
    assert compare("npm", "1.0.0+build.1", "1.0.0+build.2") == 0
    assert compare("crates.io", "v1.2.3", "1.2.3") == 0


@pytest.mark.parametrize("text", ["01.2.3", "1.2", "1.2.3-01", "1.2.3-", "1.2.3+", "a.b.c",
                                  "1.2.3.4", " ", "1.2.3-beta..1"])
def test_semver_invalid(text: str) -> None:
    with pytest.raises(InvalidVersion):
        parse_version("npm", text)


def test_go_semver() -> None:
    # golang.org/x/mod/semver semver_test.go: ordered list and shorthands
    _strictly_increasing("Go", ["v0.0.0-20190101000000-abcdefabcdef", "v0.0.0", "v0.0.1",
                                "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-beta", "v1.0.0-rc.1",
                                "v1.0.0", "v1.2.0", "v1.2.3-pre", "v1.2.3",
                                "v1.2.4-0.20191109021931-daa7c04131f5",
                                "v1.2.4", "v2.0.0+incompatible", "v2.1.0"])
    assert compare("Go", "v1", "v1.0.0") == 0
    assert compare("Go", "v1.2", "v1.2.0") == 0
    assert compare("Go", "v2.0.0+incompatible", "2.0.0") == 0
    for bad in ("v1.2.3.4", "v01.2.3", "1.2.3-01", "vx", "v1.2.3-"):
        with pytest.raises(InvalidVersion):
            parse_version("Go", bad)


@pytest.mark.parametrize(("toolchain", "semver"), [
    ("go1.21.4", "1.21.4"), ("go1.21", "1.21.0"), ("go1.21rc2", "1.21.0-rc.2"),
    ("go1.9beta1", "1.9.0-beta.1"), ("go1.22.0", "1.22.0"), ("1.20.3", "1.20.3")])
def test_go_toolchain(toolchain: str, semver: str) -> None:
    assert toolchain_to_semver(toolchain) == semver


def test_go_toolchain_invalid() -> None:
    with pytest.raises(InvalidVersion):
        toolchain_to_semver("devel +abc123")


def test_pep440_examples() -> None:
    # PEP 440 "Summary of permitted suffixes and relative ordering"
    _strictly_increasing("PyPI", ["1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456",
                                  "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
                                  "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456",
                                  "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
                                  "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1"])
    assert compare("PyPI", "1.0", "1.0.0") == 0
    assert compare("PyPI", "1!0.1", "2.0") == 1
    with pytest.raises(InvalidVersion):
        parse_version("PyPI", "not-a-version")


def test_rubygems_examples() -> None:
    # rubygems test/rubygems/test_gem_version.rb (test_spaceship, test_prerelease)
    assert compare("RubyGems", "1.0", "1.0.a") == 1
    assert compare("RubyGems", "1.8.2", "1.8.2.a") == 1
    assert compare("RubyGems", "1.8.2.b", "1.8.2.a") == 1
    assert compare("RubyGems", "1.8.2.a10", "1.8.2.a9") == 1
    assert compare("RubyGems", "1.0.0", "1") == 0
    assert compare("RubyGems", "1.0.b1", "1.0.a.2") == 1
    assert compare("RubyGems", "1.0-rc1", "1.0.pre.rc1") == 0
    assert compare("RubyGems", "5.a", "5.0.0.rc2") == -1
    assert compare("RubyGems", "0.beta.1", "0.0.beta.1") == 0
    for bad in ("junk", "1.0\n2.0", "1..2", "a.b"):
        with pytest.raises(InvalidVersion):
            parse_version("RubyGems", bad)


def test_nuget_examples() -> None:
    # NuGet.Versioning VersionComparerTests: 4th part, case-insensitive labels, metadata
    _strictly_increasing("NuGet", ["1.0.0-alpha", "1.0.0-alpha.2", "1.0.0-beta", "1.0.0",
                                   "1.0.0.1", "1.0.1", "1.10.0"])
    assert compare("NuGet", "1.0.0-BETA", "1.0.0-beta") == 0
    assert compare("NuGet", "1.0", "1.0.0.0") == 0
    assert compare("NuGet", "1.0.0+abc", "1.0.0+def") == 0


def test_composer_examples() -> None:
    # composer/semver VersionParserTest (normalize) + PHP version_compare semantics
    _strictly_increasing("Packagist", ["1.0.0-dev", "1.0.0-alpha1", "1.0.0-beta2", "1.0.0-RC1",
                                       "1.0.0", "1.0.0-patch1", "1.0.1", "v1.1"])
    assert compare("Packagist", "v1.0", "1.0.0.0") == 0
    assert compare("Packagist", "1.0.0-b1", "1.0.0-beta1") == 0
    for bad in ("dev-master", "1.0.0-foo", "latest"):
        with pytest.raises(InvalidVersion):
            parse_version("Packagist", bad)


def test_unknown_ecosystem_is_an_input_error() -> None:
    from hullguard.errors import InputError

    with pytest.raises(InputError):
        parse_version("NoSuchEcosystem", "1.0")


@pytest.mark.parametrize("ecosystem", ["Alpine", "Debian", "Red Hat", "PyPI", "npm", "Go",
                                       "Maven", "RubyGems", "NuGet", "Packagist"])
@pytest.mark.parametrize("text", ["", "   ", "x" * 300, "1.0\x00", "1.0\n2", "1.0\x1b[31m"])
def test_hostile_text_is_invalid(ecosystem: str, text: str) -> None:
    with pytest.raises(InvalidVersion):
        parse_version(ecosystem, text)
