"""The store keeps each image's direct base right whatever order images are indexed in
(re-parenting when a nearer base arrives later), in agreement with the in-memory index."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select

from hullguard.graph.lineage import LineageIndex
from hullguard.model.image import Digest, ImageInfo, Layer
from hullguard.store.graph import StoreGraph, images, index_images


def _info(name: str, chain: tuple[str, ...]) -> ImageInfo:
    def digest(text: str) -> Digest:
        return Digest("sha256", hashlib.sha256(text.encode()).hexdigest())

    layers = tuple(Layer(i, None, digest(d)) for i, d in enumerate(chain))
    return ImageInfo(f"registry.example/{name}:1", "registry", digest(f"m:{name}"), None,
                     layers=layers)


fleets = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=3),
    st.lists(st.sampled_from(["L1", "L2", "L3"]), min_size=1, max_size=4).map(tuple),
    min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(fleets, st.randoms(use_true_random=False))
def test_parents_agree_in_any_order(chains: dict[str, tuple[str, ...]], rnd: object) -> None:
    infos = [_info(name, chain) for name, chain in chains.items()]
    memory = LineageIndex()
    for info in infos:
        memory.add(str(info.digest), info.chain)
    order = list(infos)
    rnd.shuffle(order)  # type: ignore[attr-defined]
    engine = create_engine("sqlite://")
    for info in order:  # one at a time, as a fleet scan indexes them
        index_images(engine, [(info, None)])
    with engine.connect() as conn:
        stored = {row.id: row.parent for row in conn.execute(select(images.c.id, images.c.parent))}
    assert stored == {key: memory.direct_base(key) for key in memory.images}
    with StoreGraph(engine, sync=False) as graph:
        for key in memory.images:
            assert graph.descendants(key) == memory.descendants(key)
            assert graph.equivalents(key) == sorted(memory.equivalents(key))
    engine.dispose()
