from __future__ import annotations

import re
from pathlib import Path

from hullguard.respond.declaration import render_declaration
from hullguard.respond.model import Incident
from hullguard.respond.report_html import render_report
from tests.support.browser import Browser


def test_declaration_has_scope_affected_systems_and_actions(incident: Incident) -> None:
    text = render_declaration(incident)
    assert text.startswith("# Incident HG-20261122-0900")
    assert "- **Severity:** SEV-1" in text
    assert "| from Docker Hub | 1 |" in text and "| from internal registries | 1 |" in text
    assert "| Production deployments | 1 |" in text
    assert "**P0** `shop-prod/Deployment/web`" in text
    assert "**not scanned** `docker.io/library/redis:7.2`" in text
    assert "- [ ] Rotate the AWS access key" in text and "AKIA****" in text
    assert "<script>" not in text  # attacker text is neutralized


def test_report_is_self_contained_and_escapes_hostile_text(incident: Incident) -> None:
    html = render_report(incident)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    # No external assets: every src is inline; links leave only to advisory pages.
    assert not re.search(r'src="(?!data:)', html)
    targets = re.findall(r'href="([^"]*)"', html)
    assert targets and all(re.match(r"#|data:|https://(nvd\.nist\.gov|github\.com/advisories"
                                    r"|osv\.dev)/", t) for t in targets)
    assert "Blast radius of docker.io/library/alpine:3.10" in html


def test_report_renders_in_headless_chromium(incident: Incident, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report(incident))
    browser = Browser()
    try:
        browser.load(page.as_uri())
        assert browser.evaluate("document.querySelectorAll('#queue tbody tr').length") == 1
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") == 2
        assert browser.evaluate("document.querySelector('#kpi-images').textContent") == "2"
        # The filter box hides non-matching findings rows.
        browser.evaluate("const f = document.getElementById('filter'); f.value = 'requests';"
                         "f.dispatchEvent(new Event('input'))")
        visible = browser.evaluate(
            "[...document.querySelectorAll('table.findings tbody tr')]"
            ".filter(r => r.style.display !== 'none').length")
        assert visible == 1
        shot = browser.screenshot(tmp_path / "report.png")
        assert shot.stat().st_size > 10_000
        assert browser.errors() == []
    finally:
        browser.close()
