"""Frozen dataclasses of :mod:`hullguard.model` to plain JSON values and back, by their type
hints, so jobs and results can cross a process or a queue as JSON (never pickle).

Written here rather than taken from a library (pydantic, cattrs): the model is plain frozen
dataclasses of str/int/float/bool, enums, tuples and optionals, which forty lines cover,
and the CLI must not pay for a heavy import. Decoding is strict: a value of the wrong shape
is an :class:`~hullguard.errors.InputError`, never a half-built object.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from hullguard.errors import InputError
from hullguard.model.image import Digest

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """Dataclasses to dicts (every field), enums to their value, tuples to lists; a digest
    to its text (read back through :meth:`Digest.parse`, which checks it)."""
    if isinstance(value, Digest):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    return value


def from_plain(kind: type[T], data: Any, where: str = "job") -> T:
    """The inverse of :func:`to_plain` for a value of type ``kind``."""
    value: T = _decode(kind, data, where)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(kind: Any, data: Any, where: str) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        return _decode(next(a for a in args if a is not type(None)), data, where)
    if origin is tuple:
        _expect(data, list, where)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item, where) for item in data)
        if len(args) != len(data):
            raise InputError(f"expected {len(args)} items, got {len(data)}", where=where)
        return tuple(_decode(a, item, where) for a, item in zip(args, data, strict=True))
    if kind is Digest:
        _expect(data, str, where)
        return Digest.parse(data, where)
    if dataclasses.is_dataclass(kind):
        return _dataclass(kind, data, where)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(data)
        except ValueError:
            raise InputError(f"unknown {kind.__name__} {str(data)[:40]!r}", where=where) from None
    if kind is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    _expect(data, kind, where)
    return data


def _dataclass(kind: Any, data: Any, where: str) -> Any:
    _expect(data, dict, where)
    hints = _hints(kind)
    fields = {f.name for f in dataclasses.fields(kind) if f.init}
    unknown = set(data) - fields
    if unknown:
        raise InputError(f"unknown field {sorted(unknown)[0][:40]!r} of {kind.__name__}",
                         where=where)
    try:
        return kind(**{name: _decode(hints[name], value, f"{where}.{name}")
                       for name, value in data.items()})
    except TypeError as error:  # a required field is missing
        raise InputError(f"{kind.__name__}: {error}", where=where) from None


def _expect(data: Any, kind: Any, where: str) -> None:
    if kind is Any:
        return
    ok = isinstance(data, kind) and not (kind is int and isinstance(data, bool))
    if not ok:
        raise InputError(f"expected {getattr(kind, '__name__', kind)}, got "
                         f"{type(data).__name__}", where=where)
