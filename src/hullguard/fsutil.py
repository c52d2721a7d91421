"""Atomic file writes: a temp file beside the target, then a rename."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process umask (reading it means setting it: set 0, then put it back at once), for
    files made by mkstemp/mkdtemp (0600/0700) that should get the usual mode."""
    current = os.umask(0)
    os.umask(current)
    return current


def _is_special(path: Path) -> bool:
    """True for an existing target that is not a regular file (/dev/null, a FIFO, a tty)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a
    partial one; the mode is the usual 0666 & ~umask (mkstemp alone would give 0600).

    Devices and pipes (``-o /dev/null``, ``-o /dev/stdout``) are written in place: renaming a
    temp file over them would replace the device node with a regular file."""
    if _is_special(path):
        with open(path, "wb") as handle:
            handle.write(data)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    from hullguard.textsafe import escape_surrogates

    write_bytes_atomic(path, escape_surrogates(text).encode("utf-8"))


_OVER = "over the {0} limit (the byte limit for this kind of input)"


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a user-given input file: a regular file (``/dev/zero``, FIFOs and
    directories never end or are no input) of at most ``limit`` bytes. Every user-named
    input file (VEX, ignore rules, configs, SBOMs, YAML) is read through here, so a hostile
    path costs at most ``limit`` bytes of memory. InputError / LimitExceeded name the path."""
    from hullguard.errors import InputError, LimitExceeded

    where = str(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then judges the file
        # that was opened (no race between a check and the open)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise InputError("not a regular file", where=where)
            if info.st_size > limit:
                raise LimitExceeded(f"file is {info.st_size} bytes, {_OVER.format(limit)}",
                                    where=where)
            raw = handle.read(limit + 1)  # the file may grow after the stat
    except FileNotFoundError:
        raise InputError("file not found", where=where) from None
    except IsADirectoryError:
        raise InputError("not a regular file: a directory", where=where) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", where=where) from None
    if len(raw) > limit:
        raise LimitExceeded(f"file is {_OVER.format(limit)}", where=where)
    return raw
