"""Scan report formats: table, native JSON, SARIF 2.1.0, CycloneDX with vulnerabilities."""

from __future__ import annotations

import importlib

from hullguard.errors import InputError
from hullguard.vuln.scan import ScanReport

# format name -> module with render(report) -> str (imported only when used)
FORMAT_MODULES = {
    "table": "hullguard.vuln.report.table",
    "json": "hullguard.vuln.report.native",
    "sarif": "hullguard.vuln.report.sarif",
    "cyclonedx-json": "hullguard.vuln.report.cdx",
}
FORMATS = tuple(FORMAT_MODULES)


def render(report: ScanReport, fmt: str) -> str:
    if fmt not in FORMAT_MODULES:
        raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}",
                         where="--format")
    text: str = importlib.import_module(FORMAT_MODULES[fmt]).render(report)
    return text
