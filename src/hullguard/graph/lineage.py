"""Base-image lineage from layer chains alone: no registry, no online service.

Image B is built on A when A's chain of layer diffIDs is a proper prefix of B's. The index keys
every image by the hash of each prefix of its chain (a trie flattened into a dict), so:

* the *direct base* of B is the longest proper prefix of B's chain that is some image's full
  chain: at most ``len(chain)`` dict lookups;
* *everything built on* A is the set of images that have A's full-chain hash among their prefix
  hashes: one dict lookup, whatever the fleet size.

Images with the same chain are the same filesystem under different manifests (retags,
re-pushes): they are *equivalent*, not bases of each other.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field


def prefix_hashes(chain: Sequence[str]) -> list[str]:
    """``h_i`` = hash of the first ``i`` diffIDs, for i = 1..len(chain) (a rolling hash, so the
    whole list costs one hash per layer)."""
    hashes, state = [], b""
    for diff_id in chain:
        state = hashlib.sha256(state + b"\n" + diff_id.encode()).digest()
        hashes.append(state.hex()[:32])
    return hashes


def chain_hash(chain: Sequence[str]) -> str:
    return prefix_hashes(chain)[-1] if chain else ""


@dataclass
class IndexedImage:
    id: str  # manifest digest (or config digest / reference when there is none)
    chain: tuple[str, ...]
    names: list[str] = field(default_factory=list)  # references it is known by
    digests: list[str] = field(default_factory=list)  # manifest, config and repo digests
    prefixes: list[str] = field(default_factory=list)

    @property
    def chain_key(self) -> str:
        return self.prefixes[-1] if self.prefixes else ""


@dataclass(frozen=True)
class Edge:
    base: str  # image id (layers) or reference name (declared)
    child: str
    via: str  # "layers" or "declared <Dockerfile>:<line>"


class LineageIndex:
    """In-memory lineage over any number of images; see the module docstring."""

    def __init__(self) -> None:
        self.images: dict[str, IndexedImage] = {}
        self._full: dict[str, list[str]] = defaultdict(list)  # chain hash -> image ids
        self._having: dict[str, set[str]] = defaultdict(set)  # prefix hash -> image ids
        self._names: dict[str, set[str]] = defaultdict(set)  # name or digest -> image ids
        self.declared: list[Edge] = []

    def add(self, image_id: str, chain: Sequence[str], names: Iterable[str] = (),
            digests: Iterable[str] = ()) -> IndexedImage:
        """Index an image (again: names and digests are merged)."""
        names, digests = [n for n in names if n], [d for d in digests if d]
        image = self.images.get(image_id)
        if image is None:
            image = IndexedImage(image_id, tuple(chain), prefixes=prefix_hashes(chain))
            self.images[image_id] = image
            if image.prefixes:
                self._full[image.chain_key].append(image_id)
            for prefix in image.prefixes:
                self._having[prefix].add(image_id)
            self._names[image_id].add(image_id)
        for name in (*names, *digests):
            self._names[name].add(image_id)
        image.names.extend(n for n in dict.fromkeys(names) if n not in image.names)
        image.digests.extend(d for d in dict.fromkeys(digests) if d not in image.digests)
        return image

    def declare(self, base: str, child: str, via: str) -> None:
        """A declared edge (Dockerfile ``FROM base`` building ``child``), by name."""
        edge = Edge(base, child, via)
        if edge not in self.declared:
            self.declared.append(edge)

    # ------------------------------------------------------------------ lookups

    def resolve(self, text: str) -> list[str]:
        """Image ids known by a name, digest (full or ``sha256:`` prefix of >= 12 hex) or id."""
        if text in self._names:
            return sorted(self._names[text])
        if text.startswith(("sha256:", "sha512:")) and len(text) >= 19:
            return sorted({i for key, ids in self._names.items() if key.startswith(text)
                           for i in ids})
        return []

    def equivalents(self, image_id: str) -> list[str]:
        image = self.images[image_id]
        return [i for i in self._full.get(image.chain_key, []) if i != image_id]

    def direct_base(self, image_id: str) -> str | None:
        """The indexed image whose chain is the longest proper prefix of this one's."""
        image = self.images[image_id]
        for prefix in reversed(image.prefixes[:-1]):
            candidates = self._full.get(prefix)
            if candidates:
                return min(candidates)  # equivalents: pick one stably
        return None

    def ancestors(self, image_id: str) -> list[str]:
        """Bases from the nearest to the root."""
        found, current = [], self.direct_base(image_id)
        while current is not None:
            found.append(current)
            current = self.direct_base(current)
        return found

    def descendants(self, image_id: str) -> set[str]:
        """Every image built on this one, transitively (a proper prefix match)."""
        image = self.images[image_id]
        if not image.prefixes:
            return set()
        return {i for i in self._having.get(image.chain_key, ())
                if len(self.images[i].chain) > len(image.chain)}

    def children_map(self, ids: Iterable[str]) -> dict[str, list[str]]:
        """base -> direct children, restricted to ``ids``."""
        children: dict[str, list[str]] = defaultdict(list)
        for image_id in ids:
            base = self.direct_base(image_id)
            if base is not None:
                children[base].append(image_id)
        return {k: sorted(v) for k, v in children.items()}

    def declared_children(self, names: Iterable[str]) -> Iterator[Edge]:
        wanted = set(names)
        return (e for e in self.declared if e.base in wanted)
