"""One walk of an image's layers for every visitor (the catalog, the secret scanner, ...).

A :class:`Visitor` consumes each layer's entries in tar order and sums up what it made of the
layer (``end_layer``). With a :class:`~hullguard.images.layercache.LayerCache` the engine
records what each layer contributed (every entry's header, each visitor's per-layer summary,
and the content of the files a visitor says it ``wants`` back) under the layer's verified blob
digest and the visitors' versions; a layer seen before is replayed from its record instead of
being read again (a registry blob is then not even downloaded). Replay hands the visitors the
same entry headers in the same order, so the squashed view (whiteouts, opaque directories,
rewrites in upper layers) is built exactly as by a live walk, then each visitor's summary
(``restore``): the catalog's is what every extractor found in each file of the layer, so a
replayed layer costs its headers and its results, not its files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from hullguard.errors import HullguardError, IntegrityError, LimitExceeded
from hullguard.images.api import FileInfo, FileKind, ImageSource, LayerEntry, MemoryEntry
from hullguard.images.layercache import LayerCache, LayerRecord
from hullguard.model import Layer

Progress = Callable[[str], None]
MAX_KEPT_FILE = 64 << 20  # a wanted file larger than this makes its layer uncacheable


class Visitor(Protocol):
    """A reader of every layer entry. ``key`` names the visitor and its version (a change in
    what it produces must change the key: it is part of every cache key)."""

    @property
    def key(self) -> str: ...

    def wants(self, info: FileInfo) -> bool:
        """Whether a replayed layer must give this regular file's content back (cheap): for
        a visitor that cannot sum a file up on its own (one needing several files at once)."""
        ...

    def start_layer(self, layer: Layer, replay: bool) -> None: ...

    def visit(self, entry: LayerEntry, layer: Layer) -> LayerEntry:
        """Consume one entry; return the entry the next visitor gets (content read once
        may be handed on as a :class:`MemoryEntry`)."""
        ...

    def end_layer(self, layer: Layer, warnings: list[str]) -> Any:
        """The layer is done (``warnings``: the walker's). Return this visitor's JSON-able
        summary of the layer for its record, or None when the layer must not be cached."""
        ...

    def restore(self, summary: Any, layer: Layer) -> None:
        """A replayed layer's summary, after its entries were replayed."""
        ...


def walk_layers(source: ImageSource, visitors: Sequence[Visitor], *,
                cache: LayerCache | None = None, on_progress: Progress | None = None) -> None:
    """Every layer of ``source`` once, in order, through ``visitors``."""
    keys = tuple(visitor.key for visitor in visitors)
    layers = source.info.layers
    for number, layer in enumerate(layers, start=1):
        record = cache.load(layer, keys) if cache is not None else None
        if record is not None:
            count = _replay(record, visitors, layer)
        else:
            count = _live(source, visitors, layer, cache, keys)
        if on_progress:
            digest = layer.diff_id.short if layer.diff_id else "rootfs"
            on_progress(f"layer {number}/{len(layers)} {digest}: {count} entries")


def _live(source: ImageSource, visitors: Sequence[Visitor], layer: Layer,
          cache: LayerCache | None, keys: tuple[str, ...]) -> int:
    recorder = _Recorder(visitors) if cache is not None and cache.can_key(layer) else None
    for visitor in visitors:
        visitor.start_layer(layer, False)
    count = 0
    walker = source.walk_layer(layer)
    try:
        for entry in walker:
            count += 1
            if recorder is not None:
                entry = recorder.entry(entry, getattr(walker, "where", ""))
            for visitor in visitors:
                entry = visitor.visit(entry, layer)
    finally:
        walker.close()  # an abandoned walk releases its file
    summaries = [visitor.end_layer(layer, walker.warnings) for visitor in visitors]
    if recorder is not None and cache is not None and recorder.complete and \
            not walker.warnings and all(s is not None for s in summaries):
        cache.store(layer, keys, LayerRecord(recorder.infos, recorder.contents, summaries,
                                             str(layer.diff_id or "")))
    return count


def _replay(record: LayerRecord, visitors: Sequence[Visitor], layer: Layer) -> int:
    for visitor in visitors:
        visitor.start_layer(layer, True)
    for entry in record.entries():
        for visitor in visitors:
            entry = visitor.visit(entry, layer)
    for visitor, summary in zip(visitors, record.summaries, strict=True):
        visitor.end_layer(layer, [])
        visitor.restore(summary, layer)
    return len(record.infos)


class _Recorder:
    """Keeps one live layer's entry headers and the content the visitors want."""

    def __init__(self, visitors: Sequence[Visitor]) -> None:
        self.visitors = visitors
        self.infos: list[FileInfo] = []
        self.contents: dict[int, bytes] = {}  # entry number -> content
        self.complete = True

    def entry(self, entry: LayerEntry, where: str) -> LayerEntry:
        info = entry.info
        self.infos.append(info)
        if info.kind is not FileKind.FILE or not any(v.wants(info) for v in self.visitors):
            return entry
        if info.size > MAX_KEPT_FILE:
            self.complete = False  # streamed on as today; this layer is walked every time
            return entry
        try:
            data = entry.read(MAX_KEPT_FILE)
        except IntegrityError:
            raise  # the layer itself is broken: nothing from it may be kept
        except HullguardError as error:
            self.complete = False
            return _FailedEntry(info, error)
        self.contents[len(self.infos) - 1] = data
        return _KeptEntry(info, data, where)


class _KeptEntry(MemoryEntry):
    """Content read ahead for the record; an over-limit read fails as the walker's would."""

    __slots__ = ("_where",)

    def __init__(self, info: FileInfo, data: bytes, where: str) -> None:
        super().__init__(info, data)
        self._where = where

    def read(self, limit: int) -> bytes:
        if len(self._data) > limit:
            raise LimitExceeded(f"file is {len(self._data)} bytes, over the {limit}-byte limit",
                                where=f"{self._where} {self.info.path}" if self._where
                                else self.info.path)
        return self._data


class _FailedEntry:
    """An entry whose content could not be read ahead: every read gives that error again."""

    __slots__ = ("_error", "info")

    def __init__(self, info: FileInfo, error: HullguardError) -> None:
        self.info, self._error = info, error

    def read(self, limit: int) -> bytes:
        raise self._error

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        raise self._error
