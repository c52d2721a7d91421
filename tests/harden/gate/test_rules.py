"""The rules and the evaluation on hand-made evidence: each rule fails on what it must, a
rule without its evidence fails as not checked, exceptions waive only what they name."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from hullguard.harden.gate.evaluate import FAIL, NOT_CHECKED, PASS, evaluate
from hullguard.harden.gate.evidence import Check, Evidence, VulnFact
from hullguard.harden.gate.policy import StagePolicy, resolve

TODAY = date(2026, 12, 3)
WHERE = "/policies/p.yaml"


def policy(stage: str = "deploy", **rules: object) -> StagePolicy:
    return resolve(dict(rules), stage, WHERE)


def vuln(vid: str = "CVE-2026-0001", severity: str = "high", *, fixable: bool = True,
         kev: bool = False, epss: float | None = None, published: str = "2026-01-01",
         aliases: tuple[str, ...] = ()) -> VulnFact:
    return VulnFact(vid, aliases, severity, "musl@1.1.22-r2", fixable, kev, epss, published)


def scanned(**fields: object) -> Evidence:
    base = Evidence("registry.example.com/shop/web:1", "registry.example.com/shop/web",
                    digest="sha256:" + "a" * 64, user="1000", vulns=(), secrets=(),
                    licenses=())
    return replace(base, **fields)


def statuses(stage_policy: StagePolicy, evidence: Evidence) -> dict[str, str]:
    report = evaluate(stage_policy, [evidence], TODAY)
    return {r.rule: r.status for r in report.verdicts[0].results}


def test_blocked_severity_with_a_fix_fails_and_others_pass() -> None:
    rules = policy(vulnerabilities={"severities": ["critical", "high"], "fixable_only": True})
    assert statuses(rules, scanned(vulns=(vuln(),))) == {"vulnerabilities": FAIL}
    assert statuses(rules, scanned(vulns=(vuln(fixable=False),))) == {"vulnerabilities": PASS}
    assert statuses(rules, scanned(vulns=(vuln(severity="medium"),))) == \
        {"vulnerabilities": PASS}


def test_grace_period_counts_from_publication_and_unknown_dates_block() -> None:
    rules = policy(vulnerabilities={"severities": ["high"], "max_age_days": 14})
    fresh = vuln(published="2026-11-25T10:00:00Z")  # 8 days old
    old = vuln(published="2026-11-01")
    assert statuses(rules, scanned(vulns=(fresh,)))["vulnerabilities"] == PASS
    assert statuses(rules, scanned(vulns=(old,)))["vulnerabilities"] == FAIL
    report = evaluate(rules, [scanned(vulns=(vuln(published=""),))], TODAY)
    (result,) = report.verdicts[0].results
    assert result.status == FAIL and "publication date unknown" in result.notes[0]


def test_kev_and_epss_block_whatever_the_severity() -> None:
    rules = policy(vulnerabilities={"severities": ["critical"], "kev": "block",
                                    "epss_above": 0.5})
    assert statuses(rules, scanned(vulns=(vuln(severity="low", kev=True),)))[
        "vulnerabilities"] == FAIL
    assert statuses(rules, scanned(vulns=(vuln(severity="low", epss=0.7),)))[
        "vulnerabilities"] == FAIL
    assert statuses(rules, scanned(vulns=(vuln(severity="low", epss=0.3),)))[
        "vulnerabilities"] == PASS


def test_missing_evidence_is_never_a_pass() -> None:
    rules = policy(vulnerabilities={}, non_root=True, secrets="none",
                   licenses={"deny": ["AGPL-3.0-only"]})
    unscanned = Evidence("x", "registry.example.com/x", problem="registry refused")
    assert set(statuses(rules, unscanned).values()) == {NOT_CHECKED}
    assert not evaluate(rules, [unscanned], TODAY).passed
    # a source the advisory DB could not check fails the vulnerability rule too
    uncovered = scanned(uncovered=("debian 12",))
    report = evaluate(rules, [uncovered], TODAY)
    vulns = next(r for r in report.verdicts[0].results if r.rule == "vulnerabilities")
    assert vulns.status == FAIL and "debian 12: NOT checked" in vulns.reasons[0]


def test_no_image_evaluated_fails_the_gate() -> None:
    assert not evaluate(policy(non_root=True), [], TODAY).passed


@pytest.mark.parametrize(("user", "status"), [("", FAIL), ("root", FAIL), ("0:0", FAIL),
                                              ("1000", PASS), ("app:app", PASS)])
def test_non_root(user: str, status: str) -> None:
    assert statuses(policy(non_root=True), scanned(user=user)) == {"non-root": status}


def test_license_choice_with_an_allowed_alternative_passes() -> None:
    rules = policy(licenses={"deny": ["AGPL-3.0-only"]})
    assert statuses(rules, scanned(licenses=(("a@1", "MIT OR AGPL-3.0-only"),))) == \
        {"licenses": PASS}
    assert statuses(rules, scanned(licenses=(("a@1", "MIT AND AGPL-3.0-only"),))) == \
        {"licenses": FAIL}
    assert statuses(rules, scanned(licenses=(("a@1", "AGPL-3.0-only"),))) == {"licenses": FAIL}
    assert statuses(rules, scanned(licenses=(("a@1", "AGPL-3.0-or-later"),))) == \
        {"licenses": PASS}


def test_exceptions_waive_what_they_name_for_the_images_they_match() -> None:
    finding = vuln("GHSA-xxxx-yyyy-zzzz", aliases=("CVE-2026-0042",))
    rules = policy(vulnerabilities={"severities": ["high"]}, exceptions=[
        {"id": "CVE-2026-0042", "images": ["registry.example.com/shop/*"],
         "reason": "not reachable", "expires": "2027-01-31"}])
    report = evaluate(rules, [scanned(vulns=(finding,)),
                              scanned(name="registry.example.com/other/x",
                                      image="registry.example.com/other/x:1",
                                      vulns=(finding,))], TODAY)
    shop, other = (v.results[0] for v in report.verdicts)
    assert shop.status == PASS and "not reachable, until 2027-01-31" in shop.waived[0]
    assert other.status == FAIL


def test_expired_exception_is_reported_and_not_applied() -> None:
    rules = policy(non_root=True, exceptions=[
        {"id": "non-root", "reason": "legacy", "expires": "2026-12-02"}])
    report = evaluate(rules, [scanned(user="root")], TODAY)
    assert report.verdicts[0].results[0].status == FAIL
    assert report.warnings == ("exception 'non-root' expired on 2026-12-02: not applied "
                               "(legacy)",)
    last_day = resolve({"non_root": True, "exceptions": [
        {"id": "non-root", "reason": "legacy", "expires": "2026-12-03"}]}, "deploy", WHERE)
    waived = evaluate(last_day, [scanned(user="root")], TODAY)
    assert waived.verdicts[0].results[0].status == PASS  # valid through its last day


def test_signatures_need_a_verified_one_and_keys_to_check_with(tmp_path: Path) -> None:
    key = str(tmp_path / "team.pub")
    rules = policy(signatures={"required": True, "keys": [key]})
    good = {key: Check(True, "verified signature (legacy, sha256-....sig layer 0)")}
    bad = {key: Check(False, "no signature found")}
    assert statuses(rules, scanned(signatures=good)) == {"signatures": PASS}
    assert statuses(rules, scanned(signatures=bad)) == {"signatures": FAIL}
    assert statuses(rules, scanned()) == {"signatures": NOT_CHECKED}
    keyless = policy(signatures={"required": True, "identities": [
        {"issuer": "https://token.actions.githubusercontent.com", "subject": "x"}]})
    assert statuses(keyless, scanned(signatures=good)) == {"signatures": NOT_CHECKED}
    rooted = policy(signatures={"required": True, "trusted_root": "root.json", "identities": [
        {"issuer": "https://token.actions.githubusercontent.com", "subject": "x"}]})
    assert statuses(rooted, scanned(signatures=good)) == {"signatures": PASS}
    assert statuses(rooted, scanned(signatures=bad)) == {"signatures": FAIL}


def test_stages_choose_rules_and_their_sections_override() -> None:
    document = {"digest_pinned": True, "non_root": True,
                "stages": {"build": {"non_root": None, "digest_pinned": True}}}
    unpinned = scanned(pinned=False, user="root")
    assert statuses(resolve(document, "deploy", WHERE), unpinned) == \
        {"digest-pinned": FAIL, "non-root": FAIL}
    assert statuses(resolve(document, "scan", WHERE), unpinned) == {"non-root": FAIL}
    # the build section turns non-root off and digest pinning on at build
    assert statuses(resolve(document, "build", WHERE), unpinned) == {"digest-pinned": FAIL}


def test_allowed_registries_and_base_images() -> None:
    rules = policy(allowed_registries=["registry.example.com/shop/*"],
                   base_images={"allow": ["docker.io/library/alpine"], "max_age_days": 365})
    ok = scanned(base="alpine:3.20", base_created="2026-06-01T00:00:00Z")
    assert statuses(rules, ok) == {"allowed-registries": PASS, "base-images": PASS}
    outside = scanned(name="docker.io/library/nginx", base="ubuntu:22.04",
                      base_created="2020-01-01T00:00:00Z")
    report = evaluate(rules, [outside], TODAY)
    registries, bases = report.verdicts[0].results
    assert registries.status == FAIL and bases.status == FAIL
    assert any("built 2528 days ago (limit 365)" in r for r in bases.reasons)
    assert statuses(rules, scanned(base=""))["base-images"] == FAIL
