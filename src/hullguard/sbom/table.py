"""A plain-text table for people: name, version, type and the layer that added each package.

Plain text on purpose: the same bytes whether it goes to a terminal, a pipe or a file. Names
come from the image (attacker-chosen), so control characters are shown escaped.
"""

from __future__ import annotations

from hullguard.model import Package, Sbom
from hullguard.sbom import ids
from hullguard.textsafe import escape_controls

HEADERS = ("NAME", "VERSION", "TYPE", "LAYER")


def render(sbom: Sbom) -> str:
    packages = ids.unique_packages(sbom)
    rows = [HEADERS, *(_row(p) for p in packages)]
    widths = [max(len(row[col]) for row in rows) for col in range(len(HEADERS))]
    lines = [_summary(sbom, len(packages)), ""]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                     .rstrip())
    if not packages:
        lines.append("(no packages found)")
    return "\n".join(lines) + "\n"


def _summary(sbom: Sbom, count: int) -> str:
    distro = sbom.distro
    os_text = f"{distro.id} {distro.version_id}".strip() if distro else "unknown"
    return escape_controls(f"Image: {sbom.image.name}  OS: {os_text}  Packages: {count}")


def _row(package: Package) -> tuple[str, str, str, str]:
    return (escape_controls(package.name), escape_controls(package.version), package.type.value,
            short_layer(package.introduced_by))


def short_layer(diff_id: str) -> str:
    """``sha256:0123456789ab`` -> ``0123456789ab``; empty when unknown (dir:, sbom:)."""
    return escape_controls(diff_id.partition(":")[2][:12] if ":" in diff_id else diff_id[:12])


