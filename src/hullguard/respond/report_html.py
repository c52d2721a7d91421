"""``report.html``: one self-contained page (inline CSS and SVG, no external assets)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from hullguard.model import Finding, Sbom, Severity
from hullguard.model.triage import Priority
from hullguard.respond.charts import bar_chart, blast_graph
from hullguard.respond.coverage import not_covered_summary
from hullguard.respond.model import ImageResult, Incident

TEMPLATES = Path(__file__).parent / "templates"
# Where a reader can look an id up (the DB keeps no per-record URLs for every feed).
_LINKS = (("CVE-", "https://nvd.nist.gov/vuln/detail/{}"),
          ("GHSA-", "https://github.com/advisories/{}"))
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW,
                  Severity.NEGLIGIBLE, Severity.UNKNOWN)


@lru_cache(maxsize=1)
def _template() -> Any:
    import jinja2

    # Autoescape everything: package names, paths and advisory text are attacker-controlled.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    return env.get_template("report.html")


def render_report(incident: Incident) -> str:
    severities = incident.severity_counts()
    priorities = incident.priority_counts()
    ranks = _priority_ranks(incident)
    images = sorted(incident.images, key=lambda image: _image_order(image, ranks))
    return str(_template().render(
        incident=incident,
        declared=incident.declared_at.strftime("%Y-%m-%d %H:%M UTC"),
        scanned=sum(1 for i in incident.images if i.scanned),
        not_scanned=[i for i in incident.images if not i.scanned],
        total_findings=sum(severities.values()),
        secrets=incident.secrets(),
        # Every level, unknown included: the bars must add up to the overview's total.
        severity_chart=bar_chart("Vulnerabilities by severity",
                                 [(str(s), severities[s]) for s in SEVERITY_ORDER]),
        priority_chart=bar_chart("Priority queue", [(str(p), priorities[p]) for p in Priority]),
        blast_svg=blast_graph(incident.blast) if incident.blast else "",
        workloads=_workload_rows(incident),
        images=[_image_view(image, ranks.get(image.name)) for image in images],
        not_covered=not_covered_summary(incident),
        partly_checked=[_unchecked_view(image) for image in incident.partly_checked()],
    ))


def _priority_ranks(incident: Incident) -> dict[str, int]:
    """The most urgent priority (0 = P0) of each image in the triage queue."""
    ranks: dict[str, int] = {}
    for item in incident.triage:
        ranks[item.image] = min(ranks.get(item.image, 9), item.priority.rank)
    return ranks


def _image_order(image: ImageResult, ranks: dict[str, int]) -> tuple[int, int, int, str]:
    """Most urgent first: priority, then the worst severity; not-scanned images last."""
    worst = max((f.severity for f in image.findings), default=Severity.UNKNOWN)
    return (0 if image.scanned else 1, ranks.get(image.name, 9), -worst, image.name)


def _unchecked_view(image: ImageResult) -> dict[str, Any]:
    return {"name": image.name, "sources": [c.describe() for c in image.uncovered],
            "skipped": image.skipped}


def _workload_rows(incident: Incident) -> list[dict[str, Any]]:
    running: dict[str, list[str]] = {}  # one pass: asking every image per workload was
    for image in incident.inventory.images:  # quadratic in the pods (10,000 pods: a minute)
        for key in image.workload_keys:
            running.setdefault(key, []).append(image.ref.key)
    rows = []
    for workload in sorted(incident.inventory.workloads, key=lambda w: w.key):
        images = running.get(workload.key, [])
        rows.append({"key": workload.key, "environment": str(workload.environment),
                     "criticality": str(workload.criticality),
                     "exposure": str(workload.exposure), "images": images})
    return rows


def _image_view(image: ImageResult, rank: int | None) -> dict[str, Any]:
    counts = Counter(str(f.severity) for f in image.findings)
    ordered = sorted(image.findings, key=lambda f: (-f.severity, f.package.name, f.id))
    distro = image.sbom.distro.pretty_name or image.sbom.distro.id \
        if image.sbom and image.sbom.distro else ""
    return {"name": image.name, "origin": str(image.origin), "scanned": image.scanned,
            "priority": f"P{rank}" if rank is not None else "",
            "uncovered": [c.describe() for c in image.uncovered], "skipped": image.skipped,
            "error": image.error, "digest": image.digest, "base": image.base,
            "packages": len(image.sbom.packages) if image.sbom else 0, "distro": distro,
            "counts": [(str(s), counts[str(s)]) for s in SEVERITY_ORDER if counts[str(s)]],
            "findings": [_finding_view(f, image.sbom) for f in ordered] if image.sbom else []}


def _finding_view(finding: Finding, sbom: Sbom) -> dict[str, Any]:
    from hullguard.vuln.report.native import layer_of

    package = finding.package
    layer = layer_of(package, sbom)
    layer_text = layer["created_by"] or layer["diff_id"][:19]
    cvss = f"CVSS {finding.cvss.score} {finding.cvss.vector}" if finding.cvss else ""
    return {"id": finding.id, "aliases": [a for a in finding.aliases if a != finding.id],
            "severity": str(finding.severity), "cvss": cvss, "kev": finding.kev is not None,
            "kev_added": finding.kev.date_added if finding.kev else "",
            "epss": (f"{finding.epss.score * 100:.1f}% (p{finding.epss.percentile * 100:.0f})"
                     if finding.epss else ""),
            "summary": finding.summary, "link": advisory_link(finding.id),
            "package": f"{package.name} ({package.type})", "version": package.version,
            "fixed": ", ".join(finding.fixed_versions), "layer": layer_text,
            "why": "; ".join(e.rule for e in finding.explanations)}


def advisory_link(vuln_id: str) -> str:
    """NVD for CVEs, GitHub for GHSAs, osv.dev for the rest (it indexes every OSV feed)."""
    from urllib.parse import quote

    for prefix, url in _LINKS:
        if vuln_id.startswith(prefix):
            return url.format(quote(vuln_id, safe=""))
    return f"https://osv.dev/vulnerability/{quote(vuln_id, safe='')}"
