"""Inline SVG charts for the report: no external assets, no JavaScript needed to draw them."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from hullguard.graph.model import BlastRadius

COLORS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#2563eb",
          "negligible": "#64748b", "unknown": "#94a3b8",
          "P0": "#7f1d1d", "P1": "#dc2626", "P2": "#f59e0b", "P3": "#2563eb"}


def bar_chart(title: str, values: Sequence[tuple[str, int]], width: int = 420) -> str:
    """Horizontal bars, one per (label, value), labelled with their values."""
    row, label_width = 28, 90
    height = row * len(values) + 34
    peak = max((v for _, v in values), default=0) or 1
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">',
             f'<text x="0" y="16" class="chart-title">{escape(title)}</text>']
    for index, (label, value) in enumerate(values):
        y = 28 + index * row
        bar = int((width - label_width - 50) * value / peak)
        color = COLORS.get(label, "#475569")
        parts.append(f'<text x="0" y="{y + 15}">{escape(label)}</text>'
                     f'<rect x="{label_width}" y="{y}" width="{bar}" height="20" rx="3" '
                     f'fill="{color}"><title>{escape(label)}: {value}</title></rect>'
                     f'<text x="{label_width + bar + 6}" y="{y + 15}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def blast_graph(blast: BlastRadius, width: int = 900) -> str:
    """The base image, the images built on it and the workloads running them, in columns."""
    columns = _columns(blast)
    row = 34
    height = max(len(c) for c in columns) * row + 30
    x_step = width // len(columns)
    positions = {name: (col * x_step + 8, 20 + i * row)
                 for col, names in enumerate(columns) for i, name in enumerate(names)}
    parts = [f'<svg class="blast" role="img" aria-label="blast radius of {escape(blast.root)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    links = list(blast.edges) + [(image, f"wl:{key}") for image, key, _ in blast.workloads]
    for parent, child in links:
        if parent in positions and child in positions:
            (x1, y1), (x2, y2) = positions[parent], positions[child]
            parts.append(f'<line x1="{x1 + x_step - 24}" y1="{y1 + 10}" x2="{x2}" '
                         f'y2="{y2 + 10}" stroke="#94a3b8"/>')
    exposure = {f"wl:{key}": text for _, key, text in blast.workloads}
    for name, (x, y) in positions.items():
        parts.append(_node(name, x, y, x_step - 30, exposure.get(name, "")))
    parts.append("</svg>")
    return "".join(parts)


def _columns(blast: BlastRadius) -> list[list[str]]:
    columns, seen, frontier = [[blast.root]], {blast.root}, [blast.root]
    while frontier:
        nxt = sorted({c for p, c in blast.edges if p in frontier and c not in seen})
        if not nxt:
            break
        columns.append(nxt)
        seen.update(nxt)
        frontier = nxt
    workloads = sorted({f"wl:{key}" for _, key, _ in blast.workloads})
    return columns + ([workloads] if workloads else [])


def _node(name: str, x: int, y: int, width: int, exposure: str) -> str:
    internet = exposure.startswith("internet")
    fill = "#fee2e2" if internet else ("#e0f2fe" if name.startswith("wl:") else "#f1f5f9")
    label = name[3:] if name.startswith("wl:") else name
    shown = label if len(label) <= width // 7 else "…" + label[-(width // 7 - 1):]
    tip = f"{label} ({exposure})" if exposure else label
    return (f'<g><rect x="{x}" y="{y}" width="{width}" height="22" rx="4" fill="{fill}" '
            f'stroke="#475569"><title>{escape(tip)}</title></rect>'
            f'<text x="{x + 6}" y="{y + 15}">{escape(shown)}</text></g>')
