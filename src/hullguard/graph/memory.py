"""The graph in memory: a :class:`LineageIndex`, an inventory and SBOM package lists.

The reference the store implementation (hullguard.store.graph) must agree with in the tests;
``image_id`` and ``image_names`` are shared with the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from hullguard.errors import HullguardError
from hullguard.graph.lineage import LineageIndex
from hullguard.graph.model import DeclaredEdge, ImageNode, NameSighting, PackageHit, Usage
from hullguard.graph.packages import name_key
from hullguard.model.image import ImageInfo
from hullguard.model.inventory import ImageOccurrence, Inventory, Workload
from hullguard.model.package import Sbom


def image_id(info: ImageInfo) -> str:
    """Manifest digest, else config digest, else the reference."""
    return str(info.digest or info.config_digest or info.reference)


def image_names(info: ImageInfo) -> tuple[list[str], list[str]]:
    """(reference names, digests) an image answers to; names are normalized when possible."""
    from hullguard.inventory.references import normalize

    names, digests = [], [str(d) for d in (info.digest, info.config_digest) if d]
    for text in _name_texts(info):
        try:
            ref = normalize(text)
        except HullguardError:
            continue
        names.append(ref.key)
        if ref.digest:
            digests.append(ref.digest_text)
    if not names and info.source_kind != "registry":
        names.append(info.reference)  # kind:/absolute/path: stable whatever the cwd was
    return list(dict.fromkeys(names)), list(dict.fromkeys(digests))


def _name_texts(info: ImageInfo) -> tuple[str, ...]:
    """The texts that name an image. A local source's reference (``dir:alp-py``) is a path,
    not an image name, and an OCI ``ref.name`` of ``2.3.1`` is a tag, not ``library/2.3.1``:
    only the archive's own full names (RepoTags, ``repo:tag`` ref names) count."""
    if info.source_kind == "registry":
        return (info.reference, *info.tags, *info.repo_digests)
    return (*(t for t in info.tags if ":" in t or "/" in t), *info.repo_digests)


def declared_edges(inventory: Inventory) -> list[DeclaredEdge]:
    return [DeclaredEdge(d.base.key, d.target.key if d.target else f"dockerfile:{d.dockerfile}",
                         f"Dockerfile {d.dockerfile}:{d.line}", d.consumer)
            for d in inventory.declared_bases]


class MemoryGraph:
    """A :class:`~hullguard.graph.model.GraphSource` over in-memory data."""

    def __init__(self, inventory: Inventory | None = None) -> None:
        self.index = LineageIndex()
        self._packages: dict[str, list[PackageHit]] = defaultdict(list)
        self.set_inventory(inventory or Inventory())

    def set_inventory(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._workloads = {w.key: w for w in inventory.workloads}
        self._by_name: dict[str, list[ImageOccurrence]] = defaultdict(list)
        self._by_digest: dict[str, list[ImageOccurrence]] = defaultdict(list)
        for image in inventory.images:
            for occ in image.occurrences:
                self._by_name[occ.ref.key].append(occ)
                for digest in {occ.ref.digest_text, occ.running_digest} - {""}:
                    self._by_digest[digest].append(occ)
        self._declared = declared_edges(inventory)

    def add_image(self, info: ImageInfo, sbom: Sbom | None = None) -> str:
        names, digests = image_names(info)
        key = image_id(info)
        self.index.add(key, info.chain, names, digests)
        if sbom is not None:
            self.add_packages(key, sbom)
        return key

    def add_packages(self, key: str, sbom: Sbom) -> None:
        for package in sbom.packages:
            self._packages[name_key(package.name)].append(
                PackageHit(key, package.name, package.version, package.type.value,
                           package.purl))

    # ------------------------------------------------------------------ GraphSource

    def resolve(self, text: str) -> list[str]:
        return self.index.resolve(text)

    def name_history(self, names: list[str]) -> list[NameSighting]:
        return []  # the in-memory graph of one run keeps no times

    def descendants(self, image_id: str) -> set[str]:
        return self.index.descendants(image_id)

    def equivalents(self, image_id: str) -> list[str]:
        return self.index.equivalents(image_id)

    def nodes(self, ids: Iterable[str]) -> dict[str, ImageNode]:
        found = {}
        for key in ids:
            image = self.index.images[key]
            found[key] = ImageNode(key, tuple(image.names), tuple(image.digests),
                                   self.index.direct_base(key), len(image.chain))
        return found

    def declared_from(self, names: set[str]) -> list[DeclaredEdge]:
        return [e for e in self._declared if e.base in names]

    def declared_to(self, names: set[str]) -> list[DeclaredEdge]:
        return [e for e in self._declared if e.child in names]

    def usages(self, ids: set[str], names: set[str], digests: set[str]) -> list[Usage]:
        names, digests = set(names), set(digests)
        for key in ids:
            image = self.index.images[key]
            names.update(image.names)
            digests.update((key, *image.digests))
        found = [self._usage(o, "reference") for n in names for o in self._by_name.get(n, ())]
        found += [self._usage(o, "digest") for d in digests for o in self._by_digest.get(d, ())]
        for edge in self._declared:
            workload = self._workloads.get(edge.consumer)
            if edge.child in names and workload is not None:
                found.append(Usage(edge.child, None, workload, "declared"))
        return found

    def _usage(self, occurrence: ImageOccurrence, via: str) -> Usage:
        workload: Workload | None = self._workloads.get(occurrence.location.workload_key)
        return Usage(occurrence.ref.key, occurrence, workload, via)

    def packages(self, name: str, type: str = "") -> list[PackageHit]:
        hits = self._packages.get(name_key(name), [])
        return [h for h in hits if not type or h.type == type]
