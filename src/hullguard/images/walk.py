"""One walk of an image's layers for every visitor (the catalog, the secret scanner, ...).

A :class:`Visitor` consumes each layer's entries in tar order and sums up what it made of the
layer (``end_layer``: its per-layer results, JSON-able). With a
:class:`~hullguard.images.layercache.LayerCache` the engine records what each layer
contributed (every entry's header and each visitor's summary) under the layer's verified blob
digest and the visitors' versions; a layer seen before is replayed from its record instead of
being read again (a registry blob is then not even downloaded). Replay hands each visitor the
layer's entry headers in tar order, so the squashed view (whiteouts, opaque directories,
rewrites in upper layers) is built exactly as by a live walk, and then its summary: the
catalog's is what every extractor found in each file of the layer, the secret scanner's its
matches. A visitor must sum a layer up from that layer alone (each extractor reads one file at
a time); a replayed layer then costs its headers and its results, never its files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from hullguard.images.api import ImageSource, LayerEntry
from hullguard.images.layercache import LayerCache, LayerRecord
from hullguard.images.tree import Header, header_of
from hullguard.model import Layer

Progress = Callable[[str], None]


class Visitor(Protocol):
    """A reader of every layer entry. ``key`` names the visitor and its version (a change in
    what it produces must change the key: it is part of every cache key)."""

    @property
    def key(self) -> str: ...

    def start_layer(self, layer: Layer) -> None: ...

    def visit(self, entry: LayerEntry, layer: Layer) -> LayerEntry:
        """Consume one entry; return the entry the next visitor gets (content read once
        may be handed on as a :class:`MemoryEntry`)."""
        ...

    def end_layer(self, layer: Layer, warnings: list[str]) -> Any:
        """The layer is done (``warnings``: the walker's). Return this visitor's JSON-able
        summary of the layer for its record, or None when the layer must not be cached."""
        ...

    def replay(self, headers: Sequence[Header], summary: Any, layer: Layer) -> None:
        """A recorded layer instead of ``start_layer``, ``visit`` and ``end_layer``: its
        entries' headers in tar order and this visitor's summary of it."""
        ...


def walk_layers(source: ImageSource, visitors: Sequence[Visitor], *,
                cache: LayerCache | None = None, on_progress: Progress | None = None) -> None:
    """Every layer of ``source`` once, in order, through ``visitors``."""
    keys = tuple(visitor.key for visitor in visitors)
    layers = source.info.layers
    for number, layer in enumerate(layers, start=1):
        record = cache.load(layer, keys) if cache is not None else None
        if record is not None:
            for visitor, summary in zip(visitors, record.summaries, strict=True):
                visitor.replay(record.headers, summary, layer)
            count = len(record.headers)
        else:
            count = _live(source, visitors, layer, cache, keys)
        if on_progress:
            digest = layer.diff_id.short if layer.diff_id else "rootfs"
            on_progress(f"layer {number}/{len(layers)} {digest}: {count} entries")


def _live(source: ImageSource, visitors: Sequence[Visitor], layer: Layer,
          cache: LayerCache | None, keys: tuple[str, ...]) -> int:
    headers: list[Header] | None = [] if cache is not None and cache.can_key(layer) else None
    for visitor in visitors:
        visitor.start_layer(layer)
    count = 0
    walker = source.walk_layer(layer)
    try:
        for entry in walker:
            count += 1
            if headers is not None:
                headers.append(header_of(entry.info))
            for visitor in visitors:
                entry = visitor.visit(entry, layer)
    finally:
        walker.close()  # an abandoned walk releases its file
    summaries = [visitor.end_layer(layer, walker.warnings) for visitor in visitors]
    if headers is not None and cache is not None and not walker.warnings and \
            all(s is not None for s in summaries):
        cache.store(layer, keys, LayerRecord(headers, summaries, str(layer.diff_id or "")))
    return count
