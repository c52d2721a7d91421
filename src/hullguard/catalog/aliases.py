"""Files a cataloger must see under the path the running container uses, not the one the
layer stored them at.

A package database can be reached through a directory symlink: Alpine-derived images with
``/lib -> usr/lib`` store ``/usr/lib/apk/db/installed`` while apk and every scanner look at
``/lib/apk/db/installed``; merged-/usr and relocated databases (``/var/lib/rpm -> ../../usr/
lib/sysimage/rpm``) do the same. The walk offers each file under its stored path only, so
after the walk the engine asks this module which visible files an extractor wants under
another path that resolves to them (the runtime view), and re-reads just those.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from hullguard.images.api import FileKind, LayerEntry
from hullguard.images.tree import FileTree, Meta

MAX_ALIASES = 8  # paths per file: real trees have one or two directory links on a path
_ROUNDS = 3  # a link into a linked directory (lib -> usr/lib, usr/lib/apk -> /var/apk)


def aliased_files(tree: FileTree) -> Iterator[tuple[str, Meta, list[str]]]:
    """(path, meta, alias paths) of every visible regular file some directory symlink leads
    to (``meta``: its layer and header as the tree keeps them, see ``meta_info``). Aliases
    are worked out once per directory: an image has far fewer of those."""
    files: list[tuple[str, Meta]] = []
    links: dict[str, list[str]] = {}
    for path, meta in tree.iter_metas():
        if meta[1] is FileKind.FILE:
            files.append((path, meta))
        elif meta[1] is FileKind.SYMLINK:
            _add_link(tree, path, links)
    if not links:
        return
    by_directory: dict[str, list[str]] = {}
    for path, meta in files:
        directory, _, base = path.rpartition("/")
        found = by_directory.get(directory)
        if found is None:
            found = by_directory[directory] = aliases(directory, links)
        if found:
            yield path, meta, [f"{alias}/{base}" for alias in found]


def _add_link(tree: FileTree, path: str, links: dict[str, list[str]]) -> None:
    target = tree.resolve(path)
    found = tree.visible(target) if target else None
    if target and found and found[1].kind is FileKind.DIR and target != path:
        links.setdefault(target, []).append(path)


def aliases(path: str, links: dict[str, list[str]]) -> list[str]:
    """Other paths that reach ``path`` (a directory, or a file) through the directory symlinks
    in ``links`` (canonical directory -> the links that lead to it)."""
    found: list[str] = []
    frontier = [path]
    for _ in range(_ROUNDS):
        nxt = [alias for current in frontier for alias in _one_hop(current, links)
               if alias != path and alias not in found]
        found += nxt[:MAX_ALIASES - len(found)]
        if not nxt or len(found) >= MAX_ALIASES:
            break
        frontier = nxt
    return found


def _one_hop(path: str, links: dict[str, list[str]]) -> Iterator[str]:
    """``path`` with one of its ancestors (itself included) replaced by a link to it."""
    prefix = path
    while prefix:
        for link in links.get(prefix, ()):
            yield link + path[len(prefix):]
        prefix = prefix.rpartition("/")[0]


class AliasEntry:
    """A walk entry offered under the path the runtime sees it at."""

    __slots__ = ("_entry", "info")

    def __init__(self, entry: LayerEntry, path: str) -> None:
        self._entry, self.info = entry, replace(entry.info, path=path)

    def read(self, limit: int) -> bytes:
        return self._entry.read(limit)

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        return self._entry.chunks(size)
