"""Lineage use cases: base images and the blast radius of one fleet scan, and indexing
images into the store, all through the graph stage (one lineage, one blast radius:
:class:`~hullguard.graph.memory.MemoryGraph` and :func:`~hullguard.graph.queries.blast_radius`,
the same code ``hullguard graph`` runs over the store)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from hullguard.graph.memory import MemoryGraph
from hullguard.graph.model import BlastRadius
from hullguard.model.inventory import Inventory
from hullguard.model.triage import TriageItem
from hullguard.respond.model import ImageResult


def fleet_graph(results: Sequence[ImageResult], inventory: Inventory | None = None
                ) -> MemoryGraph:
    """The scanned images keyed by their inventory name (so the graph's labels are the names
    the incident shows), with their digests, over the inventory's usages."""
    graph = MemoryGraph(inventory)
    for result in results:
        if result.sbom and result.sbom.image.chain:
            image = result.sbom.image
            digests = [str(d) for d in (image.digest, image.config_digest) if d]
            graph.index.add(result.name, image.chain, [result.name], digests)
    return graph


def attach_bases(results: Sequence[ImageResult]) -> list[ImageResult]:
    """Set ``base`` on every image built on another scanned image."""
    index = fleet_graph(results).index
    bases = {name: index.direct_base(name) for name in index.images}
    return [replace(r, base=base) if (base := bases.get(r.name)) else r for r in results]


def worst_blast_radius(results: Sequence[ImageResult], inventory: Inventory,
                       queue: Sequence[TriageItem]) -> BlastRadius | None:
    """The base image whose descendants carry the most urgent work (then the most images)."""
    from hullguard.graph.queries import blast_radius

    bases = {r.base for r in results if r.base}
    if not bases:
        return None
    urgency = {item.image: 4 - item.priority.rank for item in queue}
    graph = fleet_graph(results, inventory)
    radii = [blast_radius(graph, base) for base in sorted(bases)]

    def weight(radius: BlastRadius) -> tuple[int, int]:
        images = (radius.root, *radius.images)
        return sum(urgency.get(i, 0) for i in images), len(images)

    return max(radii, key=weight)


@dataclass(frozen=True)
class Indexed:
    image: str
    layers: int
    packages: int | None  # None: layer chain only


def index_images(images: Sequence[str], store: str | None, packages: bool = True
                 ) -> Iterator[Indexed]:
    """``graph index``: add images (layer chain, names, SBOM packages) to the store's
    lineage index, one transaction per image (yielded when done) so a later failure keeps
    the earlier ones."""
    from hullguard.catalog import catalog_source  # redacted: the store never holds a secret
    from hullguard.images import open_image
    from hullguard.store.base import make_engine
    from hullguard.store.graph import index_images as store_index

    engine = make_engine(store)
    for text in images:
        with open_image(text) as source:
            sbom = catalog_source(source) if packages else None
            store_index(engine, [(source.info, sbom)])
        yield Indexed(text, len(source.info.layers),
                      None if sbom is None else len(sbom.packages))
