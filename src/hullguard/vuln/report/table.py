"""The readable scan table (``-f table``). The CLI escapes terminal control characters."""

from __future__ import annotations

from hullguard.model import Finding
from hullguard.vuln.scan import ScanReport

_COLUMNS = ("PACKAGE", "VERSION", "TYPE", "VULNERABILITY", "SEVERITY", "FIXED IN", "EPSS",
            "KEV")


def _row(finding: Finding) -> tuple[str, ...]:
    epss = f"{finding.epss.percentile * 100:.0f}%" if finding.epss else ""
    return (finding.package.name, finding.package.version, str(finding.package.type),
            finding.id, str(finding.severity).upper(), ", ".join(finding.fixed_versions[:3]),
            epss, "yes" if finding.kev else "")


def _format(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [min(48, max(len(r[i]) for r in rows)) for i in range(len(_COLUMNS))]
    return ["  ".join(cell[:w].ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def render(report: ScanReport) -> str:
    name = report.sbom.image.name
    if not report.findings:
        clean = "no vulnerabilities found" + (" in the checked packages" if report.uncovered
                                               or report.skipped else "")
        lines = [f"{name}: {clean}"]
    else:
        lines = [f"{name}", *_format([_COLUMNS, *(_row(f) for f in report.findings)])]
    counts: dict[str, int] = {}
    for finding in report.findings:
        counts[str(finding.severity)] = counts.get(str(finding.severity), 0) + 1
    total = ", ".join(f"{n} {level}" for level, n in counts.items())
    lines.append(f"\nTotal: {len(report.findings)}" + (f" ({total})" if total else ""))
    if report.suppressed:
        lines.append(f"Suppressed: {len(report.suppressed)} (listed in -f json)")
    if report.filtered:
        lines.append(f"Filtered out by --severity/--ignore-unfixed: {report.filtered}")
    lines += not_covered_lines(report)
    if report.unparseable:
        lines.append(f"Versions that could not be compared: {len(report.unparseable)} "
                     "(listed in -f json)")
    return "\n".join(lines) + "\n"


def not_covered_lines(report: ScanReport) -> list[str]:
    """Say what was not checked: package sources without advisory data, skipped content."""
    lines = []
    missing = report.uncovered
    if missing:
        total = sum(item.packages for item in missing)
        lines.append(f"Not covered: {total} packages NOT checked:")
        lines += [f"  {item.describe()}; fix: {item.fix}" for item in missing]
    if report.skipped:
        lines.append(f"Skipped content: {len(report.skipped)} catalog warnings, the image was "
                     "only partly read (listed in -f json)")
    return lines
