"""Secret scanning of an image: every regular file of every layer, then the image config.

Files that a later layer deletes (whiteout, opaque directory, parent replaced) or overwrites
are still scanned, because the blob still ships them; their findings say so and name the layer.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hullguard
from hullguard.errors import LimitExceeded
from hullguard.images.api import FileKind, ImageSource, LayerEntry, MemoryEntry
from hullguard.images.tree import FileTree, Header, header_of
from hullguard.images.walk import walk_layers
from hullguard.model.image import ImageConfig, Layer
from hullguard.model.secret import FileState, SecretLocation
from hullguard.secrets.collect import Collector, Place
from hullguard.secrets.rules import Rule


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
    visitor = SecretVisitor(collector)
    walk_layers(source, [visitor])
    visitor.finish()


@dataclass
class _LayerLog(Collector):
    """One layer's scan as a replayable log: the raw matches (before the allowlist, which the
    image's collector applies), skipped files, warnings and counters."""

    matches: list[tuple[str, bytes, str, int]] = field(default_factory=list)

    def _add(self, rule: Rule, secret: bytes, location: SecretLocation) -> None:
        self.matches.append((rule.id, secret, location.path, location.line))

    def summary(self) -> dict[str, Any]:
        return {"matches": [[rule, base64.b64encode(secret).decode(), path, line]
                            for rule, secret, path, line in self.matches],
                "skipped": [[s.path, s.reason, s.size] for s in self.skipped],
                "warnings": self.warnings, "counts": [self.files, self.size, self.binaries]}


class SecretVisitor:
    """The secret scanner as a visitor of the walk engine: every regular file of every layer
    (its per-layer matches are its summary in a layer record)."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self._rules = {rule.id: rule for rule in collector.matcher.rules}
        # every layer's entry headers, for the squashed view file_state needs: the tree is
        # built only when a finding must be restated (most images have none; replayed layers
        # then cost no tree at all)
        self._headers: list[tuple[int, Sequence[Header]]] = []
        self._layer_headers: list[Header] = []
        self._log = self._new_log()
        self._place = Place()
        self.key = "secrets:" + hashlib.sha256("\n".join(
            [hullguard.__version__, _source_hash(), repr(collector.matcher.rules),
             repr(collector.limits)]).encode()).hexdigest()[:32]

    def _new_log(self) -> _LayerLog:
        return _LayerLog(self.collector.matcher, limits=self.collector.limits)

    def start_layer(self, layer: Layer) -> None:
        self._log, self._place = self._new_log(), self._layer_place(layer)
        self._layer_headers = []
        self._headers.append((layer.index, self._layer_headers))

    def visit(self, entry: LayerEntry, layer: Layer) -> LayerEntry:
        self._layer_headers.append(header_of(entry.info))
        if entry.info.kind is not FileKind.FILE:
            return entry
        data = _read_for_scan(entry, self._log, self._place)
        return entry if data is None else MemoryEntry(entry.info, data)

    def end_layer(self, layer: Layer, warnings: list[str]) -> Any:
        summary = self._log.summary()
        self._restore(summary)
        return summary

    def replay(self, headers: Sequence[Header], summary: Any, layer: Layer) -> None:
        self._place = self._layer_place(layer)
        self._headers.append((layer.index, headers))
        self._restore(summary)

    @staticmethod
    def _layer_place(layer: Layer) -> Place:
        return Place(layer.index, str(layer.diff_id or ""), layer.created_by)

    def _restore(self, summary: Any) -> None:
        """Add one layer's findings to the image's, placed in this image's layer."""
        place, collector = self._place, self.collector
        for rule_id, secret, path, line in summary["matches"]:
            collector._add(self._rules[rule_id], base64.b64decode(secret), SecretLocation(
                path, line, place.layer_index, place.layer_diff_id, place.created_by,
                place.state))
        for path, reason, size in summary["skipped"]:
            collector.skip(path, reason, size, place)
        collector.warnings.extend(summary["warnings"])
        files, size, binaries = summary["counts"]
        collector.files, collector.size = collector.files + files, collector.size + size
        collector.binaries += binaries

    def finish(self) -> None:
        """Mark findings in files that later layers deleted or overwrote."""
        tree: list[FileTree] = []

        def state_of(path: str, index: int) -> FileState:
            if not tree:
                tree.append(FileTree())
                for layer_index, headers in self._headers:
                    for header in headers:
                        tree[0].apply_header(header, layer_index)
            return file_state(tree[0], path, index)

        self.collector.restate(state_of)


@functools.cache
def _source_hash() -> str:
    """The secret scanner's own version: a hash of its modules and rule file."""
    folder = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*folder.glob("*.py"), *folder.glob("*.yaml")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


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
