"""Matching semantics with hand-built records (every expectation written from the OSV spec)."""

from __future__ import annotations

import pytest

from hullguard.model import (
    Advisory,
    Affected,
    CvssScore,
    Distro,
    Epss,
    Event,
    Kev,
    Package,
    PackageType,
    Range,
    Sbom,
    Severity,
)
from hullguard.model.image import ImageInfo
from hullguard.vuln.match import (
    ecosystems_for,
    match_package,
    match_sbom,
    normalize_name,
    preferred_id,
)

ALPINE = Distro("alpine", "3.18.9")
DEBIAN = Distro("debian", "12", "bookworm")


def pkg(name: str, version: str, kind: PackageType = PackageType.PYTHON, *,
        source_name: str = "", source_version: str = "", owned_by: str = "") -> Package:
    return Package(name, version, kind, f"pkg:{kind.value}/{name}@{version}",
                   source_name=source_name, source_version=source_version, owned_by=owned_by)


def rng(*events: Event, kind: str = "ECOSYSTEM") -> Range:
    return Range(kind, events)


def adv(vid: str, affected: Affected, *, aliases: tuple[str, ...] = (), **kw: object) -> Advisory:
    return Advisory(vid, kw.pop("source", "osv"), aliases, affected=(affected,),  # type: ignore[arg-type]
                    **kw)  # type: ignore[arg-type]


