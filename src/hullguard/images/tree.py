"""The squashed filesystem view of an image, built layer by layer from walk entries.

Memory-light on purpose: the tree is a trie of plain dicts keyed by interned path components;
a file is one tuple ``(layer, kind, mode, size, linkname, uid, gid, mtime)``, a directory is a
two-item list ``[that tuple, {name: child}]``. FileInfo objects are made only on the way out.

Semantics follow the OCI image spec and containerd's applier:

* a whiteout ``.wh.NAME`` or an opaque marker hides only content of LOWER layers, even when it
  comes after its siblings in the same layer;
* an entry whose parent path passes through a symlink lands where the symlink points, resolved
  inside the image root (containerd's ``RootPath``), so ``link -> /`` then ``link/etc/x`` is
  ``/etc/x``, never a host path;
* a directory replaced by a non-directory loses its children; a non-directory in the way of a
  new child becomes a directory (with a warning);
* symlinks resolve chroot-style: absolute targets start at the image root, ``..`` at the root
  stays there, loops and more than 40 hops give None. The host filesystem is never touched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from hullguard.images.api import FileInfo, FileKind

MAX_HOPS = 40
MAX_WARNINGS = 200
_DIR, _SYMLINK, _HARDLINK = FileKind.DIR, FileKind.SYMLINK, FileKind.HARDLINK
_WHITEOUT, _OPAQUE = FileKind.WHITEOUT, FileKind.OPAQUE

Meta = tuple[int, FileKind, int, int, str, int, int, int]
# a FileInfo as a plain tuple, its fields in order (path, kind, mode, size, linkname, uid,
# gid, mtime): how a layer record keeps every entry's header (cheaper to make than FileInfo)
Header = tuple[str, FileKind, int, int, str, int, int, int]
Node = Meta | list[Any]  # a leaf, or [Meta, dict[str, Node]] for a directory
_intern = sys.intern


def _meta(info: FileInfo, layer: int) -> Meta:
    return (layer, info.kind, info.mode, info.size, info.linkname, info.uid, info.gid,
            info.mtime)


def _implicit_dir(layer: int) -> list[Any]:
    return [(layer, _DIR, 0o755, 0, "", 0, 0, 0), {}]


def header_of(info: FileInfo) -> Header:
    return (info.path, info.kind, info.mode, info.size, info.linkname, info.uid, info.gid,
            info.mtime)


def meta_info(path: str, meta: Meta) -> FileInfo:
    """The FileInfo of an entry :meth:`FileTree.iter_metas` gave."""
    return FileInfo(path, meta[1], meta[2], meta[3], meta[4], meta[5], meta[6], meta[7])


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


class FileTree:
    """The visible files of an image after applying layers 0..n in order."""

    def __init__(self) -> None:
        self._root: list[Any] = _implicit_dir(-1)
        self._layer = 0
        self._removed: dict[str, int] = {}  # path -> layer that removed it
        self._parent_cache: tuple[str, dict[str, Any]] | None = None
        self.warnings: list[str] = []

    def start_layer(self, index: int) -> None:
        """Entries applied from now on belong to layer ``index`` (layers go in order)."""
        self._layer = index
        self._parent_cache = None

    def _warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)

    # -- applying entries ---------------------------------------------------------------------

    def apply(self, info: FileInfo, layer_index: int) -> None:
        """Apply one walk entry of layer ``layer_index``."""
        self._apply(info.path, _meta(info, layer_index))

    def apply_header(self, header: Header, layer_index: int) -> None:
        """:meth:`apply` for an entry kept as a :data:`Header` (a replayed layer record)."""
        self._apply(header[0], (layer_index, *header[1:]))

    def _apply(self, path: str, meta: Meta) -> None:
        if meta[0] != self._layer:
            self.start_layer(meta[0])
        kind = meta[1]
        if path == "/":
            if kind is _DIR:
                self._root[0] = meta
            return
        slash = path.rfind("/")
        parent_path, name = path[:slash] or "/", _intern(path[slash + 1:])
        parent = self._parent(parent_path)
        if parent is None:
            self._warn(f"{path}: parent is a dangling or looping symlink; entry skipped")
            return
        if kind is _WHITEOUT:
            self._hide_lower(parent, name, parent_path, include_self=True)
        elif kind is _OPAQUE:
            self._opaque(parent, name, parent_path)
        else:
            self._put(parent, name, parent_path, path, meta)

    def _put(self, children: dict[str, Any], name: str, parent_path: str, path: str,
             meta: Meta) -> None:
        existing = children.get(name)
        if meta[1] is _DIR:
            if isinstance(existing, list):
                existing[0] = meta
                return
            children[name] = [meta, {}]
        else:
            if isinstance(existing, list):
                self._record_removed(existing, _join(parent_path, name))
                self._parent_cache = None
            if meta[1] is _HARDLINK and self.resolve(meta[4]) is None:
                self._warn(f"{path}: hard link to missing {meta[4]!r}")
            children[name] = meta

    def _parent(self, parent_path: str) -> dict[str, Any] | None:
        """The children dict of ``parent_path``, creating implicit directories and following
        symlinks inside the root; None if a symlink on the way dangles or loops."""
        cache = self._parent_cache
        if cache is not None and cache[0] == parent_path:
            return cache[1]
        node: list[Any] = self._root
        walked: list[str] = []
        for part in _split(parent_path):
            found = self._descend(node, part, walked)
            if found is None:
                return None
            node = found
        self._parent_cache = (parent_path, node[1])
        return node[1]  # type: ignore[no-any-return]

    def _descend(self, node: list[Any], part: str, walked: list[str]) -> list[Any] | None:
        children: dict[str, Any] = node[1]
        child = children.get(part)
        if isinstance(child, list):
            walked.append(part)
            return child
        if child is not None and child[1] is _SYMLINK:
            target = self.resolve("/" + "/".join([*walked, part]))
            found = self._lookup(target) if target else None
            if not isinstance(found, list) or target is None:
                return None
            walked[:] = _split(target)
            return found
        if child is not None:
            self._warn(f"{_join('/' + '/'.join(walked), part)}: not a directory but has "
                       "entries below it; replaced by a directory")
            self._record_removed(child, _join("/" + "/".join(walked), part))
        made = _implicit_dir(self._layer)
        children[_intern(part)] = made
        walked.append(part)
        return made

    def _hide_lower(self, children: dict[str, Any], name: str, parent_path: str,
                    include_self: bool) -> None:
        node = children.get(name)
        if node is None:
            return
        path = _join(parent_path, name)
        self._parent_cache = None
        if isinstance(node, list):
            self._prune(node, path)
            if include_self and node[0][0] < self._layer and not node[1]:
                self._removed[path] = self._layer
                del children[name]
        elif node[0] < self._layer:
            self._removed[path] = self._layer
            del children[name]

    def _opaque(self, children: dict[str, Any], name: str, parent_path: str) -> None:
        node = children.get(name)
        if node is None:  # opaque marker in a directory the layer did not list: make it
            children[name] = _implicit_dir(self._layer)
        elif isinstance(node, list):
            self._parent_cache = None
            self._prune(node, _join(parent_path, name))

    def _prune(self, node: list[Any], path: str) -> None:
        """Remove lower-layer content under a directory, keeping this layer's entries."""
        children: dict[str, Any] = node[1]
        for name in list(children):
            self._hide_lower(children, name, path, include_self=True)

    def _record_removed(self, node: Node, path: str) -> None:
        self._removed[path] = self._layer
        if isinstance(node, list):
            for name, child in node[1].items():
                self._record_removed(child, _join(path, name))

    # -- queries ------------------------------------------------------------------------------

    def _lookup(self, path: str) -> Node | None:
        node: Node = self._root
        for part in _split(path):
            if not isinstance(node, list):
                return None
            found = node[1].get(part)
            if found is None:
                return None
            node = found
        return node

    def visible(self, path: str) -> tuple[int, FileInfo] | None:
        """The layer and info of ``path`` as the image shows it (no symlinks followed;
        use :meth:`resolve` first for a path that may pass through one)."""
        node = self._lookup(path)
        if node is None:
            return None
        meta: Meta = node[0] if isinstance(node, list) else node
        clean = "/" + "/".join(_split(path))
        return meta[0], meta_info(clean, meta)

    def resolve(self, path: str) -> str | None:
        """The canonical path ``path`` leads to with every symlink followed inside the image
        root, or None if it does not exist, dangles, loops or takes more than 40 hops."""
        pending = _split(path)[::-1]
        walked: list[str] = []
        nodes: list[list[Any]] = [self._root]
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if walked:
                    walked.pop()
                    nodes.pop()
                continue
            current = nodes[-1]
            if not isinstance(current, list):
                return None
            child = current[1].get(part)
            if child is None:
                return None
            if not isinstance(child, list) and child[1] is _SYMLINK:
                hops += 1
                if hops > MAX_HOPS:
                    return None
                target: str = child[4]
                if target.startswith("/"):
                    walked, nodes = [], [self._root]
                pending.extend(_split(target)[::-1])
                continue
            walked.append(part)
            nodes.append(child)
        return "/" + "/".join(walked)

    def iter_visible(self) -> Iterator[tuple[int, FileInfo]]:
        """Every visible entry (directories included, the root excluded), parents first."""
        stack: list[tuple[str, dict[str, Any]]] = [("", self._root[1])]
        while stack:
            prefix, children = stack.pop()
            subdirs = []
            for name, node in children.items():
                path = f"{prefix}/{name}"
                if isinstance(node, list):
                    yield node[0][0], meta_info(path, node[0])
                    subdirs.append((path, node[1]))
                else:
                    yield node[0], meta_info(path, node)
            stack.extend(reversed(subdirs))

    def iter_metas(self) -> Iterator[tuple[str, Meta]]:
        """(path, meta) of every visible entry, without building a FileInfo each (a
        whole-tree pass, the catalog's symlink aliases, stays cheap on trees of a hundred
        thousand entries): ``meta`` is the
        ``(layer, kind, mode, size, linkname, uid, gid, mtime)`` tuple (:func:`meta_info`
        makes its FileInfo), for a pass that needs the headers of only some entries."""
        stack: list[tuple[str, dict[str, Any]]] = [("", self._root[1])]
        while stack:
            prefix, children = stack.pop()
            for name, node in children.items():
                path = f"{prefix}/{name}"
                if isinstance(node, list):
                    yield path, node[0]
                    stack.append((path, node[1]))
                else:
                    yield path, node

    def was_deleted(self, path: str, layer_index: int) -> bool:
        """True if ``path`` (seen in layer ``layer_index``) was removed by a later layer and
        is not visible now: a whiteout, an opaque directory or a type change hid it."""
        removed_in = self._removed.get("/" + "/".join(_split(path)))
        return (removed_in is not None and removed_in > layer_index
                and self._lookup(path) is None)

    def __len__(self) -> int:
        return sum(1 for _ in self.iter_visible())


def _join(parent: str, name: str) -> str:
    return f"{parent.rstrip('/')}/{name}"
