"""Graph query results as a text tree, JSON, Graphviz DOT or Mermaid.

Each result is first turned into one :class:`Drawing` (nodes + labelled edges + roots); the tree,
DOT and Mermaid writers only read drawings. JSON is written from the results themselves so that
it keeps every field.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from hullguard.graph.model import BlastRadius, ImageNode, Lineage, NameSighting, Usage, WhoHas
from hullguard.model.inventory import ImageOccurrence

FORMATS = ("tree", "json", "dot", "mermaid")


@dataclass
class Drawing:
    title: str
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (label, kind)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, label)
    roots: list[str] = field(default_factory=list)

    def node(self, key: str, label: str, kind: str) -> str:
        self.nodes.setdefault(key, (_visible(label), kind))
        return key

    def edge(self, start: str, end: str, label: str = "") -> None:
        if (start, end, label) not in self.edges and start != end:
            self.edges.append((start, end, label))


def _visible(text: str) -> str:
    """Control characters (a newline in an attacker's image name) shown as escapes, so one
    label is one line in every format and cannot drive a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def short(digest: str) -> str:
    return digest[:19] if digest.startswith("sha") else digest


def seen_label(sighting: NameSighting) -> str:
    when = "%Y-%m-%d %H:%M UTC"
    return (f"seen {sighting.first_seen.astimezone(UTC):{when}} to "
            f"{sighting.last_seen.astimezone(UTC):{when}}")


def image_label(node: ImageNode) -> str:
    name = node.names[0] if node.names else "(unnamed)"
    return f"{name} ({short(node.id)})"


def usage_label(usage: Usage) -> str:
    """``Deployment shop/web container app — internet-facing via Ingress shop/web, production,
    criticality critical``; files say where they are."""
    workload = usage.workload
    text = usage.where
    if workload is not None:
        text += f" — {workload.exposure}, {workload.environment}"
        if workload.criticality.value != "unknown":
            text += f", criticality {workload.criticality}"
    occurrence = usage.occurrence
    if occurrence is not None and occurrence.running_digest:
        text += f" (running {short(occurrence.running_digest)})"
    return text


# ---------------------------------------------------------------------------- drawings


def _usage_owner(usage: Usage, nodes: dict[str, ImageNode]) -> str:
    """The image node a usage belongs to (by name, then digest); "" when none is indexed."""
    digests = {usage.occurrence.running_digest, usage.occurrence.ref.digest_text} \
        if usage.occurrence else set()
    for node in nodes.values():
        if usage.image in node.names or digests & {node.id, *node.digests}:
            return node.id
    return ""


def _name_node(drawing: Drawing, name: str, nodes: dict[str, ImageNode]) -> str:
    for node in nodes.values():
        if name in node.names:
            return node.id
    kind = "file" if name.startswith("dockerfile:") else "reference"
    return drawing.node(f"ref:{name}", name, kind)


def _add_usages(drawing: Drawing, usages: list[Usage], nodes: dict[str, ImageNode]) -> None:
    for usage in usages:
        owner = _usage_owner(usage, nodes) or _name_node(drawing, usage.image, nodes)
        kind = "workload" if usage.workload is not None else "file"
        key = drawing.node(f"use:{usage.where}:{usage.image}", usage_label(usage), kind)
        drawing.edge(owner, key, _usage_verb(usage.occurrence))


def _usage_verb(occurrence: ImageOccurrence | None) -> str:
    if occurrence is None:
        return "builds"
    return {"final": "FROM", "build": "FROM (build stage)", "copy": "COPY --from",
            "list": "listed", "init": "init container", "ephemeral": "ephemeral container"
            }.get(occurrence.role, "runs")


def blast_drawing(result: BlastRadius) -> Drawing:
    drawing = Drawing(f"blast radius of {result.query}")
    for node in result.nodes.values():
        drawing.node(node.id, image_label(node), "image")
    for parent, children in result.children.items():
        for child in children:
            drawing.edge(parent, child, "base of")
    for edge in result.declared:
        drawing.edge(_name_node(drawing, edge.base, result.nodes),
                     _name_node(drawing, edge.child, result.nodes), f"FROM ({edge.via})")
    roots = [r for r in result.roots if r in result.nodes]
    drawing.roots = roots or [_name_node(drawing, result.roots[0], result.nodes)] \
        if result.roots else []
    drawing.roots += [n.id for n in result.nodes.values()
                      if (n.parent is None or n.parent not in result.nodes)
                      and n.id not in drawing.roots]
    _add_usages(drawing, result.usages, result.nodes)
    return drawing


def who_has_drawing(result: WhoHas) -> Drawing:
    drawing = Drawing(f"who has {result.query}")
    root = drawing.node(f"pkg:{result.query}", result.query, "package")
    drawing.roots = [root]
    for image_id, hits in result.hits.items():
        node = result.nodes[image_id]
        versions = ", ".join(sorted({f"{h.name} {h.version}" for h in hits}))
        drawing.node(image_id, f"{image_label(node)}: {versions}", "image")
        drawing.edge(root, image_id, "in")
    _add_usages(drawing, result.usages, result.nodes)
    return drawing


def lineage_drawing(result: Lineage) -> Drawing:
    drawing = Drawing(f"lineage of {result.query}")
    chain = [*reversed(result.ancestors), result.image]
    for node in chain + result.children + result.equivalents:
        drawing.node(node.id, image_label(node), "image")
    for base, child in itertools.pairwise(chain):
        drawing.edge(base.id, child.id, "base of")
    for child in result.children:
        drawing.edge(result.image.id, child.id, "base of")
    for node in result.equivalents:
        drawing.edge(result.image.id, node.id, "same layers")
    drawing.roots = [chain[0].id]
    for old in result.older_builds:  # the name pointed here before the image shown
        key = drawing.node(f"old:{old.digest}", f"{short(old.digest)} ({seen_label(old)})",
                           "reference")
        drawing.edge(result.image.id, key, f"replaced build of {old.name}")
    for edge in result.declared_bases:
        base_key = drawing.node(f"ref:{edge.base}", edge.base, "reference")
        drawing.edge(base_key, result.image.id, f"FROM ({edge.via})")
        drawing.roots.append(base_key)
    return drawing


# ---------------------------------------------------------------------------- writers


def tree_text(drawing: Drawing) -> str:
    children: dict[str, list[tuple[str, str]]] = {}
    for start, end, label in drawing.edges:
        children.setdefault(start, []).append((end, label))
    lines, seen = [_visible(drawing.title)], set[str]()
    for root in drawing.roots:
        _tree_lines(root, "", "", drawing, children, seen, lines)
    if len(lines) == 1:
        lines.append("(nothing found)")
    return "\n".join(lines) + "\n"


def _tree_lines(key: str, prefix: str, edge: str, drawing: Drawing,
                children: dict[str, list[tuple[str, str]]], seen: set[str],
                lines: list[str]) -> None:
    label = drawing.nodes.get(key, (key, ""))[0]
    marker = f"[{edge}] " if edge else ""
    if key in seen:
        lines.append(f"{prefix}{marker}{label} (see above)")
        return
    seen.add(key)
    lines.append(f"{prefix}{marker}{label}")
    below = children.get(key, [])
    stem = prefix.replace("├── ", "│   ").replace("└── ", "    ")
    for index, (child, child_edge) in enumerate(below):
        branch = "└── " if index == len(below) - 1 else "├── "
        _tree_lines(child, stem + branch, child_edge, drawing, children, seen, lines)


def _ids(drawing: Drawing) -> dict[str, str]:
    return {key: f"n{index}" for index, key in enumerate(drawing.nodes)}


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


_DOT_SHAPES = {"image": "box", "workload": "ellipse", "file": "note", "package": "hexagon",
               "reference": "box"}


def dot(drawing: Drawing) -> str:
    ids = _ids(drawing)
    lines = ["digraph hullguard {", f"  label={_dot_quote(_visible(drawing.title))};",
             "  rankdir=LR;",
             '  node [fontname="Helvetica"];']
    for key, (label, kind) in drawing.nodes.items():
        style = ', style="dashed"' if kind == "reference" else ""
        lines.append(f"  {ids[key]} [label={_dot_quote(label)}, "
                     f"shape={_DOT_SHAPES.get(kind, 'box')}{style}];")
    for start, end, label in drawing.edges:
        lines.append(f"  {ids[start]} -> {ids[end]} [label={_dot_quote(label)}];")
    return "\n".join([*lines, "}"]) + "\n"


def _mermaid_text(text: str) -> str:
    """Mermaid labels are quoted; quotes and markup characters become entity codes."""
    return re.sub(r'["<>#`|]', lambda m: f"#{ord(m.group(0))};", text)


_MERMAID_SHAPES = {"workload": ('(["', '"])'), "package": ('{{"', '"}}'),
                   "file": ('[/"', '"/]')}


def mermaid(drawing: Drawing) -> str:
    ids = _ids(drawing)
    lines = ["flowchart LR", f"  %% {_mermaid_text(_visible(drawing.title))}"]
    for key, (label, kind) in drawing.nodes.items():
        left, right = _MERMAID_SHAPES.get(kind, ('["', '"]'))
        lines.append(f"  {ids[key]}{left}{_mermaid_text(label)}{right}")
    for start, end, label in drawing.edges:
        arrow = f' -- "{_mermaid_text(label)}" --> ' if label else " --> "
        lines.append(f"  {ids[start]}{arrow}{ids[end]}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- JSON


def _node_json(node: ImageNode) -> dict[str, Any]:
    return {"id": node.id, "names": list(node.names), "digests": list(node.digests),
            "base": node.parent, "layers": node.layers}


def usage_json(usage: Usage) -> dict[str, Any]:
    data: dict[str, Any] = {"image": usage.image, "where": usage.where, "matched_by": usage.via}
    occ = usage.occurrence
    if occ is not None:
        loc = occ.location
        data.update(kind=loc.kind.value, path=loc.path, line=loc.line or None,
                    namespace=loc.namespace or None, workload_kind=loc.workload_kind or None,
                    workload=loc.workload or None, container=loc.container or None,
                    role=occ.role, reference=occ.raw,
                    running_digest=occ.running_digest or None)
    if usage.workload is not None:
        w = usage.workload
        data["workload_key"] = w.key
        data["exposure"] = {"internet_facing": w.exposure.internet_facing,
                            "via": list(w.exposure.via)}
        data["environment"] = w.environment.value
        data["criticality"] = w.criticality.value
    return data


def _summary(usages: list[Usage]) -> dict[str, int]:
    workloads = {u.workload.key: u.workload for u in usages if u.workload is not None}
    return {"usages": len(usages), "workloads": len(workloads),
            "internet_facing": sum(w.exposure.internet_facing for w in workloads.values()),
            "production": sum(w.environment.value == "production" for w in workloads.values())}


def blast_json(result: BlastRadius) -> dict[str, Any]:
    return {"query": result.query, "roots": result.roots,
            "images": [_node_json(n) for n in sorted(result.nodes.values(), key=lambda n: n.id)],
            "declared": [vars(e) for e in result.declared],
            "usages": [usage_json(u) for u in result.usages],
            "summary": {"images": len(result.nodes), **_summary(result.usages)}}


def who_has_json(result: WhoHas) -> dict[str, Any]:
    return {"query": result.query,
            "images": [{**_node_json(result.nodes[i]),
                        "packages": [vars(h) for h in hits]} for i, hits in result.hits.items()],
            "usages": [usage_json(u) for u in result.usages],
            "unordered_versions": result.skipped_versions,
            "summary": {"images": len(result.hits), **_summary(result.usages)}}


def lineage_json(result: Lineage) -> dict[str, Any]:
    return {"query": result.query, "image": _node_json(result.image),
            "ancestors": [_node_json(n) for n in result.ancestors],
            "children": [_node_json(n) for n in result.children],
            "descendants": result.descendant_count,
            "equivalents": [_node_json(n) for n in result.equivalents],
            "declared_bases": [vars(e) for e in result.declared_bases],
            "older_builds": [{"name": s.name, "digest": s.digest,
                              "first_seen": s.first_seen.isoformat(),
                              "last_seen": s.last_seen.isoformat()}
                             for s in result.older_builds]}


def render(result: BlastRadius | WhoHas | Lineage, fmt: str) -> str:
    """One result in one of :data:`FORMATS`."""
    if fmt == "json":
        data = blast_json(result) if isinstance(result, BlastRadius) else \
            who_has_json(result) if isinstance(result, WhoHas) else lineage_json(result)
        return json.dumps(data, indent=2, sort_keys=False) + "\n"
    drawing = blast_drawing(result) if isinstance(result, BlastRadius) else \
        who_has_drawing(result) if isinstance(result, WhoHas) else lineage_drawing(result)
    writers = {"tree": tree_text, "dot": dot, "mermaid": mermaid}
    return writers[fmt](drawing)
