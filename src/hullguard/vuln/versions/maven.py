"""Maven versions, ordered exactly like Maven's ``ComparableVersion`` (maven-artifact 3.8).

Own port because univers' MavenVersion disagrees with Maven 3.8.7 on ~5% of qualifier pairs
(measured against the real class, see tests/vuln/versions/test_maven.py). A version is a list
of items (integers, qualifiers, nested lists started by ``-`` or a digit/letter switch);
qualifiers order ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release <
sp < anything else (alphabetically)``; missing items compare as "null". Maven's order is not
transitive in a few exotic mixes (``1-alpha`` vs ``1.sp``), so the key holds an item object
with Maven's own comparison instead of a flat tuple; ordinary versions are totally ordered.
"""

from __future__ import annotations

from functools import total_ordering

from hullguard.vuln.versions.base import Key, KeyScheme, invalid

NAME = "maven"
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))
_INT, _STR, _LIST = 0, 1, 2


def _comparable_qualifier(value: str) -> str:
    # Maven compares these as *strings*: "7-foo" for unknown qualifiers sorts after "6" (sp).
    if value in _QUALIFIERS:
        return str(_QUALIFIERS.index(value))
    return f"{len(_QUALIFIERS)}-{value}"


Item = tuple[int, object]  # (_INT, int) | (_STR, comparable qualifier) | (_LIST, list[Item])


def _string_item(value: str, followed_by_digit: bool) -> Item:
    if followed_by_digit and len(value) == 1:
        value = _SHORT.get(value, value)
    return (_STR, _comparable_qualifier(_ALIASES.get(value, value)))


def _is_null(item: Item) -> bool:
    kind, value = item
    if kind == _INT:
        return value == 0
    if kind == _STR:
        return value == _RELEASE_INDEX
    return not value


def _normalize(items: list[Item]) -> None:
    """Drop trailing null items, stopping at the first non-null non-list (ListItem.normalize)."""
    for index in range(len(items) - 1, -1, -1):
        if _is_null(items[index]):
            del items[index]
        elif items[index][0] != _LIST:
            break


def _compare_null(item: Item) -> int:
    kind, value = item
    if kind == _INT:
        return 0 if value == 0 else 1
    if kind == _STR:
        return (value > _RELEASE_INDEX) - (value < _RELEASE_INDEX)  # type: ignore[operator]
    for child in value:  # type: ignore[attr-defined]
        result = _compare_null(child)
        if result:
            return result
    return 0


def _compare(left: Item | None, right: Item | None) -> int:
    if left is None:
        return 0 if right is None else -_compare_null(right)
    if right is None:
        return _compare_null(left)
    (lk, lv), (rk, rv) = left, right
    if lk != rk:
        order = {_STR: 0, _LIST: 1, _INT: 2}  # qualifier < list < integer
        return -1 if order[lk] < order[rk] else 1
    if lk == _LIST:
        for index in range(max(len(lv), len(rv))):  # type: ignore[arg-type]
            result = _compare(lv[index] if index < len(lv) else None,  # type: ignore[index,arg-type]
                              rv[index] if index < len(rv) else None)  # type: ignore[index,arg-type]
            if result:
                return result
        return 0
    return int((lv > rv) - (lv < rv))  # type: ignore[operator]


def _parse_item(is_digit: bool, text: str, followed_by_digit: bool = False) -> Item:
    if is_digit:
        return (_INT, int(text))
    return _string_item(text, followed_by_digit)


def _nest(current: list[Item], stack: list[list[Item]]) -> list[Item]:
    nested: list[Item] = []
    current.append((_LIST, nested))
    stack.append(nested)
    return nested


def _parse(version: str) -> Item:
    version = version.lower()
    root: list[Item] = []
    current, stack = root, [root]
    is_digit, start = False, 0
    for index, char in enumerate(version):
        if char in ".-":
            current.append((_INT, 0) if index == start else
                           _parse_item(is_digit, version[start:index]))
            start = index + 1
            if char == "-":
                current = _nest(current, stack)
        elif char.isdigit():
            if not is_digit and index > start:
                if current:  # Maven: treat ".X1" like "-X1" for a qualifier X
                    current = _nest(current, stack)
                current.append(_string_item(version[start:index], True))
                start = index
                current = _nest(current, stack)
            is_digit = True
        else:
            if is_digit and index > start:
                current.append(_parse_item(True, version[start:index]))
                start = index
                current = _nest(current, stack)
            is_digit = False
    if len(version) > start:
        if not is_digit and current:  # Maven: treat a trailing ".X" like "-X"
            current = _nest(current, stack)
        current.append(_parse_item(is_digit, version[start:]))
    while stack:
        _normalize(stack.pop())
    return (_LIST, root)


@total_ordering
class _MavenKey:
    __slots__ = ("item",)

    def __init__(self, item: Item) -> None:
        self.item = item

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _MavenKey) and _compare(self.item, other.item) == 0

    def __lt__(self, other: _MavenKey) -> bool:
        return _compare(self.item, other.item) < 0

    def __hash__(self) -> int:
        return hash(_canonical(self.item))


def _canonical(item: Item) -> str:
    kind, value = item
    if kind == _LIST:
        return "(" + ",".join(_canonical(i) for i in value) + ")"  # type: ignore[attr-defined]
    return f"{kind}:{value}"


def key(text: str) -> Key:
    text = text.strip()
    if any(c.isspace() for c in text) or not text.isprintable():
        raise invalid(NAME, text, "whitespace or control characters")
    return (_MavenKey(_parse(text)),)


SCHEME = KeyScheme(NAME, key)
