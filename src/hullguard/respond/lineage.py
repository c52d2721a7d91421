"""Base images and the blast radius within one fleet scan (layer-chain prefixes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from hullguard.model.inventory import Workload
from hullguard.model.triage import TriageItem
from hullguard.respond.model import BlastRadius, ImageResult


def _chain(result: ImageResult) -> tuple[str, ...]:
    return result.sbom.image.chain if result.sbom else ()


def attach_bases(results: Sequence[ImageResult]) -> list[ImageResult]:
    """Set ``base`` on every image built on another scanned image: the one whose layer chain
    is the longest proper prefix of its own."""
    by_chain: dict[tuple[str, ...], str] = {}
    for result in results:
        if _chain(result):
            by_chain.setdefault(_chain(result), result.name)
    out = []
    for result in results:
        chain = _chain(result)
        base = next((by_chain[chain[:n]] for n in range(len(chain) - 1, 0, -1)
                     if chain[:n] in by_chain), "")
        out.append(replace(result, base=base) if base else result)
    return out


def blast_radius(root: str, results: Sequence[ImageResult],
                 running: Mapping[str, Sequence[Workload]]) -> BlastRadius:
    """Every image built on ``root`` (transitively) and the workloads that run them."""
    children: dict[str, list[str]] = {}
    for result in results:
        if result.base:
            children.setdefault(result.base, []).append(result.name)
    edges, frontier, seen = [], [root], {root}
    while frontier:
        parent = frontier.pop()
        for child in sorted(children.get(parent, ())):
            edges.append((parent, child))
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    workloads = [(image, w.key, str(w.exposure)) for image in sorted(seen)
                 for w in running.get(image, ())]
    return BlastRadius(root, tuple(edges), tuple(workloads))


def worst_blast_radius(results: Sequence[ImageResult], running: Mapping[str, Sequence[Workload]],
                       queue: Sequence[TriageItem]) -> BlastRadius | None:
    """The base image whose descendants carry the most urgent work (then the most images)."""
    bases = {r.base for r in results if r.base}
    if not bases:
        return None
    urgency = {item.image: 4 - item.priority.rank for item in queue}
    radii = [blast_radius(base, results, running) for base in sorted(bases)]

    def weight(radius: BlastRadius) -> tuple[int, int]:
        images = (radius.root, *radius.images)
        return sum(urgency.get(i, 0) for i in images), len(images)

    return max(radii, key=weight)
