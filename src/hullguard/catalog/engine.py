"""The walk engine: every layer read once, each file offered to the extractors that want it.

After the walk the engine keeps only extractions whose file is still visible from the layer
it was read in (whiteouts and overrides remove the rest), decides the distro, gives OS
packages their distro PURLs, records the layer that introduced each package and marks
language packages that an OS package installed (``owned_by``).
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import hullguard
from hullguard.catalog.aliases import AliasEntry, aliased_files
from hullguard.catalog.api import Extraction, Extractor, FileOwnership, ScanInput
from hullguard.catalog.extractors._common import evidence_paths
from hullguard.catalog.extractors.osrelease import choose_distro
from hullguard.catalog.ospurl import os_purl
from hullguard.catalog.record import decode_extraction, encode_extraction
from hullguard.errors import HullguardError, IntegrityError, LimitExceeded
from hullguard.images.api import FileInfo, FileKind, ImageSource, LayerEntry, MemoryEntry
from hullguard.images.layercache import LayerCache
from hullguard.images.tree import FileTree, Header, Meta, meta_info
from hullguard.images.walk import Visitor, walk_layers
from hullguard.model import Distro, ImageInfo, Layer, Package, PluginStatus, Sbom, Status

Progress = Callable[[str], None]  # the same as hullguard.images.walk.Progress
MAX_SHARED_READ = 64 << 20  # a file several extractors want is read once into memory
MAX_WARNINGS = 1000
MAX_ERRORS_KEPT = 100  # per extractor; the count is always exact
_HitKey = tuple[str, str, int]  # extractor name, path, layer index


def catalog_source(source: ImageSource, *, extractors: Sequence[Extractor] | None = None,
                   on_progress: Progress | None = None, visitors: Sequence[Visitor] = (),
                   cache: LayerCache | None = None) -> Sbom:
    """Catalog an opened image: one pass over its layers (shared with ``visitors``, which see
    each entry first; layers recorded in ``cache`` are replayed), then the post-walk
    decisions."""
    if extractors is None:
        from hullguard.catalog.registry import default_extractors

        extractors = default_extractors()
    walk = _Walk(source.info, list(extractors))
    walk_layers(source, [*visitors, walk], cache=cache, on_progress=on_progress)
    walk.offer_aliases(source)
    return walk.finish()


def extractors_key(extractors: Sequence[Extractor]) -> str:
    """The catalog visitor's version: hullguard's, each extractor's name and version (when it
    has one) and a hash of its module's source, so a changed cataloger re-walks."""
    parts = [f"{ex.name}:{getattr(ex, 'version', '')}:{_module_hash(type(ex).__module__)}"
             for ex in extractors]
    own = [_module_hash(name) for name in (__name__, "hullguard.catalog.record",
                                           "hullguard.catalog.api", "hullguard.model.package")]
    text = "\n".join([hullguard.__version__, *own, *parts])
    return "catalog:" + hashlib.sha256(text.encode()).hexdigest()[:32]


@functools.cache
def _module_hash(name: str) -> str:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else name
    except OSError:
        return name


@dataclass
class _Tally:
    """One extractor's counters during the walk."""

    files: int = 0
    extracted: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)  # the first MAX_ERRORS_KEPT


