"""Base images and the blast radius within one fleet scan, from the graph stage's
:class:`~hullguard.graph.lineage.LineageIndex` (layer-chain prefixes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hullguard.graph.lineage import LineageIndex
from hullguard.model.inventory import Workload
from hullguard.model.triage import TriageItem
from hullguard.respond.model import BlastRadius, ImageResult


def _index(results: Sequence[ImageResult]) -> LineageIndex:
    index = LineageIndex()
    for result in results:
        if result.sbom and result.sbom.image.chain:
            index.add(result.name, result.sbom.image.chain)
    return index


def attach_bases(results: Sequence[ImageResult]) -> list[ImageResult]:
    """Set ``base`` on every image built on another scanned image."""
    index = _index(results)
    bases = {name: index.direct_base(name) for name in index.images}
    return [replace(r, base=base) if (base := bases.get(r.name)) else r for r in results]


def _blast_radius(root: str, index: LineageIndex,
                  running: Mapping[str, Sequence[Workload]]) -> BlastRadius:
    """Every image built on ``root`` (transitively) and the workloads that run them."""
    built_on = index.descendants(root) if root in index.images else set()
    children = index.children_map(built_on)
    edges = tuple((parent, child) for parent in sorted(children) for child in children[parent])
    workloads = tuple((image, w.key, str(w.exposure)) for image in sorted({root, *built_on})
                      for w in running.get(image, ()))
    return BlastRadius(root, edges, workloads)


def worst_blast_radius(results: Sequence[ImageResult], running: Mapping[str, Sequence[Workload]],
                       queue: Sequence[TriageItem]) -> BlastRadius | None:
    """The base image whose descendants carry the most urgent work (then the most images)."""
    bases = {r.base for r in results if r.base}
    if not bases:
        return None
    urgency = {item.image: 4 - item.priority.rank for item in queue}
    index = _index(results)
    radii = [_blast_radius(base, index, running) for base in sorted(bases)]

    def weight(radius: BlastRadius) -> tuple[int, int]:
        images = (radius.root, *radius.images)
        return sum(urgency.get(i, 0) for i in images), len(images)

    return max(radii, key=weight)
