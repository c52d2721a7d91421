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

import posixpath
from collections.abc import Iterator
from dataclasses import replace

from hullguard.images.api import FileInfo, FileKind, LayerEntry
from hullguard.images.tree import FileTree

MAX_ALIASES = 8  # paths per file: real trees have one or two directory links on a path
_ROUNDS = 3  # a link into a linked directory (lib -> usr/lib, usr/lib/apk -> /var/apk)


def directory_links(tree: FileTree) -> dict[str, list[str]]:
    """Canonical directory -> the symlink paths that lead to it."""
    links: dict[str, list[str]] = {}
    for _layer, info in tree.iter_visible():
        if info.kind is FileKind.SYMLINK:
            target = tree.resolve(info.path)
            found = tree.visible(target) if target else None
            if target and found and found[1].kind is FileKind.DIR and target != info.path:
                links.setdefault(target, []).append(info.path)
    return links


def aliases(path: str, links: dict[str, list[str]]) -> list[str]:
    """Other paths that reach ``path`` through the directory symlinks in ``links``."""
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
    directory = posixpath.dirname(path)
    while directory not in ("", "/"):
        for link in links.get(directory, ()):
            yield link + path[len(directory):]
        directory = posixpath.dirname(directory)


def visible_files(tree: FileTree) -> Iterator[tuple[int, FileInfo]]:
    return ((layer, info) for layer, info in tree.iter_visible() if info.kind is FileKind.FILE)


class AliasEntry:
    """A walk entry offered under the path the runtime sees it at."""

    __slots__ = ("_entry", "info")

    def __init__(self, entry: LayerEntry, path: str) -> None:
        self._entry, self.info = entry, replace(entry.info, path=path)

    def read(self, limit: int) -> bytes:
        return self._entry.read(limit)

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        return self._entry.chunks(size)
