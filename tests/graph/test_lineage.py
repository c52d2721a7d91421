"""The lineage index against a brute-force definition, on synthetic and real chains."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hullguard.graph.lineage import LineageIndex, prefix_hashes
from tests.graph.conftest import Fleet


def _is_proper_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return 0 < len(a) < len(b) and b[: len(a)] == a


def _brute_base(chains: dict[str, tuple[str, ...]], key: str) -> str | None:
    bases = [k for k, c in chains.items() if _is_proper_prefix(c, chains[key])]
    return min(bases, key=lambda k: (-len(chains[k]), k)) if bases else None


# chains over a tiny alphabet so that prefixes are shared often
chains_strategy = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=4),
    st.lists(st.sampled_from(["L1", "L2", "L3"]), min_size=0, max_size=5).map(tuple),
    min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(chains_strategy)
def test_index_matches_brute_force(chains: dict[str, tuple[str, ...]]) -> None:
    index = LineageIndex()
    for key, chain in chains.items():
        index.add(key, chain, names=[f"name/{key}"])
    for key, chain in chains.items():
        assert index.direct_base(key) == _brute_base(chains, key)
        expected = {k for k, c in chains.items() if _is_proper_prefix(chain, c)}
        assert index.descendants(key) == expected
        same = {k for k, c in chains.items() if c == chain and k != key and chain}
        assert set(index.equivalents(key)) == same
        assert index.resolve(f"name/{key}") == [key]


def test_prefix_hashes_are_positional() -> None:
    assert prefix_hashes(["a", "b"])[0] == prefix_hashes(["a"])[0]
    assert prefix_hashes(["a", "b"])[1] != prefix_hashes(["b", "a"])[1]
    assert len(set(prefix_hashes(["x"] * 5))) == 5  # same layer repeated: distinct prefixes


def test_real_images(fleet: Fleet) -> None:
    index = LineageIndex()
    for name, (info, _) in fleet.images.items():
        index.add(fleet.id(name), info.chain, names=info.tags)
    assert index.direct_base(fleet.id("worker")) == fleet.id("app") or \
        index.direct_base(fleet.id("worker")) == fleet.id("retag")  # equivalent bases
    assert index.ancestors(fleet.id("worker"))[-1] == fleet.id("alpine318")
    assert index.direct_base(fleet.id("edge")) == fleet.id("alpine320")
    built_on_318 = index.descendants(fleet.id("alpine318"))
    assert built_on_318 == {fleet.id(n) for n in ("app", "worker", "api", "retag")}
    assert index.equivalents(fleet.id("app")) == [fleet.id("retag")]
    assert index.direct_base(fleet.id("alpine318")) is None
    assert index.resolve(fleet.id("app")[:19]) == [fleet.id("app")]  # short digest