class _Walk:
    def __init__(self, info: ImageInfo, extractors: list[Extractor]) -> None:
        self.info, self.extractors, self.tree = info, extractors, FileTree()
        self.hits: dict[_HitKey, Extraction] = {}
        self.extracted: set[_HitKey] = set()  # every file extracted, even with no result
        self.offered: set[_HitKey] = set()  # every file handed to an extractor
        self.tallies = {extractor.name: _Tally() for extractor in extractors}
        self.layers = {layer.index: layer for layer in info.layers}
        self.removed: set[tuple[str, int]] = set()  # (whiteout path, layer)
        self.opaque: set[tuple[str, int]] = set()  # (opaque directory, layer)
        self.walker_warnings: list[str] = []
        self.key = extractors_key(extractors)
        self._diff_id, self._failures = "", 0
        # a live layer's extractions in the order they happened: its record (None between
        # layers, so the alias pass after the walk records nothing)
        self._results: list[tuple[str, str, Extraction | None]] | None = None

    # -- the walk engine's visitor -------------------------------------------------------------

    def start_layer(self, layer: Layer) -> None:
        self.tree.start_layer(layer.index)
        self._diff_id = str(layer.diff_id) if layer.diff_id else ""
        self._failures = self._failure_count()
        self._results = []

    def visit(self, entry: LayerEntry, layer: Layer) -> LayerEntry:
        self._entry(entry, layer.index, self._diff_id)
        return entry

    def end_layer(self, layer: Layer, warnings: list[str]) -> Any:
        """The layer's record: every extraction in order (a file with nothing found as None).
        A layer where an extractor failed is not recorded (the error text names the image),
        so a replayed layer is one that gave no failure."""
        self.walker_warnings += warnings
        results, self._results = self._results, None
        if results is None or self._failure_count() != self._failures:
            return None
        return [[name, path, None if found is None else encode_extraction(found)]
                for name, path, found in results]

    def replay(self, headers: Sequence[Header], summary: Any, layer: Layer) -> None:
        """A recorded layer: its headers build the squashed view as a live walk's entries do,
        then its extractions come back in their order, as :meth:`_extract` made them (no
        extractor is asked again: each one's result for a file depends on that file alone)."""
        index, tree = layer.index, self.tree
        tree.start_layer(index)
        for header in headers:
            tree.apply_header(header, index)
            kind = header[1]
            if kind is FileKind.WHITEOUT:
                self.removed.add((header[0], index))
            elif kind is FileKind.OPAQUE:
                self.opaque.add((header[0], index))
        for name, path, found in summary:
            key = (name, path, index)
            self.offered.add(key)
            tally = self.tallies[name]
            tally.files += 1
            tally.extracted += 1
            self.extracted.add(key)
            if found is None:
                self.hits.pop(key, None)
            else:
                self.hits[key] = decode_extraction(found)

    def _failure_count(self) -> int:
        return sum(tally.failures for tally in self.tallies.values())

    def _entry(self, entry: LayerEntry, index: int, diff_id: str) -> None:
        info = entry.info
        self.tree.apply(info, index)
        if info.kind is FileKind.FILE:
            try:  # the hot path: one cheap call per extractor and file
                wanted = [ex for ex in self.extractors if ex.file_required(info)]
            except Exception:  # a broken plugin: ask again one by one, recording the failure
                wanted = [ex for ex in self.extractors if self._asks(ex, info)]
            if wanted:
                self._extract_all(wanted, entry, index, diff_id)
        elif info.kind is FileKind.WHITEOUT:
            self.removed.add((info.path, index))
        elif info.kind is FileKind.OPAQUE:
            self.opaque.add((info.path, index))

    def _deleted_in(self, path: str, index: int) -> bool:
        """Did layer ``index`` delete ``path`` (a whiteout of it or an ancestor, or an opaque
        ancestor directory)?"""
        if not self.removed and not self.opaque:
            return False
        ancestor = path
        while ancestor not in ("", "/"):
            parent = posixpath.dirname(ancestor)
            if (ancestor, index) in self.removed or (parent, index) in self.opaque:
                return True
            ancestor = parent
        return False

    def _asks(self, extractor: Extractor, info: FileInfo) -> bool:
        try:
            return extractor.file_required(info)
        except Exception as error:  # a broken plugin must not stop the walk
            self._failed(extractor.name, info.path, error)
            return False

    def _extract_all(self, wanted: list[Extractor], entry: LayerEntry, index: int,
                     diff_id: str) -> None:
        if len(wanted) > 1 and entry.info.size <= MAX_SHARED_READ:
            try:
                entry = MemoryEntry(entry.info, entry.read(MAX_SHARED_READ))
            except IntegrityError:
                raise  # the layer itself is broken: nothing from it may be kept
            except HullguardError as error:
                for extractor in wanted:
                    self._failed(extractor.name, entry.info.path, error)
                return
        elif len(wanted) > 1:  # too large to share: the stream goes to the first one only
            for extractor in wanted[1:]:
                self._failed(extractor.name, entry.info.path, LimitExceeded(
                    f"file is also wanted by {wanted[0].name} and too large to share"))
            wanted = wanted[:1]
        for extractor in wanted:
            self._extract(extractor, ScanInput(entry, index, diff_id))

    def _extract(self, extractor: Extractor, scan_input: ScanInput) -> None:
        self.offered.add((extractor.name, scan_input.path, scan_input.layer_index))
        tally = self.tallies[extractor.name]
        tally.files += 1
        try:
            extraction = extractor.extract(scan_input)
        except IntegrityError:
            raise  # a truncated or altered layer, not a plugin failure
        except Exception as error:  # any failure is this plugin's, recorded in its status
            self._failed(extractor.name, scan_input.path, error)
            return
        tally.extracted += 1
        key = (extractor.name, scan_input.path, scan_input.layer_index)
        self.extracted.add(key)
        found = None
        if extraction.packages or extraction.ownerships or extraction.distro or \
                extraction.warnings or extraction.license_evidence:
            found = self.hits[key] = _slim(extraction)  # a duplicate entry in one layer: last wins
        else:
            self.hits.pop(key, None)
        if self._results is not None:
            self._results.append((extractor.name, scan_input.path, found))

    def _failed(self, name: str, path: str, error: Exception) -> None:
        text = error.diagnostics() if isinstance(error, HullguardError) else \
            f"{type(error).__name__}: {error}"
        tally = self.tallies[name]
        tally.failures += 1
        if len(tally.errors) < MAX_ERRORS_KEPT:
            tally.errors.append(f"{path}: {text}")

    def offer_aliases(self, source: ImageSource) -> None:
        """Hand extractors the visible files they want under a path that reaches them
        through a directory symlink (``/lib/apk/db/installed`` stored at ``/usr/lib/...``):
        the runtime view. Only the layers holding such files are read again."""
        pending: dict[int, dict[str, list[tuple[str, Extractor]]]] = {}
        for path, meta, paths in aliased_files(self.tree):
            for alias in paths:
                wanted = self._alias_wanted(path, meta, alias)
                if wanted:
                    pending.setdefault(meta[0], {}).setdefault(path, []).extend(
                        (alias, extractor) for extractor in wanted)
        for index in sorted(pending):
            self._reread(source, self.layers[index], pending[index])

    def _alias_wanted(self, path: str, meta: Meta, alias: str) -> list[Extractor]:
        there = meta_info(alias, meta)
        try:  # the hot path again (tens of thousands of aliased files in merged-/usr trees)
            wanted = [ex for ex in self.extractors if ex.file_required(there)]
        except Exception:  # a broken plugin: ask one by one, recording the failure
            wanted = [ex for ex in self.extractors if self._asks(ex, there)]
        if not wanted:
            return wanted
        info, index = meta_info(path, meta), meta[0]
        return [ex for ex in wanted
                if (ex.name, alias, index) not in self.offered and not self._asks(ex, info)]

    def _reread(self, source: ImageSource, layer: Layer,
                wanted: dict[str, list[tuple[str, Extractor]]]) -> None:
        diff_id = str(layer.diff_id) if layer.diff_id else ""
        walker = source.walk_layer(layer)
        try:
            for entry in walker:
                targets = wanted.get(entry.info.path)
                if targets and entry.info.kind is FileKind.FILE:
                    self._extract_aliases(entry, targets, layer.index, diff_id)
        finally:
            walker.close()

    def _extract_aliases(self, entry: LayerEntry, targets: list[tuple[str, Extractor]],
                         index: int, diff_id: str) -> None:
        if len(targets) > 1:  # a walk entry is readable once
            try:
                entry = MemoryEntry(entry.info, entry.read(MAX_SHARED_READ))
            except IntegrityError:
                raise
            except HullguardError as error:
                for alias, extractor in targets:
                    self._failed(extractor.name, alias, error)
                return
        for alias, extractor in targets:
            self._extract(extractor, ScanInput(AliasEntry(entry, alias), index, diff_id))

    def finish(self) -> Sbom:
        visible = {key: ex for key, ex in self.hits.items() if self._still_visible(key)}
        found = {key[1]: ex.distro for key, ex in visible.items() if ex.distro}
        distro = choose_distro(found, self.tree.resolve)
        owners = _Owners(self.tree, (o for ex in visible.values() for o in ex.ownerships))
        licenses = {e.owner: e.licenses for ex in visible.values() for e in ex.license_evidence}
        packages = [self._finish(package, key, distro, owners, licenses)
                    for key, extraction in sorted(visible.items())
                    for package in extraction.packages]
        return Sbom(
            image=self.info, distro=distro, packages=tuple(packages),
            statuses=self._statuses(packages),
            warnings=_capped([*self.walker_warnings, *self.tree.warnings,
                              *self._warnings(visible)]),
            tool="hullguard", tool_version=hullguard.__version__,
        ).sorted()

    def _still_visible(self, key: _HitKey) -> bool:
        seen = self.tree.visible(key[1])
        if seen is None:  # the entry's parent path may pass through a symlink
            directory, _, base = key[1].rpartition("/")
            real = self.tree.resolve(directory or "/")
            seen = self.tree.visible(posixpath.join(real, base)) if real else None
        return seen is not None and seen[0] == key[2]

    def _finish(self, package: Package, key: _HitKey, distro: Distro | None,
                owners: _Owners, licenses: dict[str, tuple[str, ...]]) -> Package:
        index = self._introduced(package, key) if package.type.is_os else key[2]
        layer = self.layers.get(index)
        declared = package.licenses or licenses.get(f"{package.type.value}:{package.name}", ())
        return replace(
            package, purl=os_purl(package, distro), licenses=declared,
            introduced_by=str(layer.diff_id) if layer and layer.diff_id else "",
            created_by=layer.created_by if layer else "",
            owned_by="" if package.type.is_os else owners.owner_of(package),
        )

    def _introduced(self, package: Package, key: _HitKey) -> int:
        """The earliest layer of the unbroken run of versions of this database file that
        list the same name and version (an upgrade or a deletion breaks the run)."""
        name, path, start = key
        for earlier in range(key[2] - 1, -1, -1):
            if self._deleted_in(path, earlier + 1):
                break
            if (name, path, earlier) not in self.extracted:
                continue  # the file was not rewritten in that layer
            extraction = self.hits.get((name, path, earlier), Extraction())
            if not any((p.name, p.version) == (package.name, package.version)
                       for p in extraction.packages):
                break
            start = earlier
        return start

    def _statuses(self, packages: list[Package]) -> tuple[PluginStatus, ...]:
        counts: dict[str, int] = {}
        for package in packages:
            counts[package.cataloger] = counts.get(package.cataloger, 0) + 1
        return tuple(_status(name, tally, counts.get(name, 0))
                     for name, tally in self.tallies.items())

    def _warnings(self, visible: dict[_HitKey, Extraction]) -> list[str]:
        out = [f"{key[0]}: {text}" for key, ex in sorted(visible.items())
               for text in ex.warnings]
        out += [f"{name}: failed on {text}" for name, tally in self.tallies.items()
                for text in tally.errors]
        return out


