"""The incident's "not covered" reporting and the report fixes: an uncovered Debian image in a
dev workload (P3) next to the P0 web image, findings of unknown severity, EPSS/KEV data, a
multi-line error message and content the catalog skipped."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from hullguard.model import (
    Distro,
    Epss,
    Finding,
    ImageInfo,
    Kev,
    Package,
    PackageType,
    Sbom,
    Severity,
)
from hullguard.model.inventory import (
    Criticality,
    Environment,
    ImageOccurrence,
    InventoryImage,
    Origin,
    SourceKind,
    SourceLocation,
    Workload,
)
from hullguard.model.problem import Problem
from hullguard.model.reference import ImageReference
from hullguard.respond.coverage import attach_coverage
from hullguard.respond.declaration import render_declaration
from hullguard.respond.model import Incident
from hullguard.respond.report_html import render_report
from hullguard.respond.writer import render_findings_json
from hullguard.triage import triage
from tests.support.browser import Browser
from tests.vuln.feeds import scan_db

TOOLS = "docker.io/library/aaa-tools:1"
TOOLS_REF = ImageReference("docker.io", "library/aaa-tools", "1")
SKIPPED = "/var/lib/dpkg/status: truncated\nat byte 4096"


def _tools_findings(tool: Package) -> tuple[Finding, ...]:
    kev = Kev("2024-02-01", "2024-02-22", False)
    return (Finding("CVE-2019-14697", (), tool, Severity.CRITICAL, summary="musl x87 overflow",
                    epss=Epss(0.42, 0.97, "2024-05-01"), kev=kev),
            Finding("GHSA-aaaa-bbbb-cccc", (), tool, Severity.UNKNOWN),
            Finding("PYSEC-2024-1", (), tool, Severity.UNKNOWN))


@pytest.fixture
def wide(incident: Incident, tmp_path: Path) -> Incident:
    """The shared incident plus a P3 Debian 12 tools image that the database (PyPI and
    Alpine v3.18 only) cannot check, and a not-scanned image whose error has a line break."""
    tool = Package("httpie", "1.0", PackageType.PYTHON, "pkg:pypi/httpie@1.0")
    debs = tuple(Package(f"lib{n}", "1.0-1", PackageType.DEB, f"pkg:deb/debian/lib{n}@1.0-1")
                 for n in range(3))
    sbom = Sbom(ImageInfo(TOOLS, "docker-archive"), Distro("debian", "12", "bookworm"),
                (*debs, tool), warnings=(SKIPPED,))
    findings = _tools_findings(tool)
    dev = Workload("tools-dev", "Deployment", "tools", environment=Environment.DEVELOPMENT,
                   criticality=Criticality.LOW)
    loc = SourceLocation(SourceKind.KUBERNETES, "k8s/tools.yaml", 1, "tools-dev",
                         "Deployment", "tools", "tools")
    inventory = dataclasses.replace(
        incident.inventory, workloads=(*incident.inventory.workloads, dev),
        images=(*incident.inventory.images, InventoryImage(
            TOOLS_REF, Origin.DOCKER_HUB, (ImageOccurrence(TOOLS_REF, TOOLS, loc),))))
    web, redis = incident.images
    redis = dataclasses.replace(redis, problem=Problem(
        "RegistryError", message="registry unreachable:\nconnection refused"))
    images = (web, redis, dataclasses.replace(web, name=TOOLS, sbom=sbom, findings=findings,
                                              secrets=(), base=""))
    images = tuple(attach_coverage(images, str(scan_db(tmp_path))))
    web_workload = incident.inventory.workloads[0]
    queue = triage({web.name: web.findings, TOOLS: findings},
                   {web.name: [web_workload], TOOLS: [dev]}, incident.declared_at)
    return dataclasses.replace(incident, inventory=inventory, images=images,
                               triage=tuple(queue))


def test_priorities_of_the_fixture(wide: Incident) -> None:
    ranks = {item.image: str(item.priority) for item in wide.triage}
    assert ranks == {"registry.shop.internal/shop/web:1.4.2": "P0", TOOLS: "P3"}


def test_findings_json_says_what_was_not_checked(wide: Incident) -> None:
    doc = json.loads(render_findings_json(wide))
    tools = next(i for i in doc["images"] if i["name"] == TOOLS)
    assert [(c["source"], c["packages"], c["covered"]) for c in tools["coverage"]] == [
        ("PyPI", 1, True), ("debian 12", 3, False)]
    assert tools["skipped"] == [SKIPPED]
    assert doc["not_covered"]["images"] == [TOOLS]
    assert doc["not_covered"]["workloads"] == ["tools-dev/Deployment/tools"]
    assert doc["not_covered"]["packages"] == 3


def test_declaration_not_covered_and_one_line_errors(wide: Incident) -> None:
    text = render_declaration(wide)
    section = text.split("## Not covered", 1)[1].split("\n## ", 1)[0]
    assert "1 images (3 packages) running in 1 workloads were NOT fully checked" in section
    assert "debian 12 (3 packages)" in section and "tools-dev/Deployment/tools" in section
    assert "hullguard db update" in section and "truncated at byte 4096" in section
    assert "**partly checked** `docker.io/library/aaa-tools:1`" in text
    assert "| Images not fully checked (see Not covered) | 1 |" in text
    assert "| Workloads running them | 1 |" in text
    assert "were scanned, 1 of them not fully checked." in text
    assert "registry unreachable: connection refused" in text and "?" not in text


def test_report_in_headless_chromium(wide: Incident, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report(wide))
    browser = Browser()
    try:
        browser.load(page.as_uri())
        bars = browser.evaluate(
            "[...document.querySelector('svg.chart').querySelectorAll('rect title')]"
            ".map(t => t.textContent)")
        assert "unknown: 2" in bars and len(bars) == 6
        total = sum(int(text.split(": ")[1]) for text in bars)
        assert total == int(browser.evaluate(
            "document.getElementById('kpi-findings').textContent")) == 5
        # The most urgent image is first and open; the P3 one is collapsed.
        opened = browser.evaluate("[...document.querySelectorAll('details.image')]"
                                  ".map(d => [d.dataset.priority, d.open])")
        assert opened[0] == ["P0", True] and ["P3", False] in opened
        not_covered = browser.evaluate("document.getElementById('not-covered').textContent")
        assert TOOLS in not_covered and "tools-dev/Deployment/tools" in not_covered
        assert "hullguard db update" in not_covered
        # Ids never wrap: each renders as one line box however narrow its column.
        browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        lines = browser.evaluate("[...document.querySelectorAll('code.vid')]"
                                 ".map(c => c.getClientRects().length)")
        assert lines and set(lines) == {1}
        row = browser.evaluate(
            "[...document.querySelectorAll('table.findings tbody tr')]"
            ".find(r => r.textContent.includes('CVE-2019-14697')).textContent")
        assert "42.0%" in row and "KEV" in row and "musl x87 overflow" in row
        href = browser.evaluate("document.querySelector('td.vid a').href")
        assert href.startswith("https://nvd.nist.gov/vuln/detail/CVE-")
        assert browser.errors() == []
    finally:
        browser.close()
