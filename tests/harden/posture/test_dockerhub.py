"""``posture dockerhub`` against a STAND-IN of the Docker Hub API on 127.0.0.1 (a SaaS edge
that cannot run here). The stand-in's answers follow Docker Hub's published OpenAPI
description (docs.docker.com/reference/api/hub/latest.yaml, API 2-beta): see standin.py."""

from __future__ import annotations

import time

import pytest

from hullguard.errors import AuthError, LimitExceeded, RegistryError
from hullguard.harden.posture import assess_dockerhub, dockerhub, http
from hullguard.images.registry.netpolicy import AddressRefused
from hullguard.model.lint import LintReport
from tests.harden.posture.standin import ORG, SECRET, USER, DockerHubStandIn

ENV = {"HULLGUARD_DOCKERHUB_USERNAME": USER, "HULLGUARD_DOCKERHUB_TOKEN": SECRET}


def statuses(report: LintReport, check_id: str) -> list[tuple[str, str]]:
    return [(f.status, f.message) for f in report.findings if f.check.id == check_id]


def only(report: LintReport, check_id: str) -> set[str]:
    return {status for status, _ in statuses(report, check_id)}


def assess(hub: DockerHubStandIn, level: str = "L2") -> LintReport:
    return assess_dockerhub(ORG, level=level, api_url=hub.url, environ=ENV)


def test_mix_of_pass_fail_manual(hub: DockerHubStandIn) -> None:
    report = assess(hub)
    assert only(report, "HG-PD001") == {"manual"}  # 2FA: not in the API
    assert only(report, "HG-PD002") == {"manual"}  # SSO
    assert only(report, "HG-PD011") == {"pass"}
    # four owners, two of them only on later pages (next links followed)
    assert statuses(report, "HG-PD003") == [
        ("fail", "4 owner(s) of 6 member(s): alice, bob, dave, frank")]
    never = {m for s, m in statuses(report, "HG-PD005") if s == "fail"}
    assert len(never) == 2 and any("pat-1" in m for m in never) \
        and any("oat-2" in m for m in never)  # oat-2's resources came from its detail
    unused = " ".join(m for s, m in statuses(report, "HG-PD006") if s == "fail")
    assert "pat-2) was never used" in unused and "oat-2) last used 150 days" in unused
    # ci-pull has repo:write (label says pull); release-push is used by bob, who pushes
    assert [m for s, m in statuses(report, "HG-PD007") if s == "fail"] == [
        "personal token ci-pull (pat-1) has repo:write but its label says it pulls"]
    rotation = " ".join(m for s, m in statuses(report, "HG-PD008") if s == "fail")
    assert "pat-1) is 40 days old; write tokens rotate every 30" in rotation
    assert "oat-2) is 200 days old; pull-only tokens rotate every 90" in rotation
    assert "release-push" not in rotation and "prod-pull" not in rotation
    assert statuses(report, "HG-PD009") == [("fail", f"{ORG}/web is public")]
    assert sorted(statuses(report, "HG-PD010"))[0][0] == "fail"
    assert {s for s, _ in statuses(report, "HG-PD010")} == {"pass", "fail", "manual"}


def test_push_burst_needs_a_sliding_window(hub: DockerHubStandIn) -> None:
    burst = statuses(assess(hub), "HG-PD012")
    assert len(burst) == 1 and burst[0][0] == "fail"
    assert burst[0][1].startswith(f"bob pushed 12 times to {ORG}/api within one hour")


def test_busiest_hour_is_sliding() -> None:
    import datetime as dt

    base = dt.datetime(2026, 1, 1, 10, 35, tzinfo=dt.UTC)
    times = [base + dt.timedelta(minutes=5 * i) for i in range(11)]
    assert dockerhub.busiest_hour(times)[0] == 11  # 10:35..11:25, split 5/6 by clock hours
    assert dockerhub.busiest_hour([*times, base + dt.timedelta(hours=1)])[0] == 11


def test_level_l1_enforces_fewer_checks(hub: DockerHubStandIn) -> None:
    ids = {f.check.id for f in assess(hub, "L1").findings}
    assert "HG-PD012" not in ids and "HG-PD001" in ids and "HG-PD005" in ids
    assert "HG-PD013" in {f.check.id for f in assess(hub, "L3").findings}


def test_token_is_never_sent_beyond_login_or_printed(hub: DockerHubStandIn) -> None:
    from hullguard.harden.posture.report import FORMATS, render

    report = assess(hub, "L3")
    for fmt in FORMATS:
        assert SECRET not in render(report, fmt)
    for request in hub.requests:
        assert SECRET not in request.path and SECRET not in str(request.headers)
    assert hub.requests[0].path == "/v2/auth/token"


def test_rate_limit_is_waited_out(hub: DockerHubStandIn) -> None:
    hub.throttle["/v2/access-tokens"] = (1, "1")
    started = time.monotonic()
    report = assess(hub)
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert "fail" in only(report, "HG-PD005")
    assert sum(r.path.startswith("/v2/access-tokens") for r in hub.requests) == 3  # 429 + 2


