"""Secret scanning of an image: every regular file of every layer, then the image config.

Files that a later layer deletes (whiteout, opaque directory, parent replaced) or overwrites
are still scanned, because the blob still ships them; their findings say so and name the layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hullguard.errors import LimitExceeded
from hullguard.images.api import FileKind, ImageSource, LayerEntry
from hullguard.model.image import ImageConfig, Layer
from hullguard.model.secret import FileState
from hullguard.secrets.collect import Collector, Place

_CONTAINERS = (FileKind.FILE, FileKind.DIR, FileKind.SYMLINK, FileKind.HARDLINK, FileKind.OTHER)


@dataclass
class Visibility:
    """Per layer: paths written, non-directories written, whiteouts and opaque directories."""

    written: list[set[str]] = field(default_factory=list)
    nondirs: list[set[str]] = field(default_factory=list)
    removed: list[set[str]] = field(default_factory=list)
    opaque: list[set[str]] = field(default_factory=list)

    def new_layer(self) -> None:
        for table in (self.written, self.nondirs, self.removed, self.opaque):
            table.append(set())

    def record(self, kind: FileKind, path: str) -> None:
        if kind is FileKind.WHITEOUT:
            self.removed[-1].add(path)
        elif kind is FileKind.OPAQUE:
            self.opaque[-1].add(path)
        elif kind in _CONTAINERS:
            self.written[-1].add(path)
            if kind is not FileKind.DIR:
                self.nondirs[-1].add(path)

    def state(self, path: str, layer_index: int) -> FileState:
        """What the layers above ``layer_index`` did to ``path`` (first change wins)."""
        ancestors = _ancestors(path)
        for upper in range(layer_index + 1, len(self.written)):
            if path in self.removed[upper] or any(
                    a in self.removed[upper] or a in self.opaque[upper]
                    or a in self.nondirs[upper] for a in ancestors):
                return FileState.DELETED
            if path in self.written[upper]:
                return FileState.OVERWRITTEN
        return FileState.PRESENT


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def scan_layers(source: ImageSource, collector: Collector) -> None:
    visibility = Visibility()
    places: set[tuple[str, int]] = set()
    for layer in source.info.layers:
        visibility.new_layer()
        place = Place(layer.index, str(layer.diff_id or ""), layer.created_by)
        for entry in source.walk_layer(layer):
            visibility.record(entry.info.kind, entry.info.path)
            if entry.info.kind is FileKind.FILE and _scan_entry(entry, collector, place):
                places.add((entry.info.path, layer.index))
    collector.restate({key: visibility.state(*key) for key in places})


def _scan_entry(entry: LayerEntry, collector: Collector, place: Place) -> bool:
    info = entry.info
    cap = collector.limits.max_file_size
    if info.size > cap:
        collector.skip(info.path, f"larger than {cap} bytes", info.size, place)
        return False
    try:
        data = entry.read(cap)
    except LimitExceeded:
        collector.skip(info.path, f"larger than {cap} bytes", info.size, place)
        return False
    collector.scan_file(data, info.path, place)
    return True


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
