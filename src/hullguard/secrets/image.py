"""Secret scanning of an image: every regular file of every layer, then the image config.

Files that a later layer deletes (whiteout, opaque directory, parent replaced) or overwrites
are still scanned, because the blob still ships them; their findings say so and name the layer.
"""

from __future__ import annotations

from hullguard.errors import LimitExceeded
from hullguard.images.api import FileKind, ImageSource, LayerEntry, LayerWalk, MemoryEntry
from hullguard.images.tree import FileTree
from hullguard.model.image import ImageConfig, ImageInfo, Layer
from hullguard.model.secret import FileState
from hullguard.secrets.collect import Collector, Place


def file_state(tree: FileTree, path: str, layer_index: int) -> FileState:
    """What the layers above ``layer_index`` did to ``path``, from the squashed tree: gone
    (whiteout, opaque directory, parent replaced by a non-directory) or shown from a later
    layer. The parent is resolved as the tree placed the entry (through symlinks)."""
    head, _, name = path.rpartition("/")
    parent = tree.resolve(head or "/")
    canonical = f"{parent.rstrip('/')}/{name}" if parent else path
    if tree.was_deleted(canonical, layer_index):
        return FileState.DELETED
    shown = tree.visible(canonical)
    if shown is not None and shown[0] > layer_index:
        return FileState.OVERWRITTEN
    return FileState.PRESENT


def scan_layers(source: ImageSource, collector: Collector) -> None:
    tee = SecretTee(source, collector)
    tee.drain()
    tee.finish()


class _TeeWalk:
    """One layer's walk as the other reader sees it; ``warnings`` are the walker's."""

    def __init__(self, tee: SecretTee, walker: LayerWalk, layer: Layer) -> None:
        self._tee, self._walker, self._layer = tee, walker, layer
        self._place = Place(layer.index, str(layer.diff_id or ""), layer.created_by)

    def __iter__(self) -> _TeeWalk:
        return self

    def __next__(self) -> LayerEntry:
        return self._tee.observe(next(self._walker), self._layer.index, self._place)

    @property
    def warnings(self) -> list[str]:
        return self._walker.warnings

    def close(self) -> None:
        self._walker.close()


class SecretTee:
    """Scans every layer entry for secrets while another reader walks the image (``respond``
    catalogs and secret-scans in one walk): an ImageSource that wraps ``source``."""

    def __init__(self, source: ImageSource, collector: Collector) -> None:
        self._source, self.collector = source, collector
        self._tree = FileTree()  # the layers' whiteouts and overrides, for file_state
        self._walked: set[int] = set()

    @property
    def info(self) -> ImageInfo:
        return self._source.info

    def walk_layer(self, layer: Layer) -> LayerWalk:
        self._tree.start_layer(layer.index)
        self._walked.add(layer.index)
        return _TeeWalk(self, self._source.walk_layer(layer), layer)

    def observe(self, entry: LayerEntry, index: int, place: Place) -> LayerEntry:
        self._tree.apply(entry.info, index)
        if entry.info.kind is not FileKind.FILE:
            return entry
        data = _read_for_scan(entry, self.collector, place)
        return entry if data is None else MemoryEntry(entry.info, data)

    def drain(self) -> None:
        """Walk, for secrets only, the layers the other reader did not (all of them when its
        result came from elsewhere, e.g. an SBOM stored for this digest)."""
        if self._walked:
            return
        for layer in self.info.layers:
            walk = self.walk_layer(layer)
            try:
                for _ in walk:
                    pass
            finally:
                walk.close()

    def finish(self) -> None:
        """Mark findings in files that later layers deleted or overwrote."""
        self.collector.restate(lambda path, index: file_state(self._tree, path, index))

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> SecretTee:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_for_scan(entry: LayerEntry, collector: Collector, place: Place) -> bytes | None:
    """The file's content after scanning it, or None when it was skipped (too large)."""
    info = entry.info
    cap = collector.limits.max_file_size
    if info.size > cap:
        collector.skip(info.path, f"larger than {cap} bytes", info.size, place)
        return None
    try:
        data = entry.read(cap)
    except LimitExceeded:
        collector.skip(info.path, f"larger than {cap} bytes", info.size, place)
        return None
    collector.scan_file(data, info.path, place)
    return data


def scan_config(config: ImageConfig, layers: tuple[Layer, ...], collector: Collector) -> None:
    """Env, Labels, Entrypoint/Cmd, Healthcheck and every history ``created_by``."""
    place = Place(state=FileState.CONFIG)
    for index, item in enumerate(config.env):
        collector.scan_text(item.encode(), f"config:Env[{index}]", place, config=True)
    for key, value in config.labels:
        collector.scan_text(f"{key}={value}".encode(), f"config:Labels[{key}]", place,
                            config=True)
    for name, argv in (("Entrypoint", config.entrypoint), ("Cmd", config.cmd),
                       ("Healthcheck", config.healthcheck)):
        if argv:
            collector.scan_text(" ".join(argv).encode(), f"config:{name}", place, config=True)
    _scan_history(config, layers, collector)


def _scan_history(config: ImageConfig, layers: tuple[Layer, ...], collector: Collector) -> None:
    by_command = {layer.created_by: layer for layer in layers if layer.created_by}
    for index, entry in enumerate(config.history):
        layer = by_command.get(entry.created_by)
        place = Place(layer.index if layer else -1,
                      str(layer.diff_id or "") if layer else "", entry.created_by,
                      FileState.CONFIG)
        collector.scan_text(entry.created_by.encode(), f"config:history[{index}]", place,
                            config=True)
