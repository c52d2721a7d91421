"""Typed access to untrusted JSON objects: a missing key gives the empty default, a value of
the wrong type is one :class:`InputError` naming the file and the JSON path."""

from __future__ import annotations

from typing import Any, NoReturn

from hullguard.errors import InputError


class Fields:
    """One JSON object of a document being read; ``where`` is the file, ``at`` the JSON path."""

    def __init__(self, data: Any, where: str, at: str = "$") -> None:
        self.where, self.at = where, at
        if not isinstance(data, dict):
            self.fail(f"expected an object, found {type(data).__name__}")
        self.data: dict[str, Any] = data

    def fail(self, message: str) -> NoReturn:
        raise InputError(f"{message} (at {self.at})", where=self.where)

    def _get(self, key: str, kinds: type | tuple[type, ...], default: Any) -> Any:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _tuple(kinds)):
            self.fail(f"{key!r} must be {_kind_name(kinds)}, found {type(value).__name__}")
        return value

    def string(self, key: str) -> str:
        return str(self._get(key, str, ""))

    def optional_string(self, key: str) -> str | None:
        value = self._get(key, str, None)
        return str(value) if value is not None else None

    def integer(self, key: str) -> int:
        return int(self._get(key, int, 0))

    def boolean(self, key: str) -> bool:
        return bool(self._get(key, bool, False))

    def obj(self, key: str) -> Fields:
        return Fields(self._get(key, dict, {}), self.where, f"{self.at}.{key}")

    def optional_obj(self, key: str) -> Fields | None:
        value = self._get(key, dict, None)
        return Fields(value, self.where, f"{self.at}.{key}") if value is not None else None

    def items(self, key: str) -> list[Any]:
        return list(self._get(key, list, []))

    def objects(self, key: str) -> list[Fields]:
        return [Fields(item, self.where, f"{self.at}.{key}[{index}]")
                for index, item in enumerate(self.items(key))]

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.items(key)
        if not all(isinstance(v, str) for v in values):
            self.fail(f"{key!r} must be a list of strings")
        return tuple(values)

    def pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        """A list of ``[name, value]`` string pairs."""
        values = self.items(key)
        if not all(isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)
                   for v in values):
            self.fail(f"{key!r} must be a list of [name, value] string pairs")
        return tuple((v[0], v[1]) for v in values)


def _tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _kind_name(kinds: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true/false", dict: "an object",
             list: "a list"}
    return " or ".join(names.get(kind, kind.__name__) for kind in _tuple(kinds))
