"""Bounded loading of an untrusted JSON file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hullguard import jsonsafe
from hullguard.errors import InputError
from hullguard.fsutil import read_bounded

MAX_SBOM_BYTES = 512 << 20


def load_json_object(path: Path, limit: int = MAX_SBOM_BYTES) -> dict[str, Any]:
    """The top-level JSON object of ``path``; size and nesting bounded, errors name the file."""
    raw = read_bounded(path, limit)
    try:
        # The C decoder stops at the interpreter's recursion limit (~1000 levels): a bound on
        # nesting that costs nothing; real SBOMs nest a few dozen levels at most.
        data = jsonsafe.loads(raw, str(path))
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text: {error.reason}", where=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON: {error.msg} at line {error.lineno} column "
                         f"{error.colno}", where=str(path)) from None
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object, found {type(data).__name__}", where=str(path))
    return data

