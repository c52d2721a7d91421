"""What graph queries return, and the small interface they read from (memory or the store)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hullguard.model.inventory import ImageOccurrence, Workload


@dataclass(frozen=True)
class ImageNode:
    """One indexed image: id (manifest digest when known), names, digests, direct base."""

    id: str
    names: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    parent: str | None = None  # direct base by layers
    layers: int = 0

    @property
    def label(self) -> str:
        return self.names[0] if self.names else self.id


@dataclass(frozen=True)
class DeclaredEdge:
    """``FROM base`` in a Dockerfile: builds ``child`` (an image name, or ``dockerfile:PATH``
    when the built image has no name) and is used by ``consumer`` (a compose service key)."""

    base: str
    child: str
    via: str  # "Dockerfile path:line"
    consumer: str = ""


@dataclass(frozen=True)
class Usage:
    """A place that uses an affected image: a workload's container, a compose service, a
    Dockerfile FROM line, an image list entry. ``workload`` is None for files."""

    image: str  # the reference name it is used by
    occurrence: ImageOccurrence | None = None
    workload: Workload | None = None
    via: str = ""  # why it is included: "reference", "running digest", "declared"

    @property
    def where(self) -> str:
        if self.occurrence is not None:
            return str(self.occurrence.location)
        return self.workload.key if self.workload else ""


@dataclass(frozen=True)
class PackageHit:
    image_id: str
    name: str
    version: str
    type: str  # PackageType value (apk, deb, pypi, ...)
    purl: str = ""


@dataclass(frozen=True)
class NameSighting:
    """``name`` pointed at the image ``digest`` (its graph id) from ``first_seen`` to
    ``last_seen``: a rebuilt tag has one sighting per build."""

    name: str
    digest: str
    first_seen: datetime
    last_seen: datetime


@dataclass
class BlastRadius:
    query: str
    roots: list[str]  # image ids (or the query name itself when no image is indexed)
    nodes: dict[str, ImageNode] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)  # parent -> children
    declared: list[DeclaredEdge] = field(default_factory=list)
    usages: list[Usage] = field(default_factory=list)

    @property
    def image_count(self) -> int:
        return len(self.nodes)

    # The incident's view (respond's report, chart and findings.json): images by label.

    @property
    def root(self) -> str:
        """The label of the (first) root image, or the query when nothing is indexed."""
        node = self.nodes.get(self.roots[0]) if self.roots else None
        return node.label if node is not None else (self.roots or [self.query])[0]

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """(parent, child) labels by layers, parents sorted, children as in ``children``."""
        label = {key: node.label for key, node in self.nodes.items()}
        return tuple((label[parent], label[child]) for parent in sorted(self.children)
                     for child in self.children[parent])

    @property
    def images(self) -> tuple[str, ...]:
        """The labels of the images built on the root."""
        return tuple(sorted({child for _, child in self.edges}))

    @property
    def workloads(self) -> tuple[tuple[str, str, str], ...]:
        """(image, workload key, exposure) of every workload using an affected image."""
        return tuple(sorted({(u.image, u.workload.key, str(u.workload.exposure))
                             for u in self.usages if u.workload is not None}))

    def summary(self) -> dict[str, object]:
        return {"root": self.root, "edges": [list(e) for e in self.edges],
                "workloads": [list(w) for w in self.workloads]}


@dataclass
class WhoHas:
    query: str
    hits: dict[str, list[PackageHit]] = field(default_factory=dict)  # image id -> packages
    nodes: dict[str, ImageNode] = field(default_factory=dict)
    usages: list[Usage] = field(default_factory=list)
    skipped_versions: list[str] = field(default_factory=list)  # versions we could not order


@dataclass
class Lineage:
    query: str
    image: ImageNode
    ancestors: list[ImageNode] = field(default_factory=list)  # nearest base first
    children: list[ImageNode] = field(default_factory=list)
    descendant_count: int = 0
    declared_bases: list[DeclaredEdge] = field(default_factory=list)
    equivalents: list[ImageNode] = field(default_factory=list)
    # every digest the queried name pointed at, newest (the image shown) first
    history: list[NameSighting] = field(default_factory=list)

    @property
    def older_builds(self) -> list[NameSighting]:
        return [s for s in self.history if s.digest != self.image.id]


class GraphSource(Protocol):
    """What the queries need; :class:`~hullguard.graph.memory.MemoryGraph` and
    :class:`~hullguard.store.graph.StoreGraph` implement it."""

    def resolve(self, text: str) -> list[str]:
        """Image ids known by ``text`` (a name or digest), the newest build first."""
        ...

    def name_history(self, names: list[str]) -> list[NameSighting]:
        """Every digest the names pointed at and when, newest first (empty when the
        source keeps no times)."""
        ...

    def descendants(self, image_id: str) -> set[str]: ...

    def equivalents(self, image_id: str) -> list[str]: ...

    def nodes(self, ids: Iterable[str]) -> dict[str, ImageNode]: ...

    def declared_from(self, names: set[str]) -> list[DeclaredEdge]: ...

    def declared_to(self, names: set[str]) -> list[DeclaredEdge]: ...

    def usages(self, ids: set[str], names: set[str], digests: set[str]) -> list[Usage]:
        """Places using the images ``ids`` (by any of their names or digests) or the extra
        ``names``/``digests``; reference matches first."""
        ...

    def packages(self, name: str, type: str = "") -> list[PackageHit]: ...
