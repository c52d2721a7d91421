"""Bounded loading of an untrusted JSON file."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from hullguard.errors import InputError, LimitExceeded

MAX_SBOM_BYTES = 512 << 20


def load_json_object(path: Path, limit: int = MAX_SBOM_BYTES) -> dict[str, Any]:
    """The top-level JSON object of ``path``; size and nesting bounded, errors name the file."""
    raw = _read_bounded(path, limit)
    try:
        data = json.loads(raw)
    except RecursionError:
        # The C decoder stops at the interpreter's recursion limit (~1000 levels): a bound on
        # nesting that costs nothing; real SBOMs nest a few dozen levels at most.
        raise LimitExceeded("JSON nested too deeply", where=str(path)) from None
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text: {error.reason}", where=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON: {error.msg} at line {error.lineno} column "
                         f"{error.colno}", where=str(path)) from None
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object, found {type(data).__name__}", where=str(path))
    return data


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError("not a regular file", where=str(path))
        if info.st_size > limit:
            raise LimitExceeded(f"file is {info.st_size} bytes, over the {limit} byte limit",
                                where=str(path))
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # the file may grow after stat
    except FileNotFoundError:
        raise InputError("file not found", where=str(path)) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", where=str(path)) from None
    if len(raw) > limit:
        raise LimitExceeded(f"file is over the {limit} byte limit", where=str(path))
    return raw
