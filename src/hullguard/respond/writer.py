"""Write the incident folder: declaration.md, report.html, findings.json, findings.sarif and
one CycloneDX SBOM per scanned image. Each file is written atomically."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from hullguard.fsutil import write_text_atomic
from hullguard.inventory.compose import redact
from hullguard.respond.model import ImageResult, Incident

FILES = ("declaration.md", "report.html", "findings.json", "findings.sarif")


def write_incident(incident: Incident, out: Path) -> dict[str, Path]:
    from hullguard.respond.declaration import render_declaration
    from hullguard.respond.report_html import render_report

    written = {"declaration.md": render_declaration(incident),
               "report.html": render_report(incident),
               "findings.json": render_findings_json(incident),
               "findings.sarif": render_sarif(incident)}
    paths = {}
    for name, text in written.items():
        write_text_atomic(out / name, redact(text))  # no --env values in reports
        paths[name] = out / name
    for image in incident.images:
        if image.sbom is not None:
            paths[image.name] = _write_sbom(image, out / "sboms")
    return paths


def sbom_file_name(name: str) -> str:
    """A safe file name for an image reference (no separators, no leading dots)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", redact(name)).lstrip("._")[:180] + ".cdx.json"


def _write_sbom(image: ImageResult, folder: Path) -> Path:
    from hullguard.sbom import render

    assert image.sbom is not None
    path = folder / sbom_file_name(image.name)
    write_text_atomic(path, redact(render(image.sbom, "cyclonedx-json")))
    return path


def _plain(value: Any) -> Any:
    """Dataclasses, enums and tuples to JSON-ready values (enums by their value)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, Enum):
        return value.value if not isinstance(value.value, int) else value.name.lower()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def render_findings_json(incident: Incident) -> str:
    from hullguard.respond.coverage import not_covered_summary
    from hullguard.vuln.coverage import coverage_dict
    from hullguard.vuln.report.native import finding_dict

    images = []
    for image in incident.images:
        findings = [finding_dict(f, image.sbom) for f in image.findings] if image.sbom else []
        images.append({"name": image.name, "source": image.source, "origin": image.origin.value,
                       "scanned": image.scanned, "error": image.error, "digest": image.digest,
                       "base": image.base, "reused": image.reused,
                       "packages": len(image.sbom.packages) if image.sbom else 0,
                       "findings": findings,  # the same schema as `scan -f json`
                       "coverage": [coverage_dict(c) for c in image.coverage],
                       "skipped": image.skipped,  # content the catalog could not read
                       "secrets": _plain(list(image.secrets))})
    doc = {"schema_version": 1, "incident": incident.id,
           "declared_at": incident.declared_at.isoformat(), "severity": incident.severity,
           "database": incident.database, "inputs": list(incident.inputs),
           "priority_queue": _plain(list(incident.triage)), "images": images,
           "workloads": _plain(list(incident.inventory.workloads)),
           "blast_radius": _plain(incident.blast), "warnings": list(incident.warnings),
           "not_covered": not_covered_summary(incident),
           "inventory_issues": [str(i) for i in incident.inventory.issues]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_sarif(incident: Incident) -> str:
    """All findings of the fleet as one SARIF 2.1.0 log: one run per scanned image."""
    from hullguard.vuln.report import sarif
    from hullguard.vuln.scan import ScanReport

    runs = [sarif.to_dict(ScanReport(image.sbom, image.findings,
                                     coverage=image.coverage))["runs"][0]
            for image in incident.images if image.sbom is not None]
    doc = {"$schema": sarif.SCHEMA_URI, "version": "2.1.0", "runs": runs}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
