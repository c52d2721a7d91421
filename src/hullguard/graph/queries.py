"""The three graph queries, written once against :class:`GraphSource` (memory or store)."""

from __future__ import annotations

import contextlib
from collections import defaultdict

from hullguard.errors import HullguardError, NotFoundError
from hullguard.graph.model import (
    BlastRadius,
    DeclaredEdge,
    GraphSource,
    ImageNode,
    Lineage,
    PackageHit,
    Usage,
    WhoHas,
)
from hullguard.graph.packages import matches, parse_query

MAX_DECLARED_ROUNDS = 64  # declared edges could form a cycle in hostile input


def query_names(text: str) -> list[str]:
    """The query as given plus its normalized reference name (``alpine:3.18`` ->
    ``docker.io/library/alpine:3.18``)."""
    from hullguard.inventory.references import normalize

    names = [text.strip()]
    with contextlib.suppress(HullguardError):
        names.append(normalize(text.strip()).key)
    return list(dict.fromkeys(names))


def _resolve(source: GraphSource, text: str) -> list[str]:
    return _resolve_name(source, text)[1]


def _resolve_name(source: GraphSource, text: str) -> tuple[str, list[str]]:
    """(the form of the query that matched, its image ids newest build first)."""
    for name in query_names(text):
        found = source.resolve(name)
        if found:
            return name, found
    return text, []


def _expand(source: GraphSource, ids: set[str]) -> set[str]:
    """``ids`` plus everything built on them and every equivalent (same chain)."""
    affected = set(ids)
    for image_id in ids:
        affected |= source.descendants(image_id)
        affected.update(source.equivalents(image_id))
    return affected


def blast_radius(source: GraphSource, query: str) -> BlastRadius:
    """Everything built on the image (by layers, then by declared Dockerfile FROMs,
    transitively) and every place that uses any of it."""
    roots = _resolve(source, query)
    result = BlastRadius(query, roots or query_names(query)[-1:])
    affected = _expand(source, set(roots))
    nodes = source.nodes(affected)
    names = {n for node in nodes.values() for n in node.names} or set(query_names(query))
    names.update(query_names(query) if not roots else ())
    _follow_declared(source, result, names, affected, nodes)
    result.nodes = nodes
    result.children = _children(nodes)
    known = {n for node in nodes.values() for n in node.names}
    digests = {q for q in query_names(query) if q.startswith("sha")}
    result.usages = _sorted_usages(source.usages(set(nodes), names - known, digests))
    return result


def _follow_declared(source: GraphSource, result: BlastRadius, names: set[str],
                     affected: set[str], nodes: dict[str, ImageNode]) -> None:
    frontier = set(names)
    for _ in range(MAX_DECLARED_ROUNDS):
        new_names: set[str] = set()
        for edge in source.declared_from(frontier):
            if edge in result.declared:
                continue
            result.declared.append(edge)
            for image_id in _expand(source, set(source.resolve(edge.child))) - affected:
                affected.add(image_id)
                new_names.update(source.nodes([image_id])[image_id].names)
            new_names.add(edge.child)
        new_names -= names
        if not new_names:
            break
        names |= new_names
        frontier = new_names
    nodes.update(source.nodes(affected - nodes.keys()))


def _children(nodes: dict[str, ImageNode]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        if node.parent is not None and node.parent in nodes:
            children[node.parent].append(node.id)
    return {k: sorted(v, key=lambda i: nodes[i].label) for k, v in children.items()}


def _sorted_usages(usages: list[Usage]) -> list[Usage]:
    unique: dict[tuple[str, str], Usage] = {}
    for usage in usages:  # one entry per place; a reference match wins over a digest match
        unique.setdefault((usage.image, usage.where), usage)
    ordered = sorted(unique.items(), key=lambda item: (item[1].workload is None, item[0][1],
                                                       item[0][0]))
    return [usage for _, usage in ordered]


def who_has(source: GraphSource, text: str) -> WhoHas:
    """Every image whose stored SBOM has the package (in the range), and where they run."""
    query = parse_query(text)
    result = WhoHas(str(query))
    unordered: set[str] = set()
    hits: dict[str, list[PackageHit]] = defaultdict(list)
    verdicts: dict[tuple[str, str], bool | None] = {}
    for hit in source.packages(query.key, query.type):
        key = (hit.type, hit.version)
        if key not in verdicts:  # a fleet has few distinct versions of one package
            verdicts[key] = matches(query, hit.type, hit.version)
        verdict = verdicts[key]
        if verdict is None:
            unordered.add(f"{hit.type}:{hit.name}@{hit.version}")
        elif verdict:
            hits[hit.image_id].append(hit)
    result.hits = dict(sorted(hits.items()))
    result.skipped_versions = sorted(unordered)
    result.nodes = source.nodes(hits.keys())
    result.usages = _sorted_usages(source.usages(set(hits), set(), set())) if hits else []
    return result


def lineage(source: GraphSource, query: str) -> Lineage:
    """Bases (nearest first), direct children, declared bases of one image."""
    name, ids = _resolve_name(source, query)
    if not ids:
        raise NotFoundError(f"no indexed image is known as {query!r}", where="graph lineage",
                            hint="index images first (sbom/scan with --store), or give a digest")
    image = source.nodes([ids[0]])[ids[0]]
    ancestors: list[ImageNode] = []
    current = image.parent
    while current is not None and len(ancestors) < 10_000:
        node = source.nodes([current])[current]
        ancestors.append(node)
        current = node.parent
    below = source.descendants(image.id)
    below_nodes = source.nodes(below)
    children = sorted((n for n in below_nodes.values() if n.parent == image.id),
                      key=lambda n: n.label)
    equivalents = list(source.nodes(source.equivalents(image.id)).values())
    declared: list[DeclaredEdge] = source.declared_to(set(image.names))
    history = [] if name.startswith(("sha256:", "sha512:")) else source.name_history([name])
    return Lineage(query, image, ancestors, children, len(below), declared, equivalents,
                   history)