def ids(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [f.id for f in findings]


INTRO0_FIX2 = rng(Event(introduced="0"), Event(fixed="2.20.0"))


@pytest.mark.parametrize(("version", "hit"), [("2.19.1", True), ("2.20.0", False),
                                              ("2.20.0rc1", True), ("3.0", False)])
def test_introduced_fixed(version: str, hit: bool) -> None:
    record = adv("PYSEC-1", Affected("PyPI", "requests", (INTRO0_FIX2,)))
    found = match_package(pkg("requests", version), None, [record])
    assert bool(found) is hit
    if hit:
        assert found[0].explanations[0].rule == \
            f"ECOSYSTEM introduced 0 <= {version} < fixed 2.20.0"
        assert found[0].fixed_versions == ("2.20.0",)


@pytest.mark.parametrize(("version", "hit"), [("1.0.0", False), ("1.0.1", True), ("1.0.2", False),
                                              ("3.0.0", True), ("3.2.4", True), ("3.2.5", False),
                                              ("0.9.0", False)])
def test_multiple_introduced_semver(version: str, hit: bool) -> None:
    events = (Event(introduced="1.0.1"), Event(fixed="1.0.2"), Event(introduced="3.0.0"),
              Event(fixed="3.2.5"))
    record = adv("GHSA-x", Affected("npm", "left-pad", (rng(*events, kind="SEMVER"),)))
    assert bool(match_package(pkg("left-pad", version, PackageType.NPM), None, [record])) is hit


def test_unsorted_events_are_sorted_first() -> None:
    events = (Event(fixed="3.2.5"), Event(introduced="3.0.0"), Event(fixed="1.0.2"),
              Event(introduced="0"))
    record = adv("GHSA-x", Affected("npm", "a", (rng(*events, kind="SEMVER"),)))
    assert match_package(pkg("a", "1.0.1", PackageType.NPM), None, [record])
    assert not match_package(pkg("a", "2.0.0", PackageType.NPM), None, [record])


@pytest.mark.parametrize(("version", "hit"), [("2.1.214", True), ("2.1.215", False)])
def test_last_affected(version: str, hit: bool) -> None:
    record = adv("X-1", Affected("Maven", "com.h2database:h2", (
        rng(Event(introduced="0"), Event(last_affected="2.1.214")),)))
    found = match_package(pkg("com.h2database:h2", version, PackageType.JAVA), None, [record])
    assert bool(found) is hit
    if hit:
        assert "<= last_affected 2.1.214" in found[0].explanations[0].rule
        assert found[0].fixed_versions == () and not found[0].has_fix


@pytest.mark.parametrize(("version", "hit"), [("1.5.0", True), ("2.0.0", False), ("2.5.0", False)])
def test_limit(version: str, hit: bool) -> None:
    record = adv("X-2", Affected("crates.io", "c", (
        rng(Event(introduced="1.0.0"), Event(limit="2.0.0"), kind="SEMVER"),)))
    assert bool(match_package(pkg("c", version, PackageType.CARGO), None, [record])) is hit


def test_versions_list_uses_ecosystem_equality() -> None:
    record = adv("PYSEC-2", Affected("PyPI", "jinja2", versions=("2.10", "2.10.1")))
    found = match_package(pkg("Jinja2", "2.10.0"), None, [record])
    assert found and found[0].explanations[0].rule == "2.10.0 listed in versions"
    assert not match_package(pkg("Jinja2", "2.11"), None, [record])


def test_git_ranges_are_ignored() -> None:
    git = Range("GIT", (Event(introduced="0"), Event(fixed="abcdef")))
    record = adv("OSV-1", Affected("PyPI", "p", (git,)))
    assert match_package(pkg("p", "1.0"), None, [record]) == []


def test_withdrawn_records_are_ignored() -> None:
    record = adv("GHSA-w", Affected("PyPI", "p", (INTRO0_FIX2,)), withdrawn="2024-01-01T00:00:00Z")
    assert match_package(pkg("p", "1.0"), None, [record]) == []


def test_aliases_merge_into_one_finding_preferring_the_cve() -> None:
    a = adv("PYSEC-2018-28", Affected("PyPI", "requests", (INTRO0_FIX2,)),
            aliases=("CVE-2018-18074",))
    b = adv("GHSA-x84v-xcm2-53pg", Affected("PyPI", "requests", (INTRO0_FIX2,)),
            aliases=("CVE-2018-18074",), source="ghsa")
    other = adv("GHSA-other", Affected("PyPI", "requests", (INTRO0_FIX2,)))
    found = match_package(pkg("requests", "2.19.1"), None, [a, b, other])
    assert ids(found) == ["CVE-2018-18074", "GHSA-other"]
    assert found[0].aliases == ("GHSA-x84v-xcm2-53pg", "PYSEC-2018-28")
    assert {e.advisory_id for e in found[0].explanations} == {"PYSEC-2018-28",
                                                              "GHSA-x84v-xcm2-53pg"}


def test_preferred_id() -> None:
    assert preferred_id(["PYSEC-1", "GHSA-b", "CVE-2020-2", "CVE-2020-1"]) == "CVE-2020-1"
    assert preferred_id(["PYSEC-1", "GHSA-b"]) == "GHSA-b"
    assert preferred_id(["GO-2024-1"]) == "GO-2024-1"


def test_names() -> None:
    assert normalize_name("PyPI", "Zope.Interface") == "zope-interface"
    assert normalize_name("npm", "@Babel/core") == "@Babel/core"
    assert ecosystems_for(pkg("PyYAML", "5.3"), None) == [("PyPI", "pyyaml", False)]
    assert ecosystems_for(pkg("@babel/core", "7.0.0", PackageType.NPM), None) == \
        [("npm", "@babel/core", False)]
    go = pkg("github.com/foo/bar", "v1.2.3", PackageType.GO_MODULE)
    assert ecosystems_for(go, None) == [("Go", "github.com/foo/bar", False)]


def test_os_packages_only_under_their_own_release() -> None:
    ssl = pkg("libssl1.1", "1.1.1d-r0", PackageType.APK, source_name="openssl")
    assert ecosystems_for(ssl, ALPINE) == [("Alpine:v3.18", "libssl1.1", False),
                                           ("Alpine:v3.18", "openssl", True)]
    assert ecosystems_for(ssl, None) == []
    deb = pkg("libc6", "2.36-9", PackageType.DEB, source_name="glibc")
    assert ecosystems_for(deb, DEBIAN)[0] == ("Debian:12", "libc6", False)
    assert ecosystems_for(deb, Distro("debian", "", "trixie"))[0][0] == "Debian:13"
    fix = rng(Event(introduced="0"), Event(fixed="1.1.1g-r0"))
    other_branch = adv("CVE-1", Affected("Alpine:v3.10", "openssl", (fix,), by_source=True))
    assert match_package(ssl, ALPINE, [other_branch]) == []
    same_branch = adv("CVE-1", Affected("Alpine:v3.18", "openssl", (fix,), by_source=True))
    found = match_package(ssl, ALPINE, [same_branch])
    assert ids(found) == ["CVE-1"]
    assert found[0].explanations[0].matched_name == "openssl"


def test_source_keyed_record_uses_source_version() -> None:
    deb = pkg("libc6", "2.36-9+b1", PackageType.DEB, source_name="glibc",
              source_version="2.36-9")
    fix = rng(Event(introduced="0"), Event(fixed="2.36-9+deb12u1"))
    record = adv("CVE-2", Affected("Debian:12", "glibc", (fix,), by_source=True),
                 source="debian")
    found = match_package(deb, DEBIAN, [record])
    assert found and found[0].explanations[0].installed_version == "2.36-9"


def test_owned_language_packages_are_left_to_the_distro() -> None:
    owned = pkg("lodash", "4.17.4", PackageType.NPM, owned_by="deb:node-lodash")
    assert ecosystems_for(owned, DEBIAN) == []


def test_go_stdlib_from_toolchain() -> None:
    stdlib = pkg("stdlib", "go1.21.4", PackageType.GO_MODULE)
    record = adv("GO-2023-1", Affected("Go", "stdlib", (
        rng(Event(introduced="1.21.0-0"), Event(fixed="1.21.5"), kind="SEMVER"),)))
    found = match_package(stdlib, None, [record])
    assert found and found[0].explanations[0].rule == \
        "SEMVER introduced 1.21.0-0 <= 1.21.4 < fixed 1.21.5"


def _sbom(*packages: Package, distro: Distro | None = None) -> Sbom:
    return Sbom(ImageInfo("test", "dir"), distro, packages)


def test_unparseable_versions_are_reported_not_dropped() -> None:
    record = adv("PYSEC-3", Affected("PyPI", "p", (INTRO0_FIX2,)))
    bad = pkg("p", "not a version")
    result = match_sbom(_sbom(bad), lambda eco, name: [record])
    assert result.findings == ()
    assert [(u.package.name, u.version) for u in result.unparseable] == [("p", "not a version")]
    assert "pep440" in result.unparseable[0].reason


def test_unparseable_record_bound_is_reported() -> None:
    record = adv("PYSEC-4", Affected("PyPI", "p", (rng(Event(introduced="0"),
                                                       Event(fixed="garbage!")),)))
    result = match_sbom(_sbom(pkg("p", "1.0")), lambda eco, name: [record])
    assert result.findings == () and "PYSEC-4" in result.unparseable[0].reason


def test_match_sbom_enrichment_and_severity() -> None:
    low = CvssScore("3.1", "CVSS:3.1/low", 3.1, Severity.LOW)
    crit = CvssScore("3.1", "CVSS:3.1/crit", 9.8, Severity.CRITICAL)
    record = adv("GHSA-1", Affected("PyPI", "p", (INTRO0_FIX2,)), aliases=("CVE-2020-1",),
                 cvss=(low,), severity=Severity.MEDIUM)

    class Data:
        cvss = (crit,)
        epss = Epss(0.5, 0.9)
        kev = Kev("2024-01-01")

    calls: list[list[str]] = []

    def enrich(wanted: object) -> dict[str, Data]:
        calls.append(list(wanted))  # type: ignore[call-overload]
        return {"CVE-2020-1": Data()}

    result = match_sbom(_sbom(pkg("p", "1.0")), lambda eco, name: [record], enrich)
    (finding,) = result.findings
    assert calls == [["CVE-2020-1", "GHSA-1"]]
    assert finding.id == "CVE-2020-1" and finding.severity is Severity.CRITICAL
    assert finding.cvss == crit and finding.epss == Epss(0.5, 0.9) and finding.kev is not None


def test_feed_rating_when_no_cvss() -> None:
    record = adv("GHSA-2", Affected("PyPI", "p", (INTRO0_FIX2,)), severity=Severity.HIGH)
    (finding,) = match_package(pkg("p", "1.0"), None, [record])
    assert finding.severity is Severity.HIGH and finding.cvss is None
