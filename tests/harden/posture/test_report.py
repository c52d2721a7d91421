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
    assert 'class="manual">MANUAL' in page


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
    assert "HG-PH002 FAIL   HIGH" in table and "HG-PH006 MANUAL" in table


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