def test_long_retry_after_is_not_waited(hub: DockerHubStandIn) -> None:
    hub.throttle[f"/v2/orgs/{ORG}/members"] = (1, "3600")
    started = time.monotonic()
    with pytest.raises(RegistryError, match=r"rate limited \(429\) for 3600 s"):
        assess(hub)
    assert time.monotonic() - started < 10


def test_endless_rate_limit_gives_up(hub: DockerHubStandIn) -> None:
    hub.throttle[f"/v2/orgs/{ORG}/members"] = (99, "0")
    with pytest.raises(RegistryError, match="still rate limited"):
        assess(hub)
    assert sum(r.path.startswith(f"/v2/orgs/{ORG}/members") for r in hub.requests) \
        == http.MAX_RETRIES + 1


def test_expired_token_is_one_clear_error(hub: DockerHubStandIn) -> None:
    hub.expired = True
    with pytest.raises(AuthError, match="expired, revoked or wrong") as caught:
        assess(hub)
    assert SECRET not in str(caught.value)


def test_forbidden_endpoint_becomes_manual_never_pass(hub: DockerHubStandIn) -> None:
    hub.deny |= {f"/v2/orgs/{ORG}/members", f"/v2/auditlogs/{ORG}", "/v2/access-tokens"}
    report = assess(hub)
    for check_id in ("HG-PD003", "HG-PD011", "HG-PD012"):
        assert statuses(report, check_id) and only(report, check_id) == {"manual"}, check_id
        assert "403" in statuses(report, check_id)[0][1]
    assert "verify by hand: Admin Console" in statuses(report, "HG-PD011")[0][1]
    # personal tokens denied, organization tokens read: both said, no unqualified pass
    expiry = statuses(report, "HG-PD005")
    assert ("manual", "personal tokens could not be listed (HTTP 403: the token may not "
                      "read this); check them by hand") in expiry
    assert any(s == "fail" and "oat-2" in m for s, m in expiry)


def test_next_link_to_another_host_is_refused(hub: DockerHubStandIn) -> None:
    hub.server.routes[f"/v2/orgs/{ORG}/groups"] = lambda h: h.reply(
        200, b'{"results": [], "next": "http://127.0.0.2:9/steal"}', "application/json")
    with pytest.raises(RegistryError, match="another server"):
        assess(hub)


def test_address_policy_applies() -> None:
    with pytest.raises(AddressRefused, match="private address"):
        assess_dockerhub(ORG, api_url="https://10.11.12.13", environ=ENV)
    with pytest.raises(AddressRefused, match="link-local"):
        assess_dockerhub(ORG, api_url="https://169.254.169.254", environ=ENV)


def test_plain_http_only_on_loopback() -> None:
    from hullguard.errors import InputError

    with pytest.raises(InputError, match="clear text"):
        assess_dockerhub(ORG, api_url="http://hub.example.com", environ=ENV)


def test_answers_are_bounded(hub: DockerHubStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_BODY", 512)
    with pytest.raises(LimitExceeded, match="larger than 512 bytes"):
        assess(hub)


def test_credentials_from_docker_config(tmp_path: pytest.TempPathFactory) -> None:
    import base64
    import json
    from pathlib import Path

    folder = Path(str(tmp_path))
    auth = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    (folder / "config.json").write_text(json.dumps(
        {"auths": {"https://index.docker.io/v1/": {"auth": auth}}}))
    creds = dockerhub.credentials(ORG, {"DOCKER_CONFIG": str(folder)})
    assert (creds.username, creds.secret) == (USER, SECRET)
    (folder / "config.json").write_text(json.dumps({"credsStore": "desktop", "auths": {}}))
    with pytest.raises(AuthError, match="credential helper"):
        dockerhub.credentials(ORG, {"DOCKER_CONFIG": str(folder)})


def test_audit_log_is_read_page_by_page(hub: DockerHubStandIn,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dockerhub, "AUDIT_PAGE", 4)  # 15 events: pages of 4, 4, 4, 3
    report = assess(hub)
    assert statuses(report, "HG-PD011") == [("pass", "15 audit event(s) in 30 days")]
    assert statuses(report, "HG-PD012")[0][1].startswith("bob pushed 12 times")
    pages = [r.path for r in hub.requests if r.path.startswith(f"/v2/auditlogs/{ORG}")]
    assert len(pages) == 4 and all("page_size=4" in p for p in pages)


def test_image_access_management_from_the_org_settings(hub: DockerHubStandIn) -> None:
    """GET /v2/orgs/{org}/settings (orgSettings.restricted_images, the published schema):
    off fails, on passes, a token that may not read the settings gets a manual check."""
    assert statuses(assess(hub), "HG-PD015") == [
        ("fail", "Image Access Management is off: members may pull any public image")]
    hub.image_access = True
    assert statuses(assess(hub), "HG-PD015") == [
        ("pass", "Image Access Management is on (allowed: Official Images)")]
    hub.deny.add(f"/v2/orgs/{ORG}/settings")
    assert only(assess(hub), "HG-PD015") == {"manual"}
    assert only(assess(hub, level="L1"), "HG-PD015") == set()  # an L2 check
