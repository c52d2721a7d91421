"""Posture reports through lint's writers (status per finding) and the Markdown/HTML writers
with scores per level and per control family."""

from __future__ import annotations

import json

from hullguard.harden.posture.registry import all_checks
from hullguard.harden.posture.report import render, scores
from hullguard.model.lint import LintFinding, LintReport


def _report() -> LintReport:
    checks = {c.id: c for c in all_checks()}
    one, two, three = checks["HG-PH002"], checks["HG-PH004"], checks["HG-PH006"]
    findings = (LintFinding(one, "harbor:x", "self_registration is true", status="fail"),
                LintFinding(two, "harbor:x", "<script>alert(1)</script>", status="pass"),
                LintFinding(three, "harbor:x", "last use unknown", status="manual"))
    return LintReport("harbor:x", "L2", findings, (one, two, three), kind="Posture")


def test_scores_per_level_and_family() -> None:
    levels, families = scores(_report())
    assert levels["L1"].text() == "50% (1 pass, 1 fail, 0 manual)"
    assert levels["L2"].text() == "n/a (0 pass, 0 fail, 1 manual)"  # manual is never a pass
    assert families["AC"].text() == "0% (0 pass, 1 fail, 1 manual)"
    assert families["IA"].text() == "100% (1 pass, 0 fail, 0 manual)"


def test_html_shows_scores_and_escapes() -> None:
    page = render(_report(), "html")
    assert "Score per level" in page and "Score per control family" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert 'class="manual">NOT CHECKED (manual)' in page
    assert "NOT CHECKED (manual): 1 check(s)</h2>" in page


def test_json_and_sarif_carry_the_status() -> None:
    doc = json.loads(render(_report(), "json"))
    assert doc["schema"] == "hullguard.posture/1"
    assert doc["summary"]["by_status"] == {"fail": 1, "manual": 1, "pass": 1}
    sarif = json.loads(render(_report(), "sarif"))
    results = sarif["runs"][0]["results"]
    assert [(r["kind"], r["level"]) for r in results] == [
        ("fail", "error"), ("pass", "none"), ("review", "none")]


def test_table_has_a_status_column() -> None:
    table = render(_report(), "table")
    assert table.startswith("Posture of harbor:x at level L2")
    assert "HG-PH002 FAIL   HIGH" in table and "HG-PH006 NOT-CHECKED(manual) " in table
    assert "\nNOT CHECKED (manual): 1 check(s) hullguard could not verify" in table


def test_markdown_names_the_location() -> None:
    checks = {c.id: c for c in all_checks()}
    finding = LintFinding(checks["HG-PR004"], "config.yml", "storage.delete.enabled is true",
                          "storage.delete", status="fail")
    text = render(LintReport("config.yml", "L2", (finding,), (checks["HG-PR004"],),
                             kind="Posture"), "markdown")
    assert "| storage.delete: storage.delete.enabled is true |" not in text  # named already
    finding = LintFinding(checks["HG-PD009"], "dockerhub:acme", "is public", "acme/web")
    text = render(LintReport("dockerhub:acme", "L2", (finding,), (checks["HG-PD009"],),
                             kind="Posture"), "markdown")
    assert "acme/web: is public" in text


def _hub_report(level: str, ids: tuple[str, ...]) -> LintReport:
    checks = {c.id: c for c in all_checks()}
    findings = (LintFinding(checks["HG-PD003"], "dockerhub:acme", "1 owner(s)", status="pass"),
                LintFinding(checks["HG-PD001"], "dockerhub:acme", "2FA is not in the API",
                            status="manual"))
    return LintReport("dockerhub:acme", level, findings, tuple(checks[i] for i in ids),
                      kind="Posture")


def test_console_only_checks_are_listed_as_not_checked_at_every_level() -> None:
    """Webhooks (L3) and team permissions (L2) cannot be read through Docker Hub's API: an L1
    report still lists them, loudly, in every format; never silently left out."""
    report = _hub_report("L1", ("HG-PD001", "HG-PD003"))
    table = render(report, "table")
    section = table[table.index("NOT CHECKED (manual): "):]
    for check_id in ("HG-PD001", "HG-PD002", "HG-PD004", "HG-PD013", "HG-PD014"):
        assert f"  {check_id} " in section
    assert "HG-PD003" not in section  # decided through the API: not in the section
    assert "Webhooks go to trusted HTTPS endpoints [L3" in section
    assert "not run: an L3 check, above --level L1" in section
    assert "verify: Each repository > Webhooks" in section
    doc = json.loads(render(report, "json"))
    assert {i["id"] for i in doc["not_checked"]} == {"HG-PD001", "HG-PD002", "HG-PD004",
                                                     "HG-PD013", "HG-PD014"}
    assert "## NOT CHECKED (manual): 5 check(s)" in render(report, "markdown")
    assert "| HG-PD001 Members use two-factor authentication | NOT CHECKED (manual) |" in \
        render(report, "markdown")


def test_harbor_report_has_no_console_only_section_when_all_decided() -> None:
    checks = {c.id: c for c in all_checks()}
    finding = LintFinding(checks["HG-PH002"], "harbor:x", "off", status="pass")
    report = LintReport("harbor:x", "L1", (finding,), (checks["HG-PH002"],), kind="Posture")
    assert "NOT CHECKED" not in render(report, "table")
    assert json.loads(render(report, "json"))["not_checked"] == []
