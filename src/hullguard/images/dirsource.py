"""``dir:PATH``: a root filesystem on disk, seen as one pseudo-layer.

The walk never leaves the root: directories are opened relative to their parent's file
descriptor with ``O_NOFOLLOW``, entries are ``lstat``-ed (symlinks are reported, never
followed), files are opened the same way, and a directory on another filesystem (``/proc``
under ``dir:/``) is listed but not entered, like ``find -xdev``. ``ImageInfo`` has no digests.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Generator, Iterator
from pathlib import Path

from hullguard.errors import InputError, LimitExceeded
from hullguard.images.api import FileInfo, FileKind
from hullguard.model import ImageInfo, Layer

MAX_DEPTH = 256
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_MAX_WARNINGS = 200


def _kind(mode: int) -> FileKind:
    if stat.S_ISREG(mode):
        return FileKind.FILE
    if stat.S_ISDIR(mode):
        return FileKind.DIR
    if stat.S_ISLNK(mode):
        return FileKind.SYMLINK
    return FileKind.OTHER


class DirEntry:
    """One file of the walk; content is read through the parent directory's descriptor."""

    __slots__ = ("_dir_fd", "_name", "_walker", "info")

    def __init__(self, walker: DirWalker, info: FileInfo, dir_fd: int, name: str) -> None:
        self._walker = walker
        self.info = info
        self._dir_fd = dir_fd
        self._name = name

    def _open(self) -> int:
        if self._walker.current is not self:
            raise RuntimeError("entry content is readable only while the walk is on it")
        if self.info.kind is not FileKind.FILE:
            return -1
        try:
            fd = os.open(self._name, _FILE_FLAGS, dir_fd=self._dir_fd)
        except OSError as exc:  # vanished, replaced by a symlink (ELOOP), no permission
            raise InputError(f"cannot read file: {exc.strerror or exc}",
                             where=f"{self._walker.where} {self.info.path}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since the scan
            os.close(fd)
            return -1
        return fd

    def read(self, limit: int) -> bytes:
        if self.info.size > limit:
            raise LimitExceeded(f"file is {self.info.size} bytes, over the {limit}-byte limit",
                                where=f"{self._walker.where} {self.info.path}")
        data = b"".join(self.chunks())
        if len(data) > limit:  # grew since the scan
            raise LimitExceeded(f"file grew past the {limit}-byte limit",
                                where=f"{self._walker.where} {self.info.path}")
        return data

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        fd = self._open()
        if fd < 0:
            return
        try:
            while data := os.read(fd, size):
                yield data
        finally:
            os.close(fd)


class DirWalker:
    """Iterator over the root's entries, parents first; ``warnings`` as for layer walks."""

    def __init__(self, root: Path, where: str) -> None:
        self.root = root
        self.where = where
        self.warnings: list[str] = []
        self.current: DirEntry | None = None
        self._gen = self._walk()

    def __iter__(self) -> DirWalker:
        return self

    def __next__(self) -> DirEntry:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()

    def _warn(self, message: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(f"{self.where}: {message}")

    def _walk(self) -> Generator[DirEntry, None, None]:
        try:
            root_fd = os.open(self.root, _DIR_FLAGS)
        except OSError as exc:
            raise InputError(f"cannot open the root: {exc.strerror or exc}",
                             where=self.where) from None
        device = os.fstat(root_fd).st_dev
        try:
            yield from self._directory(root_fd, "", device, 0)
        finally:
            self.current = None
            os.close(root_fd)

    def _directory(self, fd: int, prefix: str, device: int, depth: int) -> Iterator[DirEntry]:
        with os.scandir(fd) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        for item in entries:
            try:
                st = item.stat(follow_symlinks=False)
            except OSError as exc:
                self._warn(f"cannot stat {prefix}/{item.name}: {exc.strerror}")
                continue
            yield from self._emit(fd, prefix, item.name, st, device, depth)

    def _emit(self, fd: int, prefix: str, name: str, st: os.stat_result, device: int,
              depth: int) -> Iterator[DirEntry]:
        path = f"{prefix}/{name}"
        kind = _kind(st.st_mode)
        try:
            link = os.readlink(name, dir_fd=fd) if kind is FileKind.SYMLINK else ""
        except OSError as exc:
            self._warn(f"cannot read link {path}: {exc.strerror}")
            return
        info = FileInfo(path, kind, stat.S_IMODE(st.st_mode),
                        st.st_size if kind is FileKind.FILE else 0, link, st.st_uid, st.st_gid,
                        int(st.st_mtime))
        entry = self.current = DirEntry(self, info, fd, name)
        yield entry
        self.current = None
        if kind is FileKind.DIR:
            yield from self._subdirectory(fd, path, name, st, device, depth)

    def _subdirectory(self, fd: int, path: str, name: str, st: os.stat_result, device: int,
                      depth: int) -> Iterator[DirEntry]:
        if st.st_dev != device:
            self._warn(f"not entering {path}: another filesystem")
            return
        if depth >= MAX_DEPTH:
            self._warn(f"not entering {path}: deeper than {MAX_DEPTH} levels")
            return
        try:
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            self._warn(f"cannot open {path}: {exc.strerror}")
            return
        try:
            yield from self._directory(child, path, device, depth + 1)
        finally:
            os.close(child)


class DirImage:
    """A root filesystem directory as an image with one pseudo-layer and no digests."""

    def __init__(self, path: str) -> None:
        self.root = Path(path)
        self.where = f"dir:{os.path.abspath(path)}"  # stable whatever the cwd
        if not self.root.is_dir():
            raise InputError("not a directory", where=self.where,
                             hint="dir:PATH expects a root filesystem directory")
        layer = Layer(0, None, None, "", 0, self.where)
        self._info = ImageInfo(reference=self.where, source_kind="dir", layers=(layer,))

    @property
    def info(self) -> ImageInfo:
        return self._info

    def walk_layer(self, layer: Layer) -> DirWalker:
        if layer.index != 0:
            raise InputError(f"a dir: source has one layer, not {layer.index}",
                             where=self.where)
        return DirWalker(self.root, self.where)

    def close(self) -> None:
        """Nothing stays open between walks."""

    def __enter__(self) -> DirImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_dir(path: str) -> DirImage:
    return DirImage(path)
