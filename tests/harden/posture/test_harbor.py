"""``posture harbor`` against a STAND-IN of Harbor's v2.0 API on 127.0.0.1 (a Harbor
appliance cannot run here). Its answers follow Harbor's published swagger description
(goharbor/harbor api/v2.0/swagger.yaml): see standin.py."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hullguard.errors import AuthError
from hullguard.harden.posture import assess_harbor
from hullguard.model.lint import LintReport
from tests.harden.posture.standin import HARBOR_PASSWORD, HARBOR_USER, HarborStandIn

ENV = {"HULLGUARD_HARBOR_USERNAME": HARBOR_USER, "HULLGUARD_HARBOR_PASSWORD": HARBOR_PASSWORD}


def outcomes(report: LintReport, check_id: str) -> list[tuple[str, str]]:
    return sorted((f.status, f.message) for f in report.findings if f.check.id == check_id)


def test_harbor_checks(harbor: HarborStandIn) -> None:
    report = assess_harbor(harbor.url, level="L3", environ=ENV)
    assert outcomes(report, "HG-PH001") == [("fail", "auth_mode is db_auth")]
    assert outcomes(report, "HG-PH002") == [("fail", "self_registration is true")]
    assert outcomes(report, "HG-PH003") == [("pass", "project_creation_restriction is adminonly")]
    assert outcomes(report, "HG-PH004") == [("fail", "robot robot$god never expires")]
    assert outcomes(report, "HG-PH005") == [
        ("fail", "robot robot$god on every project may delete")]
    assert outcomes(report, "HG-PH006")[0][0] == "manual"
    # both projects read: the second one only through the Link header's next page
    assert outcomes(report, "HG-PH007") == [("fail", "project library is public")]
    assert outcomes(report, "HG-PH008") == [("fail", "project library does not scan on push")]
    assert outcomes(report, "HG-PH009") == [
        ("fail", "project library blocks only at severity critical")]
    assert outcomes(report, "HG-PH010") == [
        ("fail", "project library does not enforce cosign signatures")]
    assert outcomes(report, "HG-PH011") == [
        ("fail", "project library relies on Notary v1 content trust (deprecated)")]
    assert outcomes(report, "HG-PH012") == [
        ("fail", "project secure CVE allowlist never expires (CVE-2023-1234)"),
        ("fail", "system CVE allowlist never expires (CVE-2021-44228)")]
    assert outcomes(report, "HG-PH013") == [("fail", "audit_log_forward_endpoint is not set")]
    assert outcomes(report, "HG-PH014") == [
        ("fail", "rule hub-everything pulls everything from https://hub.docker.com")]
    assert outcomes(report, "HG-PH015") == [
        ("fail", "project library webhook ci sends to http://hooks.example/ci without "
                 "verified TLS")]


def test_non_admin_gets_manual_for_configuration(harbor: HarborStandIn) -> None:
    harbor.deny.add("/api/v2.0/configurations")
    report = assess_harbor(harbor.url, level="L2", environ=ENV)
    for check_id in ("HG-PH001", "HG-PH002", "HG-PH003", "HG-PH013"):
        (status, message), = outcomes(report, check_id)
        assert status == "manual" and "HTTP 403" in message, check_id
    assert outcomes(report, "HG-PH004")[0][0] == "fail"  # the rest is still judged


def test_wrong_password_is_one_clear_error(harbor: HarborStandIn) -> None:
    with pytest.raises(AuthError, match=r"refused \(401\)"):
        assess_harbor(harbor.url, environ={**ENV, "HULLGUARD_HARBOR_PASSWORD": "wrong"})
    with pytest.raises(AuthError, match="no Harbor credentials"):
        assess_harbor(harbor.url, environ={})


def test_rate_limit_on_a_later_page_is_waited_out(harbor: HarborStandIn) -> None:
    """Projects come one per page (Link: rel="next"); the second page is throttled once: the
    client waits per Retry-After and still reads both projects."""
    harbor.throttle["/api/v2.0/projects"] = (0, "1")
    calls = {"n": 0}
    route = harbor.server.routes["/api/v2.0/projects"]

    def second_page_throttled(handler: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            harbor.throttle["/api/v2.0/projects"] = (1, "1")
        route(handler)

    harbor.server.routes["/api/v2.0/projects"] = second_page_throttled
    started = time.monotonic()
    report = assess_harbor(harbor.url, level="L2", environ=ENV)
    assert time.monotonic() - started >= 1.0
    public = [f.message for f in report.findings if f.check.id == "HG-PH007"]
    assert any("library" in m for m in public)
    everything = " ".join(f"{f.location} {f.message}" for f in report.findings)
    assert "library" in everything and "secure" in everything  # page 2 read after the wait
    assert calls["n"] == 3  # page 1, page 2 (429), page 2 again