def _status(name: str, tally: _Tally, packages: int) -> PluginStatus:
    if not tally.errors:
        return PluginStatus(name, Status.OK, tally.files, packages)
    state = Status.FAILED if tally.extracted == 0 else Status.PARTIAL
    shown = "; ".join(tally.errors[:3])
    more = f" (+{tally.failures - 3} more)" if tally.failures > 3 else ""
    return PluginStatus(name, state, tally.files, packages,
                        f"{tally.failures} error(s): {shown}{more}")


def _capped(warnings: list[str]) -> tuple[str, ...]:
    if len(warnings) <= MAX_WARNINGS:
        return tuple(warnings)
    dropped = len(warnings) - MAX_WARNINGS
    return (*warnings[:MAX_WARNINGS], f"... {dropped} more warnings not shown")


def _slim(extraction: Extraction) -> Extraction:
    if not extraction.ownerships:
        return extraction
    kept = tuple(FileOwnership(o.owner, evidence_paths(o.paths))
                 for o in extraction.ownerships)
    return replace(extraction, ownerships=kept)


class _Owners:
    """Path -> owning OS package, with owned paths canonicalized through directory symlinks
    (a merged-/usr image lists ``/bin/x`` in dpkg while the file lives at ``/usr/bin/x``)."""

    def __init__(self, tree: FileTree, ownerships: Iterable[FileOwnership]) -> None:
        self.tree = tree
        self._dirs: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        for ownership in ownerships:
            for path in ownership.paths:
                self.paths.setdefault(path, ownership.owner)
                self.paths.setdefault(self._canonical(path), ownership.owner)

    def _canonical(self, path: str) -> str:
        directory, _, base = path.rpartition("/")
        if directory not in self._dirs:
            self._dirs[directory] = self.tree.resolve(directory or "/") or directory
        resolved = self._dirs[directory]
        return posixpath.join(resolved, base)

    def owner_of(self, package: Package) -> str:
        return next((self.paths[loc.path] for loc in package.locations
                     if loc.path in self.paths), "")
